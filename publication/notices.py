"""What each party is told, from every package's messages: one place that maps a stored
event to its notices, for the inboxes, their Atom feeds and the e-mail.

The domain packages say what an event tells whom (``procurement.evaluation.messages``,
``bidding.messages``). Some events name nobody, and are told here to the procedure's
parties, which the read model finds in the store (``Parties``):

- a cancellation (tender, procedure or lot) reaches every tenderer of what was cancelled,
  with its reason (Directive 2014/24/EU Article 55(1): tenderers are told the grounds of a
  decision not to award, or to recommence the procedure);
- a complaint reaches the buyer, whose lot is suspended until the review body rules
  (Directive 89/665/EEC Article 2(3));
- a bidder's answer to a clarification or justification request reaches the buyer;
- a lot or a tender that ends unsuccessful reaches its tenderers, with the reason
  (Directive 2014/24/EU Article 55(1)).

Others need what their aggregate knew before them (``Before``): the review body's decision
on a complaint reaches the complainant, the buyer and the awarded bidder (Directive
89/665/EEC Article 2(7) and 2(3)), and an answered question its asker, whom the public
answer never names.

A notice to the buyer is addressed to its agency: each of its officers reads it. Pure: the
read model (``readmodels.notices``) does the I/O.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from bidding import messages as bid_messages
from procurement import enquiry_messages
from procurement.enquiries import Clarifications
from procurement.evaluation import Evaluation
from procurement.evaluation import messages as evaluation_messages
from schemas.bids import Receipt
from schemas.evaluation import (
    ClarificationAnswered,
    ComplaintFiled,
    JustificationSubmitted,
    LotCancelled,
    LotUnsuccessful,
    ProcedureCancelled,
)
from schemas.events import Envelope, Event, TenderCancelled, TenderUnsuccessful

# The events whose notices go to the procedure's parties; the others name their recipients.
NEEDS_PARTIES = frozenset(
    {
        "TenderCancelled",
        "ProcedureCancelled",
        "LotCancelled",
        "ComplaintFiled",
        "ClarificationAnswered",
        "JustificationSubmitted",
        "LotUnsuccessful",
        "TenderUnsuccessful",
    }
)

# The events whose notices need their aggregate's state before them (``Before``).
NEEDS_EVALUATION = frozenset({"ComplaintUpheld", "ComplaintDismissed"})
NEEDS_CLARIFICATIONS = frozenset({"EnquiryAnswered"})


@dataclass(frozen=True)
class Parties:
    """A procedure's buyer (an agency id), and the suppliers with a bid standing in its bid
    log, in all and per lot."""

    buyer_id: str | None = None
    bidders: frozenset[str] = frozenset()
    by_lot: Mapping[str, frozenset[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Before:
    """What the event's aggregate held before it: the evaluation for a decision on a
    complaint, the tender's questions for an answer."""

    evaluation: Evaluation | None = None
    clarifications: Clarifications = field(default_factory=Clarifications)


@dataclass(frozen=True)
class Notice:
    """What one party is told of one event. A recipient is a supplier, an officer, or an
    agency (each of its officers reads it)."""

    event_id: UUID
    recipient_id: str
    ocid: str
    kind: str  # the event's type
    text: str
    occurred_at: datetime


def parties(buyer_id: str | None, receipts: Iterable[Receipt]) -> Parties:
    """The buyer, and who has a bid standing once these receipts, in log order, are
    applied: a withdrawal takes a bidder's bid out, a later bid puts it back."""
    standing: dict[str, tuple[str, ...]] = {}
    for receipt in receipts:
        if receipt.kind == "bid":
            standing[receipt.bidder_id] = receipt.lots
        else:
            standing.pop(receipt.bidder_id, None)
    by_lot: dict[str, set[str]] = {}
    for bidder, lots in standing.items():
        for lot in lots:
            by_lot.setdefault(lot, set()).add(bidder)
    frozen = {lot: frozenset(bidders) for lot, bidders in by_lot.items()}
    return Parties(buyer_id, frozenset(standing), frozen)


def notices(
    item: Envelope, procedure: Parties = Parties(), before: Before = Before()
) -> list[Notice]:
    """Every notice ``item`` makes, one per recipient (one party's several messages about
    one event are joined), in recipient order."""
    told: dict[str, list[str]] = {}
    for recipient, text in _messages(item, procedure, before):
        told.setdefault(recipient, []).append(text)
    ocid = item.aggregate_id.split(":", 1)[0]
    return [
        Notice(item.event_id, recipient, ocid, item.type, "\n\n".join(texts), item.occurred_at)
        for recipient, texts in sorted(told.items())
    ]


def _messages(item: Envelope, procedure: Parties, before: Before) -> list[tuple[str, str]]:
    event, ocid = item.event, item.aggregate_id.split(":", 1)[0]
    return [
        *_cancellation(event, ocid, procedure),
        *_unsuccessful(event, ocid, procedure),
        *_to_the_buyer(event, ocid, procedure.buyer_id),
        *evaluation_messages.notices(event, before.evaluation),
        *enquiry_messages.notices(before.clarifications, event),
        *bid_messages.notices(event),
    ]


def _unsuccessful(event: Event, ocid: str, procedure: Parties) -> list[tuple[str, str]]:
    """A lot or tender that ends without an award, with the reason, to its tenderers."""
    match event:
        case TenderUnsuccessful():
            told, what = procedure.bidders, f"Tender {ocid}"
        case LotUnsuccessful():
            told = procedure.by_lot.get(event.lot_id, frozenset())
            what = f"Lot {event.lot_id} of tender {ocid}"
        case _:
            return []
    text = f"{what} ended without an award: {event.reason}. No contract will be awarded in it."
    return [(bidder, text) for bidder in sorted(told)]


def _cancellation(event: Event, ocid: str, procedure: Parties) -> list[tuple[str, str]]:
    """A cancellation with its reason, to every tenderer of what was cancelled."""
    match event:
        case TenderCancelled():
            told, what = procedure.bidders, f"tender {ocid}"
        case ProcedureCancelled():
            told, what = procedure.bidders, f"the procedure of tender {ocid}"
        case LotCancelled():
            told = procedure.by_lot.get(event.lot_id, frozenset())
            what = f"lot {event.lot_id} of tender {ocid}"
        case _:
            return []
    text = (
        f"The buyer cancelled {what}: {event.reason}. No contract will be awarded in it;"
        " you may ask for a review of this decision."
    )
    return [(bidder, text) for bidder in sorted(told)]


def _to_the_buyer(event: Event, ocid: str, buyer_id: str | None) -> list[tuple[str, str]]:
    """What the buyer's officers must act on: a complaint, a bidder's answer."""
    match event:
        case ComplaintFiled():
            text = (
                f"{event.bidder_id} complained about lot {event.lot_id} of tender {ocid}"
                f" ({event.complaint_id}): {event.grounds}. The lot is suspended: no contract"
                " may be signed for it until the review body rules."
            )
        case ClarificationAnswered():
            text = (
                f"{event.bidder_id} answered {event.request_id} about bid {event.bid_id} of"
                f" tender {ocid}; the committee reads the answer in the evaluation."
            )
        case JustificationSubmitted():
            text = (
                f"{event.bidder_id} justified the price of bid {event.bid_id} for lot"
                f" {event.lot_id} of tender {ocid}; accept or reject it in the evaluation."
            )
        case _:
            return []
    return [(buyer_id, text)] if buyer_id is not None else []
