"""A tender's timeline as the public reads it: one sentence per recorded public event.

Only the event types of ``entrypoints.portal.reads.PUBLIC_EVENTS`` (the events whose class says ``public = True``) reach here. Each sentence uses the
event's own fields, escaped; parties are named by their registered names where known.
"""

from collections.abc import Callable, Sequence
from typing import Any

from entrypoints.portal.html import money, text
from schemas.auction import AuctionCancelled, AuctionClosed, AuctionOpened, AuctionScheduled
from schemas.committee import CommitteeConfirmed, CommitteeNamed
from schemas.conditions_complaints import (
    ConditionsComplaintDismissed,
    ConditionsComplaintFiled,
    ConditionsComplaintUpheld,
)
from schemas.contracts import (
    ContractActivated,
    ContractAmended,
    ContractCompleted,
    ContractDrawn,
    ContractTerminated,
)
from schemas.documents import TenderDocumentPublished
from schemas.enquiries import EnquiryAnswered
from schemas.evaluation import (
    AwardAnnulled,
    AwardDecided,
    ComplaintDismissed,
    ComplaintFiled,
    ComplaintUpheld,
    ContractConcluded,
    LotCancelled,
    LotUnsuccessful,
    ProcedureCancelled,
)
from schemas.events import (
    BidLogSealed,
    BidsOpened,
    Envelope,
    TenderCancelled,
    TenderClosed,
    TenderDeadlineExtended,
    TenderDetailsAmended,
    TenderPublished,
    TenderRequirementsAmended,
    TenderUnsuccessful,
)

Names = dict[str, str]


def _lot(aggregate_id: str) -> str:
    """The lot of an auction, from its id ``<ocid>:auction:<lot>``."""
    return text(aggregate_id.rsplit(":", 1)[-1])


def sentence(item: Envelope, names: Names) -> str | None:
    """The event as one sentence of HTML, or None for an event the timeline does not show."""
    event: Any = item.event

    def who(party_id: str) -> str:
        return text(names.get(party_id, party_id))

    match event:
        case TenderPublished():
            return f"Published, with bids due by {text(event.submission_deadline.isoformat())}."
        case TenderDetailsAmended():
            return f"Title or description amended: {text(event.reason)}."
        case TenderRequirementsAmended():
            return f"Requirements amended: {text(event.reason)}."
        case TenderDeadlineExtended():
            rule = " (required by the rules after an amendment)" if event.required_by_rules else ""
            return (
                f"Deadline extended from {text(event.previous_deadline.isoformat())} to "
                f"{text(event.submission_deadline.isoformat())}{rule}: {text(event.reason)}."
            )
        case TenderCancelled():
            return f"Cancelled: {text(event.reason)}."
        case TenderClosed():
            return "The deadline passed: closed for bids."
        case TenderUnsuccessful():
            return f"Ended without an award: {text(event.reason)}."
        case TenderDocumentPublished() | EnquiryAnswered():
            return _document_or_answer(event)
        case CommitteeNamed():
            material = event.material
            return (
                f"Committee named: {material.threshold} of {len(material.members)} members "
                f"must act together to open the bids ({text(material.suite)}); no one holds "
                "a key that opens them."
            )
        case CommitteeConfirmed():
            return f"{text(event.confirmation.officer_id)} confirmed the committee's keys."
        case BidLogSealed():
            return (
                f"Bid log sealed with {event.tree_size} entries under the Merkle root "
                f'<span class="hash">{text(event.root)}</span>.'
            )
        case BidsOpened():
            matches = "matches" if event.log_matches_root else "DOES NOT match"
            return (
                f"Bids opened by {len(event.participants)} committee members: {event.opened} "
                f"opened, {event.rejected} rejected; the stored log {matches} the sealed root."
            )
        case _:
            return _after_opening(item, event, who)


def _document_or_answer(event: TenderDocumentPublished | EnquiryAnswered) -> str:
    """A document names its digest, so anyone can check the bytes they downloaded; an answer
    shows the question as asked, never who asked it."""
    if isinstance(event, EnquiryAnswered):
        return (
            f"Question answered: {text(event.title)}: {text(event.description)} "
            f"Answer: {text(event.answer)}"
        )
    said = (
        f"Document {text(event.title)}, version {event.version}, published with SHA-256 "
        f'<span class="hash">{text(event.sha256)}</span>'
    )
    if event.changes_requirements:
        said += "; it changes the requirements"
    return f"{said}: {text(event.reason)}." if event.reason else f"{said}."


def _after_opening(item: Envelope, event: Any, who: Callable[[str], str]) -> str | None:
    match event:
        case AuctionScheduled():
            return (
                f"Electronic auction of lot {text(event.lot_id)} scheduled for "
                f"{text(event.starts_at.isoformat())}, {len(event.participants)} bidders invited."
            )
        case AuctionOpened():
            return f"Auction of lot {_lot(item.aggregate_id)} opened."
        case AuctionClosed():
            return f"Auction of lot {_lot(item.aggregate_id)} closed ({text(event.reason)})."
        case AuctionCancelled():
            return f"Auction of lot {_lot(item.aggregate_id)} cancelled: {text(event.reason)}."
        case AwardDecided():
            return (
                f"Lot {text(event.lot_id)} awarded to {who(event.bidder_id)} for "
                f"{money(event.value.amount, event.value.currency)}; standstill until "
                f"{text(event.standstill_ends.isoformat())}."
            )
        case ComplaintFiled():
            return f"Complaint about lot {text(event.lot_id)} filed by {who(event.bidder_id)}."
        case ComplaintUpheld():
            return (
                f"Complaint about lot {text(event.lot_id)} upheld ({text(event.remedy)}): "
                f"{text(event.reason)}."
            )
        case ComplaintDismissed():
            return f"Complaint about lot {text(event.lot_id)} dismissed: {text(event.reason)}."
        case ConditionsComplaintFiled():
            return f"Complaint about the conditions filed by {who(event.supplier_id)}."
        case ConditionsComplaintUpheld():
            return (
                f"Complaint about the conditions upheld: {text(event.reason)}. The buyer must "
                "amend them significantly or cancel the tender."
            )
        case ConditionsComplaintDismissed():
            return f"Complaint about the conditions dismissed: {text(event.reason)}."
        case AwardAnnulled():
            return (
                f"Award of lot {text(event.lot_id)} to {who(event.bidder_id)} annulled: "
                f"{text(event.reason)}."
            )
        case LotUnsuccessful():
            return f"Lot {text(event.lot_id)} ended without an award: {text(event.reason)}."
        case ContractConcluded():
            return f"Contract {text(event.contract_id)} concluded for lot {text(event.lot_id)}."
        case LotCancelled():
            return f"Lot {text(event.lot_id)} cancelled: {text(event.reason)}."
        case ProcedureCancelled():
            return f"Procedure cancelled: {text(event.reason)}."
        case ContractDrawn():
            return (
                f"Contract {text(event.contract_id)} drawn for lot {text(event.lot_id)} with "
                f"{who(event.supplier_id)}, {money(event.value.amount, event.value.currency)}."
            )
        case ContractActivated():
            return f"Contract {text(item.aggregate_id)} signed by both parties: in force."
        case ContractAmended():
            return (
                f"Contract {text(item.aggregate_id)} amended to "
                f"{money(event.value.amount, event.value.currency)}: {text(event.reason)}."
            )
        case ContractCompleted():
            return f"Contract {text(item.aggregate_id)} completed: {text(event.reason)}."
        case ContractTerminated():
            return f"Contract {text(item.aggregate_id)} terminated: {text(event.reason)}."
    return None


def timeline(items: Sequence[Envelope], names: Names) -> str:
    """An ordered list of dated sentences, oldest first."""
    entries = []
    for item in items:
        described = sentence(item, names)
        if described is not None:
            when = text(item.occurred_at.isoformat(timespec="seconds"))
            entries.append(f'<li><time datetime="{when}">{when}</time>: {described}</li>')
    return f'<ol class="timeline">{"".join(entries)}</ol>'


def party_ids(items: Sequence[Envelope]) -> set[str]:
    """The suppliers the timeline names, to look their names up at once."""
    found = set()
    for item in items:
        for field in ("bidder_id", "supplier_id"):
            value = getattr(item.event, field, None)
            if isinstance(value, str):
                found.add(value)
    return found
