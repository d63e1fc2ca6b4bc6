"""A sealed bid log's signed head: the platform's signature over the sealed root, and the
time-stamping authority's token when one is configured (docs/sealed-bids.md)."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse

from adapters import timestamping
from app.bid_log_heads import BidLogHeads
from entrypoints.http.problems import problems
from procurement.errors import Rejected, WrongState
from schemas.tree_heads import SignedTreeHead

router = APIRouter(tags=["bids"])

Ocid = Annotated[str, Path(max_length=100, pattern=r"^[A-Za-z0-9][\w.:-]*$")]


class TimeStampingUnavailable(Rejected):
    status = 503
    code = "time_stamping_unavailable"


def _heads(request: Request) -> BidLogHeads:
    state = request.app.state
    if not hasattr(state, "bid_log_heads"):  # made once, on the first request
        state.bid_log_heads = BidLogHeads(state.pool, state.platform_key, state.tsa_url)
    heads: BidLogHeads = state.bid_log_heads
    return heads


@router.get(
    "/tenders/{ocid}/bid-log/signed-head",
    response_model=SignedTreeHead,
    responses=problems(409)
    | {503: problems(409)[409] | {"description": "The time-stamping authority gave no token"}},
)
async def signed_head(request: Request, ocid: Ocid) -> Any:
    """The bid log's head as sealed, signed by the platform key (purpose
    ``procurement-bid-log-head/1``), with an RFC 3161 time-stamp token when a time-stamping
    authority is configured; ``tsa`` null says that the time is the platform's word alone."""
    try:
        head = await _heads(request).sealed_head(ocid)
    except timestamping.TimeStampingFailed as error:
        raise TimeStampingUnavailable(str(error)) from error
    if head is None:
        msg = f"the bid log of {ocid} is not sealed: its head is signed at the deadline"
        raise WrongState(msg, code="bid_log_not_sealed")
    return JSONResponse(head.model_dump(mode="json"))
