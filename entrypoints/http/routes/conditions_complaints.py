"""HTTP routes for complaints about a tender's conditions, before its submission deadline:
any registered supplier files one, a review officer of another body upholds or dismisses
it (``procurement.conditions_complaints``). ``GET /tenders/{ocid}/complaints`` lists them
with the awards' complaints."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from entrypoints.http.auth import ActorDep, IdempotencyKey
from entrypoints.http.command_routes import body_without, handle
from schemas.conditions_complaints import (
    DismissConditionsComplaint,
    FileConditionsComplaint,
    UpholdConditionsComplaint,
)

router = APIRouter()

FileBody = body_without(FileConditionsComplaint, "ocid")
Ruling = body_without(UpholdConditionsComplaint, "complaint_id")
RulingBody = body_without(Ruling, "ocid")


@router.post(
    "/tenders/{ocid}/complaints",
    status_code=201,
    tags=["remedies"],
    summary="a registered supplier complains about the tender's conditions, before the deadline",
)
async def file_complaint(
    request: Request,
    ocid: str,
    body: FileBody,  # type: ignore[valid-type]
    actor: ActorDep,
    key: IdempotencyKey = None,
) -> JSONResponse:
    return await handle(request, FileConditionsComplaint, body, {"ocid": ocid}, actor, key)


@router.post(
    "/tenders/{ocid}/complaints/{complaint_id}/upholding",
    status_code=201,
    tags=["remedies"],
    summary="a review officer upholds it: the buyer must amend significantly or cancel",
)
async def uphold(
    request: Request,
    ocid: str,
    complaint_id: str,
    body: RulingBody,  # type: ignore[valid-type]
    actor: ActorDep,
    key: IdempotencyKey = None,
) -> JSONResponse:
    path = {"ocid": ocid, "complaint_id": complaint_id}
    return await handle(request, UpholdConditionsComplaint, body, path, actor, key)


@router.post(
    "/tenders/{ocid}/complaints/{complaint_id}/dismissal",
    status_code=201,
    tags=["remedies"],
    summary="a review officer dismisses it, with reasons",
)
async def dismiss(
    request: Request,
    ocid: str,
    complaint_id: str,
    body: RulingBody,  # type: ignore[valid-type]
    actor: ActorDep,
    key: IdempotencyKey = None,
) -> JSONResponse:
    path = {"ocid": ocid, "complaint_id": complaint_id}
    return await handle(request, DismissConditionsComplaint, body, path, actor, key)
