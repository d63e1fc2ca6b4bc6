"""Who is calling: a bearer token names an actor; no token is the public."""

from typing import Annotated
from uuid import UUID

from fastapi import Depends, Header, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from schemas.commands import Actor

_bearer = HTTPBearer(auto_error=False)
_CHALLENGE = {"WWW-Authenticate": "Bearer"}


async def optional_actor(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor | None:
    if credentials is None:
        return None
    actor: Actor | None = await request.app.state.handler.authenticate(credentials.credentials)
    if actor is None:
        raise HTTPException(401, "the bearer token is not valid", headers=_CHALLENGE)
    return actor


async def bearer(request: Request) -> Actor:
    """``current_actor`` without FastAPI's dependency machinery, for the hottest routes."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(401, "this action needs a bearer token", headers=_CHALLENGE)
    actor: Actor | None = await request.app.state.handler.authenticate(token.strip())
    if actor is None:
        raise HTTPException(401, "the bearer token is not valid", headers=_CHALLENGE)
    return actor


async def current_actor(actor: Annotated[Actor | None, Depends(optional_actor)]) -> Actor:
    if actor is None:
        raise HTTPException(401, "this action needs a bearer token", headers=_CHALLENGE)
    return actor


ActorDep = Annotated[Actor, Depends(current_actor)]
OptionalActorDep = Annotated[Actor | None, Depends(optional_actor)]
IdempotencyKey = Annotated[
    UUID | None,
    Header(description="Repeat a command safely: the same key returns the first answer."),
]
