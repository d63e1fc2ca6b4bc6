"""HTTP routes for bearer tokens: rotate one's own, revoke one's own, and the operator's
revocation and reissue of any party's tokens.

The router's lifespan gives the app its credential cache (entrypoints.http.auth), which every
authenticated route reads, and starts it listening for revocations.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response

from adapters.postgres import credentials
from entrypoints.http.auth import ActorDep, CredentialCache, bearer_token
from entrypoints.http.problems import problems
from procurement.errors import NotAllowed, NotFound, WrongState
from schemas.commands import Actor, Role


@asynccontextmanager
async def _credential_cache(app: FastAPI) -> AsyncIterator[None]:
    handler = app.state.handler
    app.state.credentials = CredentialCache(app.state.pool, handler.settings, handler.clock)
    yield
    await app.state.credentials.close()


router = APIRouter(tags=["tokens"], lifespan=_credential_cache)

_CONFIGURED = (
    "the operator's token is configured, not issued: change PROCUREMENT_ADMIN_TOKEN"
    " (or admin-token in the data directory) and restart the platform"
)


@router.post("/tokens", status_code=201, responses=problems(401, 409))
async def rotate_token(request: Request, actor: ActorDep) -> dict[str, Any]:
    """A fresh token with a full lifetime; the token this request was made with is revoked.
    The answer holds the new token once."""
    if actor.role is Role.OPERATOR:
        raise WrongState(_CONFIGURED)
    old = credentials.digest(bearer_token(request))
    cache: CredentialCache = request.app.state.credentials
    async with request.app.state.pool.acquire() as connection, connection.transaction():
        if not await credentials.revoke(connection, old):  # a concurrent rotation won
            raise WrongState("this token was revoked while it was being rotated")
        answer = await _issue(connection, cache, actor)
    cache.forget(old)
    return answer


@router.delete("/tokens/current", status_code=204, responses=problems(401, 409))
async def revoke_own_token(request: Request, actor: ActorDep) -> Response:
    """Revoke the token this request was made with; it is refused from the next request on."""
    if actor.role is Role.OPERATOR:
        raise WrongState(_CONFIGURED)
    digest = credentials.digest(bearer_token(request))
    await credentials.revoke(request.app.state.pool, digest)
    request.app.state.credentials.forget(digest)
    return Response(status_code=204)


@router.delete("/parties/{party_id}/tokens", responses=problems(401, 403, 404))
async def revoke_party_tokens(request: Request, party_id: str, actor: ActorDep) -> dict[str, Any]:
    """Revoke every token of a party (the operator only)."""
    async with request.app.state.pool.acquire() as connection:
        await _known_party(connection, party_id, actor)
        revoked = await credentials.revoke_party(connection, party_id)
    request.app.state.credentials.forget(*revoked)
    return {"party_id": party_id, "revoked": len(revoked)}


@router.post("/parties/{party_id}/tokens", status_code=201, responses=problems(401, 403, 404))
async def reissue_party_token(request: Request, party_id: str, actor: ActorDep) -> dict[str, Any]:
    """A new token for a party whose token expired or was lost (the operator only); its
    other tokens are left as they are. The answer holds the token once."""
    async with request.app.state.pool.acquire() as connection:
        party = await _known_party(connection, party_id, actor)
        return await _issue(connection, request.app.state.credentials, party)


async def _known_party(connection: Any, party_id: str, actor: Actor) -> Actor:
    if actor.role is not Role.OPERATOR:
        raise NotAllowed("only the operator manages another party's tokens")
    party = await credentials.party(connection, party_id)
    if party is None:
        raise NotFound(f"no party {party_id} has ever held a token")
    return party


async def _issue(connection: Any, cache: CredentialCache, actor: Actor) -> dict[str, Any]:
    lifetime = cache.settings.token_lifetime
    token, expires_at = await credentials.issue(connection, actor, cache.clock(), lifetime)
    return {"party_id": actor.id, "token": token, "expires_at": expires_at.isoformat()}
