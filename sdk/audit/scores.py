"""Each committee member's quality scores, checked against the member's signature.

A member signs, with the committee key registered on the platform (public at
``GET /officers/{id}/committee-keys``), the canonical JSON (``bidding.keys``) of
``{"bid_id", "criterion_id", "lot_id", "ocid", "officer_id", "purpose":
"procurement-quality-score/1", "revision", "score"}``, the score written as a string with
two decimals ("87.50"), so 87.5 and 87.50 sign the same bytes.
"""

import base64
import binascii
from decimal import Decimal
from typing import Any

from bidding import keys
from sdk.audit.model import DecidedLot, Score
from sdk.audit.report import Check, outcome

QUALITY_SCORE = "procurement-quality-score/1"
_CENT = Decimal("0.01")


def score_fields(ocid: str, lot_id: str, bid_id: str, score: Score) -> dict[str, Any]:
    return {
        "ocid": ocid,
        "lot_id": lot_id,
        "bid_id": bid_id,
        "criterion_id": score.criterion_id,
        "officer_id": score.officer_id,
        "score": str(score.score.quantize(_CENT)),
        "revision": score.revision,
    }


def check_scores(lot: DecidedLot, registered: dict[str, str | None] | None = None) -> Check:
    """Every score's signature verifies with the member's key; with ``registered`` (officer id
    -> the committee signing key the platform publishes, base64), that key is the member's."""
    problems, count = [], 0
    criteria = {criterion.criterion_id for criterion in lot.rules.criteria}
    for bid in lot.bids:
        for score in bid.scores:
            count += 1
            what = (
                f"{score.officer_id}'s score {score.score} of {score.criterion_id} for {bid.bid_id}"
            )
            if score.criterion_id not in criteria:
                problems.append(f"{what}: the rules have no criterion {score.criterion_id}")
            if score.signing_key is None:
                problems.append(f"{what}: no signing key is given to check its signature")
                continue
            if registered is not None and registered.get(score.officer_id) != score.signing_key:
                problems.append(
                    f"{what}: signed with {score.signing_key}, not the committee key the "
                    f"platform publishes for {score.officer_id} ({registered.get(score.officer_id)})"
                )
            fields = score_fields(lot.ocid, lot.lot_id, bid.bid_id, score)
            if not _verifies(score.signing_key, score.signature, fields):
                problems.append(f"{what}: the signature does not verify with the member's key")
    members = len({s.officer_id for bid in lot.bids for s in bid.scores})
    if not criteria and not count:
        return outcome(f"{lot.ocid} lot {lot.lot_id}: quality scores", [], "priceOnly: no scores")
    verified = f"{count} signed scores by {members} members verified"
    return outcome(f"{lot.ocid} lot {lot.lot_id}: quality scores", problems, verified)


def _verifies(key: str, signature: str, fields: dict[str, Any]) -> bool:
    try:
        raw_key = base64.b64decode(key, validate=True)
        raw_signature = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        return False
    return keys.verify(raw_key, raw_signature, QUALITY_SCORE, fields)
