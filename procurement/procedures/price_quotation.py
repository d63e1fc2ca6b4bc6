"""Price quotation from catalogue suppliers (ProZorro's "price quotation"; SEAP's request
for offers below the open procedure), as pure functions.

Between the direct-purchase threshold and the open procedure's, an officer asks the
suppliers offering the CPV code in the catalogue for quotes: at least three, or all of them
when fewer offer it. Quotes are sealed on the supplier's machine to a key the officer made
for the quotation (``bidding.quotes``), so nobody reads them before the deadline; after it,
the officer hands the private key in, every quote opens at once, the key is published so
anyone can check the opening, and the lowest unit price wins (ties: the quote sent first).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from procurement.errors import NotAllowed, NotFound, Rejected, WrongState
from procurement.procedures import catalogue
from procurement.procedures.catalogue import Offer
from procurement.procedures.registry import QUOTATION_PERIOD, Engine, Procedure, ValueBand
from procurement.rules import describe
from schemas.base import Event
from schemas.catalogue import (
    OpenQuotes,
    QuoteOpened,
    QuotesOpened,
    QuotesRequested,
    QuoteSubmitted,
    RequestQuotes,
    SubmitQuote,
)
from schemas.commands import Actor, Role
from schemas.values import Value

# "selective" (OCDS method codelist: only qualified suppliers are invited): the suppliers
# asked are those the catalogue lists for the CPV code, not whoever the officer picks.
PROCEDURE = Procedure(
    method="selective",
    method_details="Price quotation from electronic catalogue suppliers",
    engine=Engine.CATALOGUE,
    value_band=ValueBand.DIRECT_PURCHASE_TO_OPEN,
    minimum_period=QUOTATION_PERIOD,  # CatalogueRules.minimum_quotation_period sets it
)
MINIMUM_SUPPLIERS = 3


def quotation_id(ocid: str) -> str:
    """The quotation's aggregate: apart from a tender's, which routes by ocid would replay."""
    return f"{ocid}:quotation"


class QuotationStatus(StrEnum):
    ACTIVE = "active"  # taking quotes until the deadline
    OPENED = "opened"  # quotes opened; awarded to the lowest, or unsuccessful


# Every quote is kept until the opening, which reads them all; as with bids' versions, one
# supplier may not fill the store with replacements.
MAX_QUOTES_PER_SUPPLIER = 10

LIFECYCLE: dict[tuple[QuotationStatus | None, str], QuotationStatus] = {
    (None, "QuotesRequested"): QuotationStatus.ACTIVE,
    (QuotationStatus.ACTIVE, "QuoteSubmitted"): QuotationStatus.ACTIVE,
    (QuotationStatus.ACTIVE, "QuotesOpened"): QuotationStatus.OPENED,
}


@dataclass(frozen=True)
class Quotation:
    requested: QuotesRequested
    status: QuotationStatus
    version: int
    sealed: dict[str, bytes] = field(default_factory=dict)  # supplier -> its latest quote
    sent: dict[str, int] = field(default_factory=dict)  # supplier -> quotes it has sent
    order: tuple[str, ...] = ()  # suppliers by their first quote, for ties
    opened: QuotesOpened | None = None


@dataclass(frozen=True)
class Band:
    """What the request is held to: the offers of its CPV code, and the value band."""

    offers: Sequence[Offer]
    direct_purchase_limit: Value
    open_procedure_limit: Value
    minimum_period: timedelta


# Rules


def officer_must_act_for_the_buyer(actor: Actor, buyer_id: str | None = None) -> str:
    if actor.role is not Role.OFFICER or actor.agency_id is None:
        raise NotAllowed(f"only a procurement officer asks for quotes; {actor.id} is {actor.role}")
    if buyer_id is not None and actor.agency_id != buyer_id:
        raise NotAllowed(f"only an officer of {buyer_id} may do this; {actor.id} is not")
    return actor.agency_id


def deadline_must_leave_the_minimum_period(deadline: datetime, now: datetime, band: Band) -> None:
    if deadline < now + band.minimum_period:
        msg = f"a quotation gives suppliers at least {describe(band.minimum_period)} to quote"
        raise Rejected(msg, code="quotation_period_too_short")


def enough_suppliers_must_be_asked(asked: Sequence[str], offering: Sequence[str]) -> None:
    """At least three suppliers that offer the CPV code, or every one when fewer do."""
    if not offering:
        raise Rejected("no supplier offers this CPV code in the catalogue", code="no_supplier")
    strangers = sorted(set(asked) - set(offering))
    if strangers:
        msg = f"{strangers} have no valid catalogue offer of this CPV code in this currency"
        raise Rejected(msg, code="supplier_not_in_catalogue")
    needed = min(MINIMUM_SUPPLIERS, len(offering))
    if len(set(asked)) < needed:
        msg = f"ask at least {needed} of the {len(offering)} suppliers offering this CPV code"
        raise Rejected(msg, code="too_few_suppliers")


def estimate_must_fall_in_the_band(estimate: Value, band: Band) -> None:
    low, high = band.direct_purchase_limit, band.open_procedure_limit
    if estimate.currency != low.currency:
        msg = f"the thresholds are in {low.currency}; a quotation in {estimate.currency} has none"
        raise Rejected(msg, code="currency_not_thresholded")
    if estimate.amount < low.amount:
        msg = f"an estimate of {estimate.amount} is below {low.amount}: buy it directly"
        raise Rejected(msg, code="below_quotation_band")
    if estimate.amount >= high.amount:
        msg = f"an estimate of {estimate.amount} reaches {high.amount}: use an open procedure"
        raise Rejected(msg, code="over_threshold")


def quotation_must_exist(quotation: Quotation | None, ocid: str) -> Quotation:
    if quotation is None:
        raise NotFound(f"there is no price quotation {ocid}")
    return quotation


# Decisions


def request(
    command: RequestQuotes, actor: Actor, now: datetime, band: Band, *, ocid: str
) -> list[Event]:
    buyer_id = officer_must_act_for_the_buyer(actor)
    deadline_must_leave_the_minimum_period(command.deadline, now, band)
    offers = catalogue.comparable(band.offers, command.cpv, command.currency, now)
    offering = sorted({offer.supplier_id for offer in offers})
    asked = list(command.suppliers) or offering
    enough_suppliers_must_be_asked(asked, offering)
    reference = catalogue.median_unit_price(offers, command.currency)
    estimate_must_fall_in_the_band(catalogue.total(reference, command.quantity), band)
    return [
        QuotesRequested(
            ocid=ocid,
            buyer_id=buyer_id,
            title=command.title,
            cpv=command.cpv,
            quantity=command.quantity,
            unit=command.unit,
            currency=command.currency,
            deadline=command.deadline,
            opening_key=command.opening_key,
            invited=tuple(sorted(set(asked))),
            reference_unit_price=reference,
        )
    ]


def submit(quotation: Quotation, command: SubmitQuote, actor: Actor, now: datetime) -> list[Event]:
    if actor.role is not Role.SUPPLIER or actor.id not in quotation.requested.invited:
        raise NotAllowed(f"{actor.id} was not asked to quote in {command.ocid}")
    if quotation.status is not QuotationStatus.ACTIVE or now >= quotation.requested.deadline:
        deadline = quotation.requested.deadline.isoformat()
        raise WrongState(f"quotes for {command.ocid} closed at {deadline}", code="deadline_passed")
    if quotation.sent.get(actor.id, 0) >= MAX_QUOTES_PER_SUPPLIER:
        msg = f"{actor.id} has sent {MAX_QUOTES_PER_SUPPLIER} quotes to {command.ocid}, the most one supplier may"
        raise Rejected(msg, code="too_many_quotes")
    return [QuoteSubmitted(supplier_id=actor.id, sealed=command.sealed)]


def open_quotes(
    quotation: Quotation,
    command: OpenQuotes,
    actor: Actor,
    now: datetime,
    *,
    key_matches: bool,
    opened: Sequence[QuoteOpened],
) -> list[Event]:
    """``opened``: each sealed quote as the key opened it (``bidding.quotes``), any order."""
    officer_must_act_for_the_buyer(actor, quotation.requested.buyer_id)
    if quotation.status is not QuotationStatus.ACTIVE:
        raise WrongState(f"the quotes of {command.ocid} are already opened")
    if now < quotation.requested.deadline:
        deadline = quotation.requested.deadline.isoformat()
        raise WrongState(f"quotes open after {deadline}", code="deadline_ahead")
    if not key_matches:
        raise Rejected("this is not the private key of the quotation's key", code="wrong_key")
    by_supplier = {quote.supplier_id: quote for quote in opened}
    quotes = tuple(by_supplier[s] for s in quotation.order if s in by_supplier)
    valid = [q for q in quotes if q.unit_price is not None]
    winner = min(valid, key=lambda q: q.unit_price.amount if q.unit_price else 0, default=None)
    value = None
    if winner is not None and winner.unit_price is not None:
        value = catalogue.total(winner.unit_price, quotation.requested.quantity)
    return [
        QuotesOpened(
            opening_key=command.opening_key,
            quotes=quotes,
            winner_id=winner.supplier_id if winner else None,
            value=value,
        )
    ]


# Evolution


def evolve(quotation: Quotation | None, event: Event) -> Quotation:
    status = quotation.status if quotation else None
    after = LIFECYCLE.get((status, getattr(event, "type", "")))
    if after is None:
        msg = f"{type(event).__name__} cannot happen to a quotation that is {status or 'unasked'}"
        raise ValueError(msg)
    if isinstance(event, QuotesRequested):
        return Quotation(requested=event, status=after, version=1)
    assert quotation is not None
    quotation = replace(quotation, status=after, version=quotation.version + 1)
    if isinstance(event, QuoteSubmitted):
        first = () if event.supplier_id in quotation.order else (event.supplier_id,)
        sealed = quotation.sealed | {event.supplier_id: event.sealed}
        sent = quotation.sent | {event.supplier_id: quotation.sent.get(event.supplier_id, 0) + 1}
        return replace(quotation, sealed=sealed, sent=sent, order=quotation.order + first)
    if isinstance(event, QuotesOpened):
        return replace(quotation, opened=event)
    return quotation


def replay(events: Iterable[Event]) -> Quotation | None:
    quotation: Quotation | None = None
    for event in events:
        quotation = evolve(quotation, event)
    return quotation
