"""HTTP routes of the electronic reverse auction.

The buyer's officer schedules the auction of a lot the evaluation handed over; the platform
opens and closes it on time; invited bidders send prices and follow their own rank live
(Server-Sent Events), never learning who the others are. A refused price is recorded with
its reason and answered as a problem document.
"""

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse

from entrypoints.http.auth import ActorDep, IdempotencyKey, OptionalActorDep
from entrypoints.http.command_routes import body_without, command_of, handle
from procurement import auction
from procurement.errors import NotAllowed, NotFound
from schemas.auction import AuctionPriceRejected, CancelAuction, ScheduleAuction, SubmitAuctionPrice
from schemas.commands import Actor, Role

router = APIRouter(tags=["auction"])

ScheduleBody = body_without(ScheduleAuction, "ocid")
PriceBody = body_without(body_without(SubmitAuctionPrice, "ocid"), "lot_id")
CancelBody = body_without(body_without(CancelAuction, "ocid"), "lot_id")
KEEPALIVE_SECONDS = 15.0


class EventStream(StreamingResponse):
    """Server-Sent Events, so the OpenAPI description names the stream's media type."""

    media_type = "text/event-stream"


@router.post("/tenders/{ocid}/auctions", status_code=201)
async def schedule_auction(
    request: Request,
    ocid: str,
    body: ScheduleBody,  # type: ignore[valid-type]
    actor: ActorDep,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """The buyer's officer schedules the auction of a lot whose evaluation is complete;
    every admissible tenderer is invited at once with the formula."""
    return await handle(request, ScheduleAuction, body, {"ocid": ocid}, actor, key)


@router.post("/tenders/{ocid}/auctions/{lot_id}/prices", status_code=201)
async def submit_price(
    request: Request,
    ocid: str,
    lot_id: str,
    body: PriceBody,  # type: ignore[valid-type]
    actor: ActorDep,
) -> JSONResponse:
    """An invited bidder's new price: accepted with the bidder's new rank, or refused with
    the reason (late, not open, not the minimum decrement below its last price, ...).
    Every price is recorded, refused ones too. Sending the same price again is refused as
    not decreasing, so a retry never lowers a price twice."""
    if actor.role is not Role.SUPPLIER:
        raise NotAllowed(f"only invited bidders send auction prices; {actor.id} is {actor.role}")
    sent: Any = body
    command = command_of(SubmitAuctionPrice, {"ocid": ocid, "lot_id": lot_id, "price": sent.price})
    recorded = await request.app.state.auction_prices.submit(command, actor)
    if isinstance(recorded.event.event, AuctionPriceRejected):
        raise auction.error_of(recorded.event.event)
    item = recorded.event
    return JSONResponse(
        {
            "id": item.aggregate_id,
            "events": [
                {"type": item.type, "sequence": item.sequence, "event_id": str(item.event_id)}
            ],
            "accepted": True,
            "view": auction.bidder_view(recorded.state, actor.id),
        },
        201,
    )


@router.post("/tenders/{ocid}/auctions/{lot_id}/cancellation", status_code=201)
async def cancel_auction(
    request: Request,
    ocid: str,
    lot_id: str,
    body: CancelBody,  # type: ignore[valid-type]
    actor: ActorDep,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """The buyer's officer cancels the auction, with the reason: final, with no result."""
    return await handle(request, CancelAuction, body, {"ocid": ocid, "lot_id": lot_id}, actor, key)


@router.get("/tenders/{ocid}/auctions/{lot_id}")
async def auction_view(
    request: Request, ocid: str, lot_id: str, actor: OptionalActorDep
) -> dict[str, Any]:
    """The auction's public facts; an invited bidder also gets its own live view, and the
    buyer's officers the final ranking once it is closed."""
    row = await request.app.state.pool.fetchrow(
        "SELECT buyer_id, document, views FROM auctions WHERE auction_id = $1",
        auction.auction_id(ocid, lot_id),
    )
    if row is None:
        raise NotFound(f"there is no auction for lot {lot_id} of {ocid} (yet)")
    document = dict(row["document"])
    if not _of_the_buyer(actor, row["buyer_id"]):
        document.pop("ranking")
    if actor is not None and actor.id in row["views"]:
        document["view"] = row["views"][actor.id]
    return document


@router.get("/tenders/{ocid}/auctions/{lot_id}/live", response_class=EventStream)
async def follow_auction(
    request: Request,
    ocid: str,
    lot_id: str,
    actor: ActorDep,
    until_closed: Annotated[bool, Query(description="end the stream when it closes")] = True,
) -> StreamingResponse:
    """Server-Sent Events: the bidder's own view (price, score, rank, leading price when the
    auction shows it) each time it changes, starting with the current one."""
    auction_id = auction.auction_id(ocid, lot_id)
    views = await request.app.state.pool.fetchval(
        "SELECT views FROM auctions WHERE auction_id = $1", auction_id
    )
    if views is None:
        raise NotFound(f"there is no auction for lot {lot_id} of {ocid} (yet)")
    if actor.id not in views:
        raise NotAllowed(f"{actor.id} is not invited to the auction of lot {lot_id} of {ocid}")
    live = request.app.state.auctions_live

    async def events() -> AsyncIterator[str]:
        async with live.follow(auction_id, actor.id) as follower:
            while True:
                view = await follower.next_view()
                yield f"id: {view['version']}\nevent: view\ndata: {json.dumps(view)}\n\n"
                if until_closed and view["status"] in ("closed", "cancelled"):
                    return

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return EventStream(events(), headers=headers)


def _of_the_buyer(actor: Actor | None, buyer_id: str) -> bool:
    return actor is not None and actor.role is Role.OFFICER and actor.agency_id == buyer_id
