"""A client's checks of committee keys against the key log, before it seals anything to them.

The key log is the platform's transparency log (docs/transparency.md, "The key log"): each
event recording a committee member's keys is an entry, served with its document and its
inclusion proof under a signed head by ``GET /transparency/keys/{party_id}``. A client
trusts the platform key it pinned on first use, and nothing the server says alone:

- ``verify_committee``: a tender's committee key material (``GET /tenders/{ocid}/committee``)
  is sane, hashes to its digest, holds for each member the keys of its latest key entry,
  which is included under a head signed by the pinned key and bound by the member's own
  signature, and is confirmed by at least ``threshold`` distinct members;
- ``verify_material``: the same but the confirmations, for a member about to confirm;
- ``party_key_log``: a party's key entries, each verified (for ``procurement officer
  keys-check``, where a member compares them with the keys it holds);
- ``pin_platform_key``: trust on first use of the platform key, kept 0600 beside the key file.
"""

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapters import private_files
from bidding import keys, merkle
from sdk.audit.sources import PublicSource, Unavailable
from sdk.audit.transparency import check_platform_key

MATERIAL_PURPOSE = "procurement-committee-material/1"
CONFIRMATION_PURPOSE = "procurement-committee-confirmation/1"
HEAD_PURPOSE = "procurement-transparency-head/1"
SUITE_KEY_SIZES = {"x25519": 32, "mlkem768-x25519": 1216}  # the suite's public key, bytes
MIN_THRESHOLD, MAX_MEMBERS = 2, 20
OFFICER_ID = re.compile(r"[A-Za-z0-9][\w.:-]{0,99}")  # as schemas.values.Identifier
ENTRY_FIELDS = ("aggregate_id", "event_id", "event_sha256", "leaf_index", "recorded_at", "sequence", "type")  # fmt: skip


class KeyCheckFailed(Exception):
    """The keys did not verify; the message says exactly what did not, and for whom."""


@dataclass(frozen=True)
class KeyEntry:
    """A key entry whose inclusion under a signed head and whose document were verified."""

    leaf_index: int
    sequence: int
    type: str
    event: dict[str, Any]  # the event inside the document's envelope

    def public_keys(self) -> dict[str, bytes]:
        """Every key the entry records, by field: ``signing_key`` and ``*encryption_key``.
        A null field is a key not registered (a member without a hybrid key), so no key."""
        found = {}
        for name, value in self.event.items():
            if value is None:
                continue
            if name == "signing_key" or name.endswith("encryption_key"):
                found[name] = _b64(value, f"{self.where}: {name}")
        return found

    @property
    def where(self) -> str:
        return f"key entry {self.sequence} ({self.type}, leaf {self.leaf_index})"

    def binding_valid(self, party_id: str) -> bool:
        """The member's own signature (``procurement-committee-keys/1``, by the signing key
        the entry records) over its id and every key the entry records, in hex."""
        found = self.public_keys()
        fields: dict[str, Any] = {"officer_id": party_id}
        fields |= {name: key.hex() for name, key in found.items()}
        proof = self.event.get("proof")
        if not isinstance(proof, str) or "signing_key" not in found:
            return False
        signature = _b64(proof, f"{self.where}: proof")
        return keys.verify(found["signing_key"], signature, keys.COMMITTEE_KEYS, fields)


def verify_committee(committee: dict[str, Any], platform_key: bytes, source: PublicSource) -> None:
    """Raises ``KeyCheckFailed`` unless the committee's key material may be sealed to."""
    material, digest = verify_material(committee, platform_key, source)
    _confirmed(committee, material, digest)


def verify_material(
    committee: dict[str, Any], platform_key: bytes, source: PublicSource
) -> tuple[dict[str, Any], str]:
    """The material and its digest, once every member's keys in it are its keys in the key
    log: what a member checks before confirming (confirmations are not counted here)."""
    material, digest = _material(committee)
    for member in material["members"]:
        _member_matches_the_log(member, material["suite"], platform_key, source)
    return material, digest


def party_key_log(source: PublicSource, party_id: str, platform_key: bytes) -> list[KeyEntry]:
    """Every key entry of ``party_id``, in log order, each verified: the head it is proved
    under signed by ``platform_key``, its leaf hash, its inclusion, its document's digest."""
    found: list[KeyEntry] = []
    params: dict[str, str | int | None] = {}
    while True:
        try:
            answer = source.get(f"/transparency/keys/{party_id}", params)
            root, size = _head(answer["head"], platform_key)
            found += [_entry(party_id, item, root, size) for item in answer["entries"]]
        except Unavailable as error:
            raise KeyCheckFailed(f"{party_id}: the key log cannot be read: {error}") from error
        except (KeyError, TypeError, ValueError) as error:
            msg = f"{party_id}: the key log's answer is malformed ({error!r})"
            raise KeyCheckFailed(msg) from error
        following = answer.get("next_after")
        if following is None:
            return found
        params = {"after": int(following)}


def _head(head: Any, platform_key: bytes) -> tuple[bytes, int]:
    size = int(head["tree_size"])
    fields: dict[str, Any] = {"root": str(head["root"]), "timestamp": str(head["timestamp"])}
    fields["tree_size"] = size
    signature = _b64(head["signature"], "the head's signature")
    if head.get("key_id") != keys.key_id(platform_key) or not keys.verify(
        platform_key, signature, HEAD_PURPOSE, fields
    ):
        msg = (
            f"the key log's signed head (tree size {size}) is not signed by the"
            f" pinned platform key {keys.key_id(platform_key)}: head signature does not verify"
        )
        raise KeyCheckFailed(msg)
    return bytes.fromhex(fields["root"]), size


def _entry(party_id: str, item: Any, root: bytes, size: int) -> KeyEntry:
    entry = {name: item["entry"][name] for name in ENTRY_FIELDS}
    where = f"{party_id}: key entry {entry['sequence']} (leaf {entry['leaf_index']})"
    leaf = merkle.leaf_hash(keys.canonical_json(entry))
    path = [bytes.fromhex(h) for h in item["audit_path"]]
    if entry["aggregate_id"] != party_id:
        raise KeyCheckFailed(f"{where} is an entry of {entry['aggregate_id']}, not of {party_id}")
    if not merkle.verify_inclusion(leaf, int(entry["leaf_index"]), size, path, root):
        raise KeyCheckFailed(f"{where} is not included under the signed head of {size} entries")
    document = item.get("document")
    if not isinstance(document, dict):
        raise KeyCheckFailed(f"{where}: its document is not served")
    digest = hashlib.sha256(keys.canonical_json(document)).hexdigest()
    if digest != entry["event_sha256"] or any(
        document.get(name) != entry[name]
        for name in ("aggregate_id", "event_id", "sequence", "type", "recorded_at")
    ):
        raise KeyCheckFailed(f"{where}: its document is not the one the log committed to")
    payload = document.get("payload") or {}
    event = payload.get("event") if isinstance(payload, dict) else None
    if not isinstance(event, dict) or event.get("officer_id", party_id) != party_id:
        raise KeyCheckFailed(f"{where}: its document records no keys of {party_id}")
    return KeyEntry(int(entry["leaf_index"]), int(entry["sequence"]), str(entry["type"]), event)


def _material(committee: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The material, sane and hashing to its digest."""
    try:
        material = committee["material"]
        suite, threshold, members = material["suite"], material["threshold"], material["members"]
        ids = [str(member["officer_id"]) for member in members]
    except (KeyError, TypeError) as error:
        raise KeyCheckFailed(f"the committee's key material is malformed ({error})") from error
    if material.get("purpose") != MATERIAL_PURPOSE or material.get("ocid") != committee.get("ocid"):
        msg = f"the key material is not {MATERIAL_PURPOSE} of tender {committee.get('ocid')}"
        raise KeyCheckFailed(msg)
    if suite not in SUITE_KEY_SIZES:
        known = ", ".join(SUITE_KEY_SIZES)
        raise KeyCheckFailed(f"the key material's suite {suite!r} is not one known ({known})")
    n = len(members)
    if not isinstance(threshold, int) or not MIN_THRESHOLD <= threshold <= n <= MAX_MEMBERS:
        msg = f"threshold {threshold} of {n} members: 2 <= threshold <= members <= 20 is required"
        raise KeyCheckFailed(msg)
    if ids != sorted(set(ids)):
        raise KeyCheckFailed(f"the members are not distinct and sorted by officer_id: {ids}")
    if not all(OFFICER_ID.fullmatch(officer_id) for officer_id in ids):
        raise KeyCheckFailed(f"a member's officer_id is not an identifier: {ids}")
    for name in ("encryption_key", "signing_key"):
        held = [str(member.get(name)) for member in members]
        if len(set(held)) != len(held):
            raise KeyCheckFailed(f"two members hold the same {name}: one holder, two seats")
    digest = hashlib.sha256(keys.canonical_json(material)).hexdigest()
    if committee.get("material_sha256") != digest:
        msg = f"material_sha256 {committee.get('material_sha256')} is not the material's {digest}"
        raise KeyCheckFailed(msg)
    return material, digest


def _member_matches_the_log(
    member: dict[str, Any], suite: str, platform_key: bytes, source: PublicSource
) -> None:
    officer_id = str(member["officer_id"])
    encryption = _b64(member.get("encryption_key"), f"{officer_id}'s encryption key")
    signing = _b64(member.get("signing_key"), f"{officer_id}'s signing key")
    logged = party_key_log(source, officer_id, platform_key)
    if not logged:
        raise KeyCheckFailed(f"{officer_id}: the key log holds no key entry for this member")
    latest = logged[-1]
    held = latest.public_keys()
    if len(encryption) != SUITE_KEY_SIZES[suite]:
        raise KeyCheckFailed(f"{officer_id}'s encryption key is not a {suite} public key")
    if encryption not in [k for name, k in held.items() if name != "signing_key"]:
        msg = (
            f"{officer_id}'s encryption key in the material ({keys.key_id(encryption)}) is not"
            f" the one the key log holds for it ({latest.where}): a substituted key"
        )
        raise KeyCheckFailed(msg)
    if held.get("signing_key") != signing:
        msg = (
            f"{officer_id}'s signing key in the material ({keys.key_id(signing)}) is not the"
            f" one the key log holds for it ({latest.where}): a substituted key"
        )
        raise KeyCheckFailed(msg)
    if not latest.binding_valid(officer_id):
        msg = f"{officer_id}: the key binding signature of {latest.where} does not verify"
        raise KeyCheckFailed(msg)


def _confirmed(committee: dict[str, Any], material: dict[str, Any], digest: str) -> None:
    """At least ``threshold`` distinct members signed a confirmation of this digest."""
    signing = {m["officer_id"]: _b64(m["signing_key"], "signing key") for m in material["members"]}
    valid: set[str] = set()
    problems = []
    for confirmation in committee.get("confirmations") or []:
        officer_id = str(confirmation.get("officer_id"))
        fields = {"ocid": material["ocid"], "officer_id": officer_id, "material_sha256": digest}
        try:
            signature = base64.b64decode(str(confirmation.get("signature")), validate=True)
        except binascii.Error:
            signature = b""
        if officer_id not in signing:
            problems.append(f"{officer_id} is not a member")
        elif not keys.verify(signing[officer_id], signature, CONFIRMATION_PURPOSE, fields):
            problems.append(f"{officer_id}'s confirmation is not over material {digest}")
        else:
            valid.add(officer_id)
    if len(valid) < material["threshold"]:
        count = f"{len(valid)} valid confirmation{'' if len(valid) == 1 else 's'}"
        why = f" ({'; '.join(problems)})" if problems else ""
        msg = f"{count} of distinct members, fewer than threshold {material['threshold']}{why}"
        raise KeyCheckFailed(msg)


# The platform key, pinned on first use


def platform_key_file(key_file: Path) -> Path:
    """Where the client keeps the platform key it pinned: beside its key file."""
    return key_file.with_name(f"{key_file.name}.platform-key.json")


def pin_platform_key(state_file: Path, key: bytes) -> bytes:
    """``key`` if it is the key pinned in ``state_file`` (kept there, 0600, on first use);
    raises ``KeyCheckFailed`` if another key was pinned."""
    try:
        pinned = json.loads(state_file.read_text())["public_key"]
    except FileNotFoundError:
        body = {"public_key": base64.b64encode(key).decode(), "key_id": keys.key_id(key)}
        private_files.directory(state_file.parent)
        private_files.replace(state_file, json.dumps(body, indent=2).encode())
        return key
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise KeyCheckFailed(f"{state_file} is not a pinned platform key ({error})") from error
    if _b64(pinned, str(state_file)) != key:
        msg = (
            f"platform key changed: {state_file} pinned {keys.key_id(_b64(pinned, ''))} on first"
            f" use, the platform now serves {keys.key_id(key)}; if the platform really changed"
            " its key, check the new one with it out of band, then remove that file"
        )
        raise KeyCheckFailed(msg)
    return key


def served_platform_key(source: PublicSource) -> bytes:
    """The Ed25519 key ``GET /platform/keys`` serves (its key id checked), to pin."""
    try:
        check, public = check_platform_key(source.get("/platform/keys"))
    except Unavailable as error:
        raise KeyCheckFailed(f"the platform key cannot be read: {error}") from error
    if public is None:
        raise KeyCheckFailed(f"{check.subject}: {check.detail}")
    return public


def _b64(value: Any, what: str) -> bytes:
    try:
        return base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError) as error:
        raise KeyCheckFailed(f"{what} is not base64") from error
