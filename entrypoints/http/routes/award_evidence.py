"""Public routes of the award evidence: what each decided lot's award rests on, and the
sealed bid log's leaf hashes, for anyone to check (docs/award-evidence.md)."""

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi import Path as PathParam

from entrypoints.http.problems import problems
from procurement.errors import NotFound, WrongState
from readmodels import award_evidence as reads
from schemas.award_evidence import AwardEvidence, BidLogLeaves

router = APIRouter(tags=["public"])

# A tender's ocid, as the platform writes identifiers: anything else is an invalid request.
Ocid = Annotated[str, PathParam(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][\w.:-]*$")]


def _unknown(ocid: str) -> NotFound:
    return NotFound(f"no tender {ocid} was published on this platform", code="unknown_tender")


@router.get("/tenders/{ocid}/award-evidence", response_model=AwardEvidence, responses=problems(404))
async def award_evidence(request: Request, ocid: Ocid) -> AwardEvidence:
    """For each lot whose award is decided, everything the award rests on: the rules, the
    sealed log's head, every bid's receipt, leaf, verdicts and signed scores, the auction's
    price history, and the ranking with every term; lots not decided show their status only."""
    try:
        return await reads.award_evidence(request.app.state.pool, ocid)
    except reads.UnknownTender as unknown:
        raise _unknown(ocid) from unknown


@router.get(
    "/tenders/{ocid}/bid-log/leaves", response_model=BidLogLeaves, responses=problems(404, 409)
)
async def bid_log_leaves(request: Request, ocid: Ocid) -> BidLogLeaves:
    """The sealed bid log's leaf hashes in log order, once it is sealed at the deadline;
    before, they are withheld, since they would tell how many bids there are."""
    try:
        sealed = await reads.sealed_leaves(request.app.state.pool, ocid)
    except reads.UnknownTender as unknown:
        raise _unknown(ocid) from unknown
    if sealed is None:
        msg = (
            f"the bid log of {ocid} is not sealed: it is sealed at the submission deadline, "
            "and its leaves are public from then on"
        )
        raise WrongState(msg, code="bid_log_not_sealed")
    return BidLogLeaves(
        ocid=ocid, tree_size=sealed.tree_size, root=sealed.root, leaves=tuple(sealed.leaves)
    )
