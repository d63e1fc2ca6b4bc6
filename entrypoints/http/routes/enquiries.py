"""HTTP routes for questions about a tender: registered suppliers ask in the enquiry
period, the buyer's officers answer, anyone reads both, never who asked."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from entrypoints.http.auth import ActorDep, IdempotencyKey
from entrypoints.http.command_routes import command_of, handle
from procurement.errors import NotFound
from readmodels.clarifications import TenderEnquiries, clarifications, enquiries_shown
from schemas.enquiries import (
    AnswerQuestion,
    AskQuestion,
    EnquiryAsked,
    EnquiryQuestion,
    EnquiryReply,
)
from schemas.values import Identifier

router = APIRouter()


@router.post("/tenders/{ocid}/enquiries", status_code=201, tags=["tenders"])
async def ask_question(
    request: Request,
    ocid: str,
    body: EnquiryQuestion,
    actor: ActorDep,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Ask the buyer a question (a registered supplier, before the enquiry period ends).
    The question and its answer are public; who asked is not."""
    command = command_of(AskQuestion, body.model_dump() | {"ocid": ocid})
    outcome = await request.app.state.handler.dispatch(command, actor, key)
    [asked] = [e.event for e in outcome.events if isinstance(e.event, EnquiryAsked)]
    answer = outcome.response() | {"replayed": outcome.replayed, "enquiry_id": asked.enquiry_id}
    return JSONResponse(answer, 201)


@router.post("/tenders/{ocid}/enquiries/{enquiry_id}/answer", status_code=201, tags=["tenders"])
async def answer_question(
    request: Request,
    ocid: str,
    enquiry_id: str,
    body: EnquiryReply,
    actor: ActorDep,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Answer a question (buyer's officer, before the deadline). An answer that changes the
    documents names the document whose new version it published; an answer less than the
    rules' period before the deadline extends it."""
    path = {"ocid": ocid, "enquiry_id": enquiry_id}
    return await handle(request, AnswerQuestion, body, path, actor, key)


@router.get("/tenders/{ocid}/enquiries", tags=["public"], response_model=TenderEnquiries)
async def list_enquiries(request: Request, ocid: Identifier) -> TenderEnquiries:
    """The questions and answers, without the askers, and when the enquiry period ends."""
    found = await clarifications(request.app.state.pool, ocid, request.app.state.rules)
    if found is None:
        raise NotFound(f"there is no published tender {ocid}")
    return enquiries_shown(*found)
