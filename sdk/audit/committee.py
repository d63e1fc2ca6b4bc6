"""A procedure's committee, checked as a supplier's client checks it before sealing
(``sdk.key_checks.verify_committee``): its key material sane and hashing to its digest, each
member's keys the latest the key log holds for it, proved under a head the platform key
signed and bound by the member's own signature, and at least k distinct members'
confirmations over that digest. Read through the audit's source, so a recording keeps the
committee and every key-log answer, and the check runs again offline on them."""

import base64
import binascii
from collections.abc import Sequence
from typing import Any

from bidding import keys
from sdk import key_checks  # a module, not its names: sdk.key_checks imports sdk.audit
from sdk.audit.report import Check, failed, passed
from sdk.audit.sources import Params, PublicSource, Unavailable
from sdk.audit.transparency import LoggedEvent


def check_committee(
    source: PublicSource,
    ocid: str,
    platform_key: bytes | None,
    bid_log: Sequence[LoggedEvent] | None,
) -> Check:
    """``bid_log`` is the bid log's logged events, or None when the log lists no bid log."""
    subject = f"{ocid} committee"
    if bid_log is not None and any(e.type == "OpeningKeyIssued" for e in bid_log):
        return passed(subject, "bids sealed before committees (version 1): no key material")
    try:
        answer = source.get(f"/tenders/{ocid}/committee")
    except Unavailable as missing:
        if bid_log is None:
            return passed(subject, "no bid log: no committee named, no bid sealed to one")
        return failed(subject, f"the tender has a bid log but no committee is served: {missing}")
    if platform_key is None:
        return failed(subject, "the platform key is not known, so the key log cannot be checked")
    try:
        return passed(subject, verified_committee(answer, platform_key, source))
    except key_checks.KeyCheckFailed as problem:
        return failed(subject, str(problem))


def verified_committee(committee: Any, platform_key: bytes, source: PublicSource) -> str:
    """What verified, for a person; raises ``KeyCheckFailed`` saying what did not."""
    if not isinstance(committee, dict):
        raise key_checks.KeyCheckFailed("the committee's answer is not a JSON object")
    remembered = _Remembered(source)  # each key log is read once, for the check and the detail
    key_checks.verify_committee(committee, platform_key, remembered)
    material = committee["material"]
    members = [str(member["officer_id"]) for member in material["members"]]
    logged = [_logged_key(remembered, officer_id, platform_key) for officer_id in members]
    confirmed = _confirmed_by(committee, material)
    return (
        f"{material['threshold']} of {len(members)}, suite {material['suite']}, material"
        f" {committee['material_sha256']}; {len(confirmed)} confirmations verified"
        f" ({', '.join(confirmed)}); each member's keys are its latest logged, binding"
        f" signature valid: {'; '.join(logged)}"
    )


def _logged_key(source: PublicSource, officer_id: str, platform_key: bytes) -> str:
    latest = key_checks.party_key_log(source, officer_id, platform_key)[-1]
    signing = latest.public_keys()["signing_key"]
    return f"{officer_id} {latest.where}, signing key {keys.key_id(signing)}"


def _confirmed_by(committee: dict[str, Any], material: dict[str, Any]) -> list[str]:
    """The distinct members whose confirmation verifies over the material's digest."""
    signing = {str(m["officer_id"]): str(m["signing_key"]) for m in material["members"]}
    found: set[str] = set()
    for confirmation in committee.get("confirmations") or []:
        officer_id = str(confirmation.get("officer_id"))
        fields = {
            "ocid": material["ocid"],
            "officer_id": officer_id,
            "material_sha256": committee["material_sha256"],
        }
        try:
            key = base64.b64decode(signing.get(officer_id, ""), validate=True)
            signature = base64.b64decode(str(confirmation.get("signature")), validate=True)
        except binascii.Error:
            continue
        if key and keys.verify(key, signature, key_checks.CONFIRMATION_PURPOSE, fields):
            found.add(officer_id)
    return sorted(found)


class _Remembered:
    """A source that asks ``inner`` once per route and query."""

    def __init__(self, inner: PublicSource) -> None:
        self.inner = inner
        self.answers: dict[tuple[str, tuple[tuple[str, str], ...]], Any] = {}

    def get(self, path: str, params: Params | None = None) -> Any:
        query = tuple(sorted((k, str(v)) for k, v in (params or {}).items() if v is not None))
        if (path, query) not in self.answers:
            self.answers[path, query] = self.inner.get(path, params)
        return self.answers[path, query]
