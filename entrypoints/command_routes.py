"""What the routes that take one command each share: a body model without the field the
path gives, and handling the command built from both."""

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError, create_model

from procurement.errors import Rejected
from schemas.base import Message
from schemas.commands import Actor


def body_without(command: type[BaseModel], path_field: str) -> type[BaseModel]:
    """The command's JSON body: every field but the one the path gives."""
    fields: dict[str, Any] = {
        name: (info.annotation, info)
        for name, info in command.model_fields.items()
        if name != path_field
    }
    return create_model(f"{command.__name__}Body", __base__=Message, **fields)


async def handle(
    request: Request,
    command: type[BaseModel],
    body: BaseModel,
    path: dict[str, str],
    actor: Actor,
    key: Any,
) -> JSONResponse:
    """Build the command from the body and the path, handle it, answer 201."""
    try:
        full = command.model_validate(body.model_dump() | path)
    except ValidationError as error:
        raise Rejected(str(error), code="invalid_request") from error
    outcome = await request.app.state.handler.handle(full, actor, key)
    return JSONResponse(outcome.response() | {"replayed": outcome.replayed}, 201)
