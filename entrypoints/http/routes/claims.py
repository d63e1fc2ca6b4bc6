"""Claims on a registration number another supplier holds: the claimant's 202, and the
operator's list of open claims and decision on each."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from app import registration_claims
from app.handlers import Outcome
from entrypoints.http.auth import ActorDep, IdempotencyKey
from entrypoints.http.command_routes import command_of
from entrypoints.http.problems import problems
from procurement.errors import NotAllowed
from schemas.base import Message
from schemas.claims import ClaimDecision, DecideRegistrationClaim
from schemas.commands import Actor, Role
from schemas.values import Text

router = APIRouter()

CLAIM_RESPONSE: dict[int | str, dict[str, Any]] = {
    202: {
        "description": "The number is already registered: a claim awaits the operator",
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}


class ClaimDecisionBody(Message):
    decision: ClaimDecision
    reason: Text  # recorded with the decision, for the holder and the claimant alike


def claim_answer(outcome: Outcome) -> JSONResponse:
    """202: nothing is registered yet, and no token is issued until the operator accepts."""
    detail = (
        "this registration number is already registered; your registration was recorded as a"
        " claim for the platform operator, who checks who owns the number. If the claim is"
        " accepted, the operator gives you your bearer token and the current holder is"
        " suspended; if it is refused, the operator tells you why"
    )
    body = {
        "status": "claim_awaits_operator",
        "claim_id": outcome.aggregate_id,
        "detail": detail,
        "events": outcome.response()["events"],
        "replayed": outcome.replayed,
    }
    return JSONResponse(body, 202)


def _operator_only(actor: Actor) -> None:
    if actor.role is not Role.OPERATOR:
        raise NotAllowed("only the platform operator sees and decides registration claims")


@router.get("/operations/registration-claims", tags=["operations"], responses=problems(401, 403))
async def list_claims(
    request: Request, actor: ActorDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> dict[str, Any]:
    """The registration claims awaiting a decision, oldest first (the operator only)."""
    _operator_only(actor)
    return {"items": await registration_claims.open_claims(request.app.state.pool, limit)}


@router.post(
    "/operations/registration-claims/{claim_id}/decision",
    tags=["operations"],
    responses=problems(401, 403, 404, 409),
)
async def decide_claim(
    request: Request,
    claim_id: str,
    body: ClaimDecisionBody,
    actor: ActorDep,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Accept a claim, giving the number to the claimant and suspending its holder (the
    answer holds the claimant's bearer token, once, to hand over), or refuse it; with the
    reason either way (the operator only)."""
    command = command_of(DecideRegistrationClaim, body.model_dump() | {"claim_id": claim_id})
    outcome = await request.app.state.handler.dispatch(command, actor, key)
    return JSONResponse(outcome.response() | {"replayed": outcome.replayed}, 200)
