"""HTTP routes for contracts: drawn from an award after its standstill, signed by both
parties, amended, and followed through milestones and payments; readable by anyone."""

import base64
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from adapters.postgres import eventstore
from contracts import contract
from entrypoints.http.auth import ActorDep, IdempotencyKey
from entrypoints.http.command_routes import body_without, handle
from procurement.errors import NotFound
from schemas.contracts import (
    AmendContract,
    CompleteContract,
    DrawContract,
    RecordMilestone,
    RecordPayment,
    SignContract,
    TerminateContract,
)

router = APIRouter()


DrawBody = body_without(DrawContract, "ocid")


@router.post("/tenders/{ocid}/contracts", status_code=201, tags=["contracts"])
async def draw_contract(
    request: Request,
    ocid: str,
    body: DrawBody,  # type: ignore[valid-type]
    actor: ActorDep,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Draw the contract of an awarded lot, once its standstill is over (buyer's officer)."""
    return await handle(request, DrawContract, body, {"ocid": ocid}, actor, key)


STEPS: dict[str, tuple[type[BaseModel], str]] = {
    "signatures": (SignContract, "the buyer's officer or the supplier signs the document hash"),
    "amendments": (AmendContract, "the buyer amends value or end date, with a reason"),
    "milestones": (RecordMilestone, "the buyer records a milestone"),
    "payments": (RecordPayment, "the buyer records a payment"),
    "completion": (CompleteContract, "the buyer records that the contract is complete"),
    "termination": (TerminateContract, "the buyer terminates the contract, with a reason"),
}


def _add(path: str, model: type[BaseModel], summary: str) -> None:
    body_model = body_without(model, "contract_id")

    async def step(
        request: Request,
        contract_id: str,
        body: body_model,  # type: ignore[valid-type]
        actor: ActorDep,
        key: IdempotencyKey = None,
    ) -> JSONResponse:
        return await handle(request, model, body, {"contract_id": contract_id}, actor, key)

    router.post(
        f"/contracts/{{contract_id}}/{path}",
        status_code=201,
        tags=["contracts"],
        summary=summary,
        name=f"contract-{path}",
    )(step)


for _path, (_model, _summary) in STEPS.items():
    _add(_path, _model, _summary)


@router.get("/contracts/{contract_id}", tags=["public"])
async def read_contract(request: Request, contract_id: str) -> dict[str, Any]:
    """A contract as anyone sees it: the signed document and its hash, signatures, the
    current value and period, amendments, milestones and payments."""
    history = await eventstore.load(request.app.state.pool, contract_id)
    state = contract.replay(item.event for item in history)
    if state is None:
        raise NotFound(f"there is no contract {contract_id}")
    return {
        "contract_id": contract_id,
        "status": contract.ocds_status(state),
        "document": contract.document_of(state.drawn),
        "document_sha256": state.drawn.document_sha256,
        "value": state.value.model_dump(mode="json"),
        "period": state.period.model_dump(mode="json"),
        "signatures": [
            {
                "party": str(party),
                "signer_id": signed.signer_id,
                "public_key": base64.b64encode(signed.public_key).decode(),
                "signature": base64.b64encode(signed.signature).decode(),
                "signed_at": signed.signed_at.isoformat(),
            }
            for party, signed in state.signatures.items()
        ],
        "amendments": len(state.amendments),
        "milestones": len(state.milestones),
        "payments": len(state.payments),
    }
