"""Bids after a significant amendment: a bid sent before the tender's requirements changed
is opened only if its bidder reconfirms it, or replaces it, before the deadline
(Directive 2014/24/EU Article 47(3): the extended deadline lets every bidder take the change
into account; ProZorro marks such bids ``invalid`` until their bidder confirms them).

The amendment is named by ``requirements_sha256``, the SHA-256 of the canonical JSON of the
requirements as amended: anyone recomputes it from the tender's public event, and the
bidder's signature binds its reconfirmation to exactly those requirements. A document
published as changing the requirements (``TenderDocumentPublished`` with
``changes_requirements``) is the same kind of amendment: its digest is that of the canonical
JSON of the requirements' digest and the document's id, version and SHA-256
(``document_change_sha256``), so the signature binds the reconfirmation to the very bytes
of the new document as well. Pure.
"""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bidding import keys
from bidding.log import BidLog, bid_must_be_timely, bidder_must_act_for_itself
from procurement.errors import Rejected, WrongState
from schemas.bids import Receipt
from schemas.commands import Actor
from schemas.reconfirmations import BidReconfirmation, BidReconfirmed, ReconfirmationRequested
from schemas.values import Requirements

RECONFIRMATION = "procurement-bid-reconfirmation/1"


@dataclass(frozen=True)
class Awaited:
    """A bidder's current bid, waiting for its bidder to reconfirm it after an amendment."""

    bid_id: str
    version: int
    requirements_sha256: str


def requirements_sha256(requirements: Requirements) -> str:
    return hashlib.sha256(keys.canonical_json(requirements.model_dump(mode="json"))).hexdigest()


def document_change_sha256(
    requirements: Requirements, document_id: str, version: int, document_sha256: str
) -> str:
    """What a bid is reconfirmed against after a document that changes the requirements."""
    named = {
        "requirements_sha256": requirements_sha256(requirements),
        "document": {"id": document_id, "version": version, "sha256": document_sha256},
    }
    return hashlib.sha256(keys.canonical_json(named)).hexdigest()


def reconfirmation_fields(
    ocid: str, bidder_id: str, bid_id: str, requirements_digest: str
) -> dict[str, Any]:
    return {
        "ocid": ocid,
        "bidder_id": bidder_id,
        "bid_id": bid_id,
        "requirements_sha256": requirements_digest,
    }


def reconfirm_bid(
    ocid: str, bidder_id: str, bid_id: str, requirements_digest: str, key: Ed25519PrivateKey
) -> BidReconfirmation:
    """On the bidder's machine: its signed word that bid ``bid_id`` stands."""
    fields = reconfirmation_fields(ocid, bidder_id, bid_id, requirements_digest)
    return BidReconfirmation(**fields, signature=keys.sign(key, RECONFIRMATION, fields))


def reconfirmation_signature_valid(item: BidReconfirmation, bidder_key: bytes) -> bool:
    fields = reconfirmation_fields(item.ocid, item.bidder_id, item.bid_id, item.requirements_sha256)
    return keys.verify(bidder_key, item.signature, RECONFIRMATION, fields)


def request_reconfirmation(
    current: Iterable[Receipt], digest: str, reason: str
) -> list[ReconfirmationRequested]:
    """Every current bid (each bidder's latest entry, if a bid) must be reconfirmed against
    the amendment named by ``digest``."""
    return [
        ReconfirmationRequested(
            bidder_id=receipt.bidder_id,
            bid_id=receipt.bid_id,
            version=receipt.version,
            requirements_sha256=digest,
            reason=reason,
        )
        for receipt in sorted(current, key=lambda receipt: (receipt.received_at, receipt.bid_id))
        if receipt.kind == "bid"
    ]


def awaiting(requested: ReconfirmationRequested) -> Awaited:
    return Awaited(requested.bid_id, requested.version, requested.requirements_sha256)


def reconfirm(
    log: BidLog | None,
    awaited: Awaited | None,
    receipt: Receipt | None,
    item: BidReconfirmation,
    actor: Actor,
    received_at: datetime,
    signature_valid: bool,
) -> list[BidReconfirmed]:
    """Decide a reconfirmation: ``awaited`` is what the bidder must reconfirm (None:
    nothing), ``receipt`` its current bid's receipt."""
    bidder_must_act_for_itself(actor, item.bidder_id)
    log = bid_must_be_timely(log, item.ocid, received_at)
    awaited = bid_must_await_reconfirmation(awaited, item)
    reconfirmation_must_name_the_latest_amendment(awaited, item)
    assert receipt is not None
    assert receipt.bid_id == awaited.bid_id
    bid_must_offer_only_for_the_tenders_lots(log, receipt)
    if not signature_valid:
        msg = f"the signature is not {item.bidder_id}'s registered key's over this reconfirmation"
        raise Rejected(msg, code="invalid_signature")
    return [
        BidReconfirmed(
            bidder_id=item.bidder_id,
            bid_id=item.bid_id,
            version=awaited.version,
            requirements_sha256=item.requirements_sha256,
            signature=item.signature,
            received_at=received_at,
        )
    ]


def bid_must_await_reconfirmation(awaited: Awaited | None, item: BidReconfirmation) -> Awaited:
    if awaited is None:
        msg = (
            f"{item.bidder_id} has no bid in {item.ocid} waiting for reconfirmation: a bid sent"
            " or reconfirmed after the last amendment of the requirements stands as it is"
        )
        raise WrongState(msg, code="nothing_to_reconfirm")
    if awaited.bid_id != item.bid_id:
        msg = (
            f"bid {item.bid_id} is not {item.bidder_id}'s current bid in {item.ocid};"
            f" reconfirm {awaited.bid_id}"
        )
        raise WrongState(msg, code="not_the_current_bid")
    return awaited


def reconfirmation_must_name_the_latest_amendment(
    awaited: Awaited, item: BidReconfirmation
) -> None:
    if awaited.requirements_sha256 != item.requirements_sha256:
        msg = (
            f"the requirements of {item.ocid} are now those with digest"
            f" {awaited.requirements_sha256}, not {item.requirements_sha256}: read the tender"
            " again and reconfirm against its latest amendment"
        )
        raise WrongState(msg, code="not_the_latest_amendment")


def bid_must_offer_only_for_the_tenders_lots(log: BidLog, receipt: Receipt) -> None:
    gone = sorted(set(receipt.lots) - log.lots)
    if gone:
        msg = (
            f"bid {receipt.bid_id} offers for lots {gone}, which the amended tender no longer"
            " has: send a new version for its lots instead"
        )
        raise Rejected(msg, code="unknown_lot")
