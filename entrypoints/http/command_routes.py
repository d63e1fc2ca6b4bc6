"""What the routes that take one command each share: a body model without the field the
path gives, and handling the command built from both."""

from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError, create_model

from procurement.errors import Rejected
from schemas.base import Message
from schemas.commands import Actor

C = TypeVar("C", bound=BaseModel)


def body_without(command: type[BaseModel], path_field: str) -> type[BaseModel]:
    """The command's JSON body: every field but the one the path gives."""
    fields: dict[str, Any] = {
        name: (info.annotation, info)
        for name, info in command.model_fields.items()
        if name != path_field
    }
    return create_model(f"{command.__name__}Body", __base__=Message, **fields)


def command_of(command: type[C], fields: dict[str, Any]) -> C:
    """The command from the body's fields and the path's. The path is not validated on the
    way in, so a value there that breaks the command's rules (an ocid that is no
    identifier) is refused here as an invalid request, not left to crash the route."""
    try:
        return command.model_validate(fields)
    except ValidationError as error:
        raise Rejected(str(error), code="invalid_request") from error


async def handle(
    request: Request,
    command: type[BaseModel],
    body: BaseModel,
    path: dict[str, str],
    actor: Actor,
    key: Any,
) -> JSONResponse:
    """Build the command from the body and the path, handle it, answer 201."""
    full = command_of(command, body.model_dump() | path)
    outcome = await request.app.state.handler.dispatch(full, actor, key)
    return JSONResponse(outcome.response() | {"replayed": outcome.replayed}, 201)
