"""The operator's view of what the streams set aside: dead letters, their count for
monitoring, and their replay once the cause is fixed."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse

from adapters.postgres import dead_letters
from entrypoints.http.auth import ActorDep
from entrypoints.http.problems import problems
from procurement.errors import NotAllowed
from readmodels import dead_letter_replay
from schemas.commands import Actor, Role

router = APIRouter()


def _operator_only(actor: Actor) -> None:
    if actor.role is not Role.OPERATOR:
        raise NotAllowed("only the platform operator sees and replays dead letters")


@router.get("/health/dead-letters", tags=["platform"])
async def dead_letter_count(request: Request) -> dict[str, int]:
    """How many events the streams set aside and nobody has replayed yet; 0 is healthy."""
    return {"unresolved": await dead_letters.count_unresolved(request.app.state.pool)}


@router.get("/operations/dead-letters", tags=["operations"], responses=problems(401, 403))
async def list_dead_letters(
    request: Request, actor: ActorDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> dict[str, Any]:
    """The open dead letters, oldest first: which consumer set which event aside, and why
    (the platform operator only)."""
    _operator_only(actor)
    pool = request.app.state.pool
    letters = await dead_letters.unresolved(pool, limit)
    return {
        "items": [letter.public() for letter in letters],
        "unresolved": await dead_letters.count_unresolved(pool),
    }


@router.post(
    "/operations/dead-letters/{letter_id}/replay",
    tags=["operations"],
    responses=problems(401, 403, 404, 409)
    | {
        202: {
            "description": "Queued for the relay, not published yet",
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
async def replay_dead_letter(
    request: Request, letter_id: Annotated[int, Path(ge=1, le=2**63 - 1)], actor: ActorDep
) -> JSONResponse:
    """Apply the event again to its projection, or publish it again, as the store holds it
    now; resolved when that succeeds, a problem with the new error when it still fails
    (the platform operator only)."""
    _operator_only(actor)
    outcome = await dead_letter_replay.replay(request.app.state.pool, letter_id)
    status = 200 if outcome == "resolved" else 202
    return JSONResponse({"id": letter_id, "status": outcome}, status)
