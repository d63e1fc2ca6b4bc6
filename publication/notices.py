"""What each party is told, from every package's messages: one place that maps a stored
event to its notices, for the inboxes, their Atom feeds and the e-mail.

The domain packages say what an event tells whom (``procurement.evaluation.messages``,
``bidding.messages``). A cancellation names nobody: it reaches every tenderer of what was
cancelled (Directive 2014/24/EU Article 55(1): tenderers are told the grounds of a decision
not to award or to recommence the procedure), and who they are is read from the bid log,
passed in here as ``Tenderers``. Pure: the read model (``readmodels.notices``) does the I/O.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from bidding import messages as bid_messages
from procurement.evaluation import messages as evaluation_messages
from schemas.bids import Receipt
from schemas.evaluation import LotCancelled, ProcedureCancelled
from schemas.events import Envelope, Event, TenderCancelled

# The events whose notices need the procedure's tenderers; the others name their recipients.
NEEDS_TENDERERS = frozenset({"TenderCancelled", "ProcedureCancelled", "LotCancelled"})


@dataclass(frozen=True)
class Tenderers:
    """The suppliers with a bid standing in a tender's bid log, and per lot."""

    bidders: frozenset[str] = frozenset()
    by_lot: Mapping[str, frozenset[str]] = field(default_factory=dict)


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


def tenderers(receipts: Iterable[Receipt]) -> Tenderers:
    """Who has a bid standing once these receipts, in log order, are applied: a withdrawal
    takes a bidder's bid out, a later bid puts it back."""
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
    return Tenderers(
        frozenset(standing), {lot: frozenset(bidders) for lot, bidders in by_lot.items()}
    )


def notices(item: Envelope, tenderers: Tenderers = Tenderers()) -> list[Notice]:
    """Every notice ``item`` makes, one per recipient (one party's several messages about
    one event are joined), in recipient order."""
    told: dict[str, list[str]] = {}
    for recipient, text in _messages(item, tenderers):
        told.setdefault(recipient, []).append(text)
    ocid = item.aggregate_id.split(":", 1)[0]
    return [
        Notice(item.event_id, recipient, ocid, item.type, "\n\n".join(texts), item.occurred_at)
        for recipient, texts in sorted(told.items())
    ]


def _messages(item: Envelope, tenderers: Tenderers) -> list[tuple[str, str]]:
    event = item.event
    return [
        *_cancellation(event, item.aggregate_id.split(":", 1)[0], tenderers),
        *evaluation_messages.notices(event),
        *bid_messages.notices(event),
    ]


def _cancellation(event: Event, ocid: str, tenderers: Tenderers) -> list[tuple[str, str]]:
    """A cancellation with its reason, to every tenderer of what was cancelled."""
    match event:
        case TenderCancelled():
            told, what = tenderers.bidders, f"tender {ocid}"
        case ProcedureCancelled():
            told, what = tenderers.bidders, f"the procedure of tender {ocid}"
        case LotCancelled():
            told = tenderers.by_lot.get(event.lot_id, frozenset())
            what = f"lot {event.lot_id} of tender {ocid}"
        case _:
            return []
    text = (
        f"The buyer cancelled {what}: {event.reason}. No contract will be awarded in it;"
        " you may ask for a review of this decision."
    )
    return [(bidder, text) for bidder in sorted(told)]
