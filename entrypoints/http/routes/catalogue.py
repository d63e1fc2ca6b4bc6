"""HTTP routes of the electronic catalogue: suppliers' offers, which anyone searches; direct
purchases from them; and price quotations among their suppliers."""

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from entrypoints.http.auth import ActorDep, IdempotencyKey
from entrypoints.http.command_routes import body_without, command_of
from entrypoints.http.problems import problems
from schemas.catalogue import (
    AcceptPurchase,
    DeclinePurchase,
    OpenQuotes,
    PublishOffer,
    PurchaseDirectly,
    RequestQuotes,
    SubmitQuote,
    UpdateOffer,
    WithdrawOffer,
)

router = APIRouter(tags=["catalogue"])
MAX_PAGE = 200
PLAIN = r"^[^\x00-\x1f\x7f]*$"  # no control characters: PostgreSQL text refuses NUL
_JSON: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/json": {"schema": {"type": "object"}}}}
}

UpdateBody = body_without(UpdateOffer, "offer_id")
WithdrawBody = body_without(WithdrawOffer, "offer_id")
AcceptBody = body_without(AcceptPurchase, "ocid")
DeclineBody = body_without(DeclinePurchase, "ocid")
QuoteBody = body_without(SubmitQuote, "ocid")
OpenBody = body_without(OpenQuotes, "ocid")


@router.post("/catalogue/offers", status_code=201)
async def publish_offer(
    request: Request, body: PublishOffer, actor: ActorDep, key: IdempotencyKey = None
) -> JSONResponse:
    """Publish a catalogue offer (a supplier, for itself): the unit price is without VAT."""
    return await handle(request, PublishOffer, body, {}, actor, key)


@router.post("/catalogue/offers/{offer_id}/updates", status_code=201)
async def update_offer(
    request: Request,
    offer_id: str,
    body: UpdateBody,  # type: ignore[valid-type]
    actor: ActorDep,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Change an offer's terms (its supplier): every change is recorded."""
    return await handle(request, UpdateOffer, body, {"offer_id": offer_id}, actor, key)


@router.post("/catalogue/offers/{offer_id}/withdrawal", status_code=201)
async def withdraw_offer(
    request: Request,
    offer_id: str,
    body: WithdrawBody,  # type: ignore[valid-type]
    actor: ActorDep,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Withdraw an offer, with a reason (its supplier)."""
    return await handle(request, WithdrawOffer, body, {"offer_id": offer_id}, actor, key)


@router.get("/catalogue/offers", tags=["public"], response_class=Response, responses=_JSON)
async def search_offers(
    request: Request,
    q: Annotated[str | None, Query(max_length=200, pattern=PLAIN)] = None,
    cpv: Annotated[str | None, Query(pattern=r"^\d{2,8}(-\d)?$")] = None,
    supplier: Annotated[str | None, Query(max_length=100, pattern=PLAIN)] = None,
    currency: Annotated[str | None, Query(pattern=r"^[A-Z]{3}$")] = None,
    min_price: Annotated[Decimal | None, Query(ge=0, le=10**15)] = None,
    max_price: Annotated[Decimal | None, Query(ge=0, le=10**15)] = None,
    status: Annotated[str, Query(pattern="^(active|withdrawn|any)$")] = "active",
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> Response:
    """Catalogue offers, cheapest first: by words of the description (all of them), CPV
    code or prefix (30 for a division), supplier id, currency and unit price range."""
    where, args = ["true"], []
    for clause, value in (
        ("words @@ plainto_tsquery('simple', ${})", q),
        ("${} = ANY(cpv_prefixes)", cpv),
        ("supplier_id = ${}", supplier),
        ("currency = ${}", currency),
        ("unit_price >= ${}", min_price),
        ("unit_price <= ${}", max_price),
        ("status = ${}", None if status == "any" else status),
    ):
        if value is not None:
            args.append(value)
            where.append(clause.format(len(args)))
    rows = await request.app.state.pool.fetch(
        f"SELECT document::text FROM catalogue_offers WHERE {' AND '.join(where)}"
        f" ORDER BY unit_price, offer_id LIMIT {limit} OFFSET {offset}",
        *args,
    )
    items = ", ".join(row["document"] for row in rows)
    return Response(f'{{"items": [{items}]}}', media_type="application/json")


@router.get("/catalogue/offers/{offer_id}", tags=["public"], response_class=Response, responses=_JSON)  # fmt: skip
async def read_offer(request: Request, offer_id: str) -> Response:
    """One catalogue offer as the public sees it."""
    row = await request.app.state.pool.fetchval(
        "SELECT document::text FROM catalogue_offers WHERE offer_id = $1", offer_id
    )
    return _found(row, f"there is no catalogue offer {offer_id}")


@router.post("/catalogue/purchases", status_code=201, responses=problems(403, 409, 422))
async def purchase_directly(
    request: Request, body: PurchaseDirectly, actor: ActorDep, key: IdempotencyKey = None
) -> JSONResponse:
    """Buy from a catalogue offer below the direct-purchase threshold (an officer): a dearer
    offer than the cheapest comparable one needs ``reason_not_cheapest``."""
    return await handle(request, PurchaseDirectly, body, {}, actor, key)


@router.post("/catalogue/purchases/{ocid}/acceptance", status_code=201)
async def accept_purchase(
    request: Request,
    ocid: str,
    body: AcceptBody,  # type: ignore[valid-type]
    actor: ActorDep,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Accept a direct purchase (the offer's supplier): the purchase is concluded."""
    return await handle(request, AcceptPurchase, body, {"ocid": ocid}, actor, key)


@router.post("/catalogue/purchases/{ocid}/refusal", status_code=201)
async def decline_purchase(
    request: Request,
    ocid: str,
    body: DeclineBody,  # type: ignore[valid-type]
    actor: ActorDep,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Decline a direct purchase, with a reason (the offer's supplier)."""
    return await handle(request, DeclinePurchase, body, {"ocid": ocid}, actor, key)


@router.get("/catalogue/purchases/{ocid}", tags=["public"], response_class=Response, responses=_JSON)  # fmt: skip
async def read_purchase(request: Request, ocid: str) -> Response:
    """One direct purchase: the offer, price, reference price, reason and answer."""
    return await _procedure(request, ocid, "direct_purchase", "direct purchase")


@router.post("/catalogue/quotations", status_code=201)
async def request_quotes(
    request: Request, body: RequestQuotes, actor: ActorDep, key: IdempotencyKey = None
) -> JSONResponse:
    """Ask catalogue suppliers for sealed quotes (an officer), with the public half of a key
    the officer keeps; at least three suppliers, or all of them when fewer offer the CPV."""
    return await handle(request, RequestQuotes, body, {}, actor, key)


@router.post("/catalogue/quotations/{ocid}/quotes", status_code=201)
async def submit_quote(
    request: Request,
    ocid: str,
    body: QuoteBody,  # type: ignore[valid-type]
    actor: ActorDep,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """A sealed quote (an invited supplier), before the deadline; a later one replaces it."""
    return await handle(request, SubmitQuote, body, {"ocid": ocid}, actor, key)


@router.post("/catalogue/quotations/{ocid}/opening", status_code=201)
async def open_quotes(
    request: Request,
    ocid: str,
    body: OpenBody,  # type: ignore[valid-type]
    actor: ActorDep,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """After the deadline, the officer hands in the key: every quote opens, the lowest wins."""
    return await handle(request, OpenQuotes, body, {"ocid": ocid}, actor, key)


@router.get("/catalogue/quotations/{ocid}", tags=["public"], response_class=Response, responses=_JSON)  # fmt: skip
async def read_quotation(request: Request, ocid: str) -> Response:
    """One price quotation: who was asked, how many quoted, and after the opening, the quotes."""
    return await _procedure(request, ocid, "price_quotation", "price quotation")


async def handle(
    request: Request,
    command: type[BaseModel],
    body: BaseModel,
    path: dict[str, str],
    actor: Any,
    key: Any,
) -> JSONResponse:
    """Handle the command; the answer names the procedure by its ocid, not its aggregate."""
    outcome = await request.app.state.handler.dispatch(
        command_of(command, body.model_dump() | path), actor, key
    )
    answer = outcome.response() | {"replayed": outcome.replayed}
    return JSONResponse(answer | {"id": outcome.aggregate_id.split(":")[0]}, 201)


async def _procedure(request: Request, ocid: str, procedure_type: str, what: str) -> Response:
    row = await request.app.state.pool.fetchval(
        "SELECT document::text FROM catalogue_procedures WHERE ocid = $1 AND procedure_type = $2",
        ocid,
        procedure_type,
    )
    return _found(row, f"there is no {what} {ocid}")


def _found(document: str | None, missing: str) -> Response:
    if document is None:
        raise HTTPException(404, missing)
    return Response(document, media_type="application/json")
