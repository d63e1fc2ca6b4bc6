"""The catalogue's command handlers: each loads what its rules need, lets
``procurement.procedures`` decide, and returns the ``Decision``; the unit of work commits
(``app.command_bus`` maps the commands here, through ``COMMANDS``).

Two edge tables go with the events, written in their transaction (``app.records``): which
offers sell a CPV code (``catalogue_offer_index``), so a purchase is compared with every
offer of its code, and each direct purchase's value (``direct_purchase_spend``), so the
buyer's total of the year per CPV code is known when the next one is decided. Purchases of
one buyer and code are decided one at a time (a transaction lock), so two split halves
arriving together still see each other.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import uuid4

from app import records
from app.handlers import Services
from app.policies import Changes
from app.store import StoreTransaction
from app.unit_of_work import Context, Decision
from bidding import quotes
from procurement.errors import NotFound
from procurement.procedures import catalogue, direct_purchase, price_quotation
from procurement.procedures.catalogue import Offer
from schemas.base import Event
from schemas.catalogue import (
    AcceptPurchase,
    DeclinePurchase,
    DirectPurchaseOrdered,
    OpenQuotes,
    PublishOffer,
    PurchaseDirectly,
    RequestQuotes,
    SubmitQuote,
    UpdateOffer,
    WithdrawOffer,
)

# Edge rows


@dataclass(frozen=True)
class OfferListed:
    """The offer sells this CPV code (again, after an update that changed it)."""

    offer_id: str
    cpv: str


@dataclass(frozen=True)
class PurchaseSpent:
    """A direct purchase's value, counted in its buyer's year for its CPV code."""

    ordered: DirectPurchaseOrdered
    year: int


@dataclass(frozen=True)
class PurchaseUnspent:
    """A declined purchase no longer counts."""

    ocid: str


# Handlers


async def change_offer(
    tx: StoreTransaction, command: PublishOffer | UpdateOffer | WithdrawOffer, ctx: Context, s: Services
) -> Decision:  # fmt: skip
    if isinstance(command, PublishOffer):
        offer_id = f"offer-{uuid4().hex[:16]}"
        events = catalogue.decide(None, command, ctx.actor, ctx.now, offer_id=offer_id)
        return _decision(offer_id, 0, events, OfferListed(offer_id, command.terms.cpv))
    offer = await _offer(tx, command.offer_id)
    events = catalogue.decide(offer, command, ctx.actor, ctx.now)
    version = offer.version if offer else 0
    if isinstance(command, UpdateOffer):
        return _decision(command.offer_id, version, events, OfferListed(command.offer_id, command.terms.cpv))  # fmt: skip
    return _decision(command.offer_id, version, events)


async def buy_directly(
    tx: StoreTransaction, command: PurchaseDirectly, ctx: Context, s: Services
) -> Decision:
    bought = await _offer(tx, command.offer_id)
    if bought is None:
        raise NotFound(f"there is no catalogue offer {command.offer_id}")
    agency, cpv = ctx.actor.agency_id or "", bought.terms.cpv
    threshold = s.settings.catalogue.thresholds.direct_purchase_limit(agency, cpv)
    await tx.connection.execute(
        "SELECT pg_advisory_xact_lock(hashtext($1))", f"direct-purchase|{agency}|{cpv}"
    )
    market = direct_purchase.Market(
        offers=await _offers_of(tx, cpv),
        year_total=await _year_total(tx, agency, cpv, ctx.now, threshold.currency),
        threshold=threshold,
    )
    ocid = await _ocid(tx, s, ctx.now)
    events = direct_purchase.decide(None, command, ctx.actor, ctx.now, market, ocid=ocid)
    ordered = events[0]
    assert isinstance(ordered, DirectPurchaseOrdered)
    return _decision(
        direct_purchase.purchase_id(ocid), 0, events, PurchaseSpent(ordered, ctx.now.year)
    )


async def answer_purchase(
    tx: StoreTransaction, command: AcceptPurchase | DeclinePurchase, ctx: Context, s: Services
) -> Decision:
    aggregate_id = direct_purchase.purchase_id(command.ocid)
    history = [e.event for e in await tx.load(aggregate_id)]
    purchase = direct_purchase.replay(history)
    events = direct_purchase.decide(purchase, command, ctx.actor, ctx.now)
    if isinstance(command, DeclinePurchase):
        return _decision(aggregate_id, len(history), events, PurchaseUnspent(command.ocid))
    return _decision(aggregate_id, len(history), events)


async def request_quotes(
    tx: StoreTransaction, command: RequestQuotes, ctx: Context, s: Services
) -> Decision:
    agency, rules = ctx.actor.agency_id or "", s.settings.catalogue
    band = price_quotation.Band(
        offers=await _offers_of(tx, command.cpv),
        direct_purchase_limit=rules.thresholds.direct_purchase_limit(agency, command.cpv),
        open_procedure_limit=rules.thresholds.open_procedure_limit(),
        minimum_period=rules.minimum_quotation_period,
    )
    ocid = await _ocid(tx, s, ctx.now)
    events = price_quotation.request(command, ctx.actor, ctx.now, band, ocid=ocid)
    return _decision(price_quotation.quotation_id(ocid), 0, events)


async def quote_or_open(
    tx: StoreTransaction, command: SubmitQuote | OpenQuotes, ctx: Context, s: Services
) -> Decision:
    aggregate_id = price_quotation.quotation_id(command.ocid)
    history = [e.event for e in await tx.load(aggregate_id)]
    state = price_quotation.quotation_must_exist(price_quotation.replay(history), command.ocid)
    if isinstance(command, SubmitQuote):
        events = price_quotation.submit(state, command, ctx.actor, ctx.now)
    else:
        events = _open(state, command, ctx)
    return _decision(aggregate_id, len(history), events)


COMMANDS: dict[type, Any] = {
    PublishOffer: change_offer,
    UpdateOffer: change_offer,
    WithdrawOffer: change_offer,
    PurchaseDirectly: buy_directly,
    AcceptPurchase: answer_purchase,
    DeclinePurchase: answer_purchase,
    RequestQuotes: request_quotes,
    SubmitQuote: quote_or_open,
    OpenQuotes: quote_or_open,
}


def _decision(aggregate_id: str, version: int, events: list[Event], *kept: object) -> Decision:
    return Decision(Changes(aggregate_id, version, events), records=kept)


def _open(state: price_quotation.Quotation, command: OpenQuotes, ctx: Context) -> list[Event]:
    """Open every sealed quote with the key handed in, then let the rules decide."""
    requested = state.requested
    matches = quotes.key_matches(command.opening_key, requested.opening_key)
    opened = []
    if matches and ctx.now >= requested.deadline:  # never decrypt before the rules allow it
        key = quotes.private_key(command.opening_key)
        opened = [
            quotes.open_quote(requested.ocid, supplier, sealed, key, requested.currency)
            for supplier, sealed in state.sealed.items()
        ]
    return price_quotation.open_quotes(
        state, command, ctx.actor, ctx.now, key_matches=matches, opened=opened
    )


async def _ocid(tx: StoreTransaction, s: Services, now: datetime) -> str:
    """A procedure number from the tenders' sequence: one numbering for every procedure."""
    number = await s.tender_numbers.next(tx)
    return f"{s.settings.ocid_prefix}-{now.year}-{number:06d}"


async def _offer(tx: StoreTransaction, offer_id: str) -> Offer | None:
    return catalogue.replay(e.event for e in await tx.load(offer_id))


async def _offers_of(tx: StoreTransaction, cpv: str) -> list[Offer]:
    rows = await tx.connection.fetch(
        "SELECT offer_id FROM catalogue_offer_index WHERE cpv = $1 ORDER BY offer_id", cpv
    )
    found = [await _offer(tx, row["offer_id"]) for row in rows]
    return [offer for offer in found if offer is not None and offer.terms.cpv == cpv]


async def _year_total(
    tx: StoreTransaction, agency_id: str, cpv: str, now: datetime, currency: str
) -> Decimal:
    """The buyer's direct purchases of the code this year, not declined."""
    total = await tx.connection.fetchval(
        "SELECT coalesce(sum(amount), 0) FROM direct_purchase_spend"
        " WHERE buyer_id = $1 AND cpv = $2 AND year = $3 AND currency = $4 AND NOT declined",
        agency_id,
        cpv,
        now.year,
        currency,
    )
    return Decimal(total)


# The edge rows, written in the events' transaction.


@records.register
async def _(record: OfferListed, connection: Any) -> None:
    await connection.execute(
        "INSERT INTO catalogue_offer_index (offer_id, cpv) VALUES ($1, $2)"
        " ON CONFLICT (offer_id) DO UPDATE SET cpv = $2",
        record.offer_id,
        record.cpv,
    )


@records.register
async def _(record: PurchaseSpent, connection: Any) -> None:
    ordered = record.ordered
    await connection.execute(
        "INSERT INTO direct_purchase_spend (ocid, buyer_id, cpv, year, currency, amount)"
        " VALUES ($1, $2, $3, $4, $5, $6)",
        ordered.ocid,
        ordered.buyer_id,
        ordered.offer.terms.cpv,
        record.year,
        ordered.value.currency,
        ordered.value.amount,
    )


@records.register
async def _(record: PurchaseUnspent, connection: Any) -> None:
    await connection.execute(
        "UPDATE direct_purchase_spend SET declined = true WHERE ocid = $1", record.ocid
    )
