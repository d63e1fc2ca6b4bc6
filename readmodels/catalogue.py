"""The catalogue's read models, fed by the ``procurement.catalogue`` topic.

``catalogue_offers``: every offer as the public searches it (words, CPV prefix, supplier,
price range). ``catalogue_procedures``: each direct purchase and price quotation as the
public sees it. A concluded purchase and a quotation won by a quote also become a row of
``lot_savings`` (``GET /savings`` sums them with the tenders' lots, by procedure type),
measured against the median catalogue price recorded when it was decided; and each public
event of a purchase or quotation writes its OCDS release (``publication.catalogue_releases``)
beside the tenders' ones.

Rows are recomputed from the aggregate's events in the store, so redelivered or repaired
events leave the same rows.
"""

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from adapters.postgres import eventstore
from procurement.procedures import catalogue, direct_purchase, price_quotation
from procurement.procedures.direct_purchase import PurchaseStatus
from procurement.procedures.price_quotation import QuotationStatus
from publication import catalogue_releases, ocds
from publication.savings import AwardedLot
from readmodels import releases
from schemas.catalogue import QuotesRequested
from schemas.events import AgencyRegistered, Envelope, SupplierRegistered
from schemas.values import CENT, ProcedureType

_OFFER_TYPES = frozenset({"CatalogueOfferPublished", "CatalogueOfferUpdated", "CatalogueOfferWithdrawn"})  # fmt: skip

_UPSERT_OFFER = """
INSERT INTO catalogue_offers (offer_id, supplier_id, status, cpv, cpv_prefixes, unit_price,
    currency, valid_until, words, version, updated_at, document)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, to_tsvector('simple', $9), $10, $11, $12)
ON CONFLICT (offer_id) DO UPDATE SET status = $3, cpv = $4, cpv_prefixes = $5, unit_price = $6,
    currency = $7, valid_until = $8, words = to_tsvector('simple', $9), version = $10,
    updated_at = $11, document = $12
WHERE catalogue_offers.version < $10
"""

_UPSERT_PROCEDURE = """
INSERT INTO catalogue_procedures (ocid, procedure_type, buyer_id, status, version, updated_at, document)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (ocid) DO UPDATE SET status = $4, version = $5, updated_at = $6, document = $7
WHERE catalogue_procedures.version < $5
"""


async def apply(connection: Any, envelopes: Sequence[Envelope]) -> None:
    offers = sorted({e.aggregate_id for e in envelopes if e.type in _OFFER_TYPES})
    procedures = sorted({e.aggregate_id for e in envelopes if e.type not in _OFFER_TYPES})
    for offer_id in offers:
        await _offer(connection, offer_id)
    for aggregate_id in procedures:
        history = await eventstore.load(connection, aggregate_id)
        if not history:
            continue
        if history[0].type == "DirectPurchaseOrdered":
            await _purchase(connection, history)
        else:
            await _quotation(connection, history)
        await _releases(connection, _ocid(history), history)


async def _offer(connection: Any, offer_id: str) -> None:
    history = await eventstore.load(connection, offer_id)
    offer = catalogue.replay(e.event for e in history)
    if offer is None:
        return
    terms = offer.terms
    document = {
        "offer_id": offer.offer_id,
        "supplier_id": offer.supplier_id,
        "status": offer.status.value,
        **terms.model_dump(mode="json"),
        "published_at": history[0].occurred_at.isoformat(),
        "updated_at": history[-1].occurred_at.isoformat(),
    }
    await connection.execute(
        _UPSERT_OFFER,
        offer.offer_id,
        offer.supplier_id,
        offer.status.value,
        terms.cpv,
        releases.cpv_prefixes([terms.cpv]),
        terms.unit_price.amount,
        terms.unit_price.currency,
        terms.valid_until,
        f"{terms.description} {terms.unit} {terms.delivery_area}",
        offer.version,
        history[-1].occurred_at,
        document,
    )


async def _purchase(connection: Any, history: Sequence[Envelope]) -> None:
    purchase = direct_purchase.replay(e.event for e in history)
    assert purchase is not None
    ordered = purchase.ordered
    document = ordered.model_dump(mode="json", exclude={"type"}) | {
        "procedure_type": ProcedureType.DIRECT_PURCHASE.value,
        "status": purchase.status.value,
        "ordered_at": history[0].occurred_at.isoformat(),
    }
    if purchase.status is not PurchaseStatus.AWAITING_SUPPLIER:
        document["answered_at"] = history[-1].occurred_at.isoformat()
        document["answer"] = history[-1].event.model_dump(mode="json", exclude={"type"})
    await _procedure(connection, history, ProcedureType.DIRECT_PURCHASE, ordered.buyer_id, document)
    if purchase.status is PurchaseStatus.CONCLUDED:
        quantity = ordered.quantity
        await _savings(
            connection,
            AwardedLot(
                ocid=ordered.ocid,
                lot_id="purchase",
                buyer_id=ordered.buyer_id,
                cpv_division=ordered.offer.terms.cpv[:2],
                procedure_type=ProcedureType.DIRECT_PURCHASE,
                award_month=history[-1].occurred_at.strftime("%Y-%m"),
                bidders=1,
                winner_is_sme=await _is_sme(connection, purchase.supplier_id),
                currency=ordered.value.currency,
                estimated=_times(ordered.reference_unit_price.amount, quantity),
                best_initial=_times(ordered.cheapest_unit_price.amount, quantity),
                awarded=ordered.value.amount,
            ),
        )


async def _quotation(connection: Any, history: Sequence[Envelope]) -> None:
    quotation = price_quotation.replay(e.event for e in history)
    assert quotation is not None
    requested: QuotesRequested = quotation.requested
    document = requested.model_dump(mode="json", exclude={"type", "opening_key"}) | {
        "procedure_type": ProcedureType.PRICE_QUOTATION.value,
        "status": quotation.status.value,
        "requested_at": history[0].occurred_at.isoformat(),
        "quotes_received": len(quotation.sealed),
    }
    opened = quotation.opened
    if quotation.status is QuotationStatus.OPENED and opened is not None:
        document["opened"] = opened.model_dump(mode="json", exclude={"type"})
    await _procedure(
        connection, history, ProcedureType.PRICE_QUOTATION, requested.buyer_id, document
    )
    if opened is not None and opened.winner_id is not None and opened.value is not None:
        valid = [q for q in opened.quotes if q.unit_price is not None]
        await _savings(
            connection,
            AwardedLot(
                ocid=requested.ocid,
                lot_id="quotation",
                buyer_id=requested.buyer_id,
                cpv_division=requested.cpv[:2],
                procedure_type=ProcedureType.PRICE_QUOTATION,
                award_month=history[-1].occurred_at.strftime("%Y-%m"),
                bidders=len(valid),
                winner_is_sme=await _is_sme(connection, opened.winner_id),
                currency=opened.value.currency,
                estimated=_times(requested.reference_unit_price.amount, requested.quantity),
                best_initial=opened.value.amount,
                awarded=opened.value.amount,
            ),
        )


async def _procedure(
    connection: Any,
    history: Sequence[Envelope],
    procedure_type: ProcedureType,
    buyer_id: str,
    document: dict[str, Any],
) -> None:
    await connection.execute(
        _UPSERT_PROCEDURE,
        _ocid(history),
        procedure_type.value,
        buyer_id,
        document["status"],
        len(history),
        history[-1].occurred_at,
        document,
    )


async def _savings(connection: Any, lot: AwardedLot) -> None:
    await connection.execute(
        "INSERT INTO lot_savings (ocid, lot_id, buyer_id, currency, lot) VALUES ($1, $2, $3, $4, $5)"
        " ON CONFLICT (ocid, lot_id) DO UPDATE SET lot = $5",
        lot.ocid,
        lot.lot_id,
        lot.buyer_id,
        lot.currency,
        lot.model_dump(mode="json"),
    )


async def _is_sme(connection: Any, supplier_id: str) -> bool:
    for item in await eventstore.load(connection, supplier_id):
        if isinstance(item.event, SupplierRegistered):
            return item.event.is_sme
    return False


async def _releases(connection: Any, ocid: str, history: Sequence[Envelope]) -> None:
    """The OCDS releases of the purchase or quotation not stored yet, and its record."""
    parties = {}
    for party_id in sorted(_parties(history)):
        for item in await eventstore.load(connection, party_id):
            if isinstance(item.event, AgencyRegistered | SupplierRegistered):
                parties[party_id] = ocds.party_info(item.event)
    stored = {
        row["release_id"]
        for row in await connection.fetch("SELECT release_id FROM releases WHERE ocid = $1", ocid)
    }
    rows = [
        releases.release_row(
            release, [i["classification"]["id"] for i in release["tender"]["items"]]
        )
        for release in catalogue_releases.releases(history, parties)
        if release["id"] not in stored
    ]
    await releases.store(connection, rows, [ocid])


def _parties(history: Sequence[Envelope]) -> set[str]:
    """The buyer and every supplier the procedure names."""
    found = set()
    for item in history:
        event = item.event
        found |= {getattr(event, "buyer_id", None), getattr(event, "winner_id", None)}
        offer = getattr(event, "offer", None)
        found.add(offer.supplier_id if offer is not None else None)
        found |= {quote.supplier_id for quote in getattr(event, "quotes", ())}
    return {party for party in found if party}


def _ocid(history: Sequence[Envelope]) -> str:
    """``<ocid>:purchase`` and ``<ocid>:quotation`` belong to ``<ocid>``."""
    return history[0].aggregate_id.split(":")[0]


def _times(unit_price: Decimal, quantity: Decimal) -> Decimal:
    return (unit_price * quantity).quantize(CENT, rounding=ROUND_HALF_UP)
