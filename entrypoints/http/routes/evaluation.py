"""HTTP routes for the evaluation: one POST per command, under /tenders/{ocid}/evaluation/,
the committee's and the buyer's view of it, and the public awards.

Each route's body is its command without ``ocid``, which the path gives.
"""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from adapters.postgres import eventstore
from entrypoints.http.auth import ActorDep, IdempotencyKey
from entrypoints.http.command_routes import body_without, handle
from entrypoints.http.routes.award_evidence import Ocid
from procurement import evaluation
from procurement.errors import NotAllowed, NotFound
from readmodels import complaints as complaint_reads
from schemas.commands import Role
from schemas.evaluation import (
    AcceptJustification,
    AnnulAward,
    AnswerClarification,
    CancelLot,
    CancelProcedure,
    CompleteLotEvaluation,
    DecideAward,
    DismissComplaint,
    DisqualifyBid,
    EvaluationCommand,
    FileComplaint,
    QualifyBid,
    RejectJustification,
    RequestClarification,
    RequestJustification,
    ScoreQuality,
    SubmitJustification,
    UpholdComplaint,
)
from schemas.remedies import PublicComplaints

router = APIRouter()

# The path of each command, and who sends it (see procurement.evaluation).
COMMANDS: dict[str, tuple[type[EvaluationCommand], str]] = {
    "clarifications": (RequestClarification, "a committee member asks a bidder"),
    "clarification-answers": (AnswerClarification, "the bidder answers"),
    "qualifications": (QualifyBid, "a committee member finds a bid admissible"),
    "disqualifications": (DisqualifyBid, "a committee member rejects a bid, with the reason"),
    "scores": (ScoreQuality, "a committee member's signed score for a quality criterion"),
    "lot-completions": (CompleteLotEvaluation, "the buyer closes a lot's evaluation: rank it"),
    "justification-requests": (RequestJustification, "the buyer asks about a low price"),
    "justifications": (SubmitJustification, "the bidder justifies its price"),
    "justification-acceptances": (AcceptJustification, "the buyer accepts the justification"),
    "justification-rejections": (RejectJustification, "the buyer rejects it: the bid is out"),
    "awards": (DecideAward, "the buyer confirms the award of a lot; the standstill starts"),
    "award-annulments": (AnnulAward, "the buyer annuls an award: the next-ranked bid may win"),
    "complaints": (FileComplaint, "a tenderer complains about an award during its standstill"),
    "complaint-upholdings": (UpholdComplaint, "a reviewer upholds a complaint"),
    "complaint-dismissals": (DismissComplaint, "a reviewer dismisses a complaint"),
    "lot-cancellations": (CancelLot, "the buyer cancels a lot, with the reason"),
    "cancellation": (CancelProcedure, "the buyer cancels the whole procedure"),
}


def _add(path: str, command: type[EvaluationCommand], summary: str) -> None:
    body_model = body_without(command, "ocid")

    async def send(
        request: Request,
        ocid: str,
        body: body_model,  # type: ignore[valid-type]
        actor: ActorDep,
        key: IdempotencyKey = None,
    ) -> JSONResponse:
        return await handle(request, command, body, {"ocid": ocid}, actor, key)

    router.post(
        f"/tenders/{{ocid}}/evaluation/{path}",
        status_code=201,
        tags=["evaluation"],
        summary=summary,
        name=f"evaluation-{path}",
    )(send)


for _path, (_command, _summary) in COMMANDS.items():
    _add(_path, _command, _summary)


@router.get("/tenders/{ocid}/evaluation", tags=["evaluation"])
async def evaluation_view(request: Request, ocid: str, actor: ActorDep) -> dict[str, Any]:
    """The evaluation as the committee and the buyer's officers see it: each lot's status,
    its ranking by the published formula, and what it still needs."""
    history = await eventstore.load(request.app.state.pool, evaluation.evaluation_id(ocid))
    state = evaluation.replay(item.event for item in history)
    if state is None:
        raise NotFound(f"the evaluation of {ocid} has not started: the bids are not opened")
    insider = actor.id in state.facts.committee or (
        actor.role is Role.OFFICER and actor.agency_id == state.facts.buyer_id
    )
    if not insider:
        raise NotAllowed(
            f"only the committee and the buyer's officers see the evaluation of {ocid}"
        )
    now = request.app.state.handler.clock()
    return {
        "ocid": ocid,
        "tie_break": evaluation.TIE_BREAK,
        "lots": [
            {
                "lot_id": lot_id,
                "status": lot.status.value,
                "decisions": {  # the committee's latest decision on each bid, for this lot
                    bid_id: {"admissible": decision.admissible, "reason": decision.reason}
                    for bid_id, decision in lot.decisions.items()
                },
                "ranking": [r.model_dump(mode="json") for r in evaluation.ranking(state, lot_id)],
                "still_needed": evaluation.what_the_evaluation_still_needs(state, lot_id, now),
            }
            for lot_id, lot in state.lots.items()
        ],
    }


@router.get("/tenders/{ocid}/complaints", tags=["public"], response_model=PublicComplaints)
async def complaints(request: Request, ocid: Ocid) -> PublicComplaints:
    """Every complaint about the tender's awards, who filed it and on what grounds, and the
    review body's decision with its reasons and remedy (Directive 89/665/EEC)."""
    return await complaint_reads.complaints(request.app.state.pool, ocid)


@router.get("/tenders/{ocid}/awards", tags=["public"])
async def awards(request: Request, ocid: str) -> dict[str, Any]:
    """The tender's awards, per lot: winner, value, standstill, and status."""
    rows = await request.app.state.pool.fetch(
        "SELECT lot_id, bidder_id, amount, currency, decided_at, standstill_ends, status"
        " FROM awards WHERE ocid = $1 ORDER BY lot_id",
        ocid,
    )
    return {
        "ocid": ocid,
        "awards": [
            {
                "lot_id": r["lot_id"],
                "supplier_id": r["bidder_id"],
                "value": {"amount": str(r["amount"]), "currency": r["currency"]},
                "decided_at": r["decided_at"].isoformat(),
                "standstill_ends": r["standstill_ends"].isoformat(),
                "status": r["status"],
            }
            for r in rows
        ],
    }
