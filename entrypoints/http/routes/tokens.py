"""HTTP routes for bearer tokens: rotate one's own, revoke one's own, and the operator's
revocation and reissue of any party's tokens.

A reissue retried with its Idempotency-Key cannot be answered with the first answer: that
would mean keeping the token, a bearer secret, to show it again. The retry is refused as a
used key instead, naming the token issued by its id (the start of its digest), so that the
operator can tell it was issued, and revoke the party's tokens if the first answer was lost.

The router's lifespan gives the app its credential cache (entrypoints.http.auth), which every
authenticated route reads, and starts it listening for revocations.
"""

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse

from adapters.postgres import credentials
from entrypoints.http.auth import ActorDep, CredentialCache, IdempotencyKey, bearer_token
from entrypoints.http.problems import PROBLEM, problems
from procurement.errors import NotAllowed, NotFound, Rejected, WrongState
from readmodels import notices
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
    """Revoke every token of a party (the operator only), and end its private feed link:
    a token issued to it later does not bring the old link back."""
    async with request.app.state.pool.acquire() as connection, connection.transaction():
        await _known_party(connection, party_id, actor)
        revoked = await credentials.revoke_party(connection, party_id)
        await notices.end_feed_link(connection, party_id)
    request.app.state.credentials.forget(*revoked)
    return {"party_id": party_id, "revoked": len(revoked)}


@router.post(
    "/parties/{party_id}/tokens", status_code=201, responses=problems(401, 403, 404, 409, 422)
)
async def reissue_party_token(
    request: Request, party_id: str, actor: ActorDep, key: IdempotencyKey = None
) -> Any:
    """A new token for a party whose token expired or was lost (the operator only); its
    other tokens are left as they are. The answer holds the token once; a retry under the
    same Idempotency-Key is refused (409 ``idempotency_key_used``) with the id of the token
    issued, never the token again."""
    async with request.app.state.pool.acquire() as connection, connection.transaction():
        party = await _known_party(connection, party_id, actor)
        asked = _fingerprint(actor, party_id)
        if key is not None and (issued := await _issued_under(connection, key, asked)):
            return _key_used(key, issued)
        answer = await _issue(connection, request.app.state.credentials, party)
        if key is not None:
            handled = {"token_id": answer["token_id"], "expires_at": answer["expires_at"]}
            await connection.execute(
                "INSERT INTO handled_commands (command_id, fingerprint, aggregate_id, response)"
                " VALUES ($1, $2, $3, $4)",
                key,
                asked,
                party_id,
                handled,
            )
        return answer


def _fingerprint(actor: Actor, party_id: str) -> bytes:
    return hashlib.sha256(f"{actor.id}|ReissueToken|{party_id}".encode()).digest()


async def _issued_under(connection: Any, key: UUID, asked: bytes) -> dict[str, Any] | None:
    """What a reissue under ``key`` recorded, waiting for a concurrent one to finish."""
    raw = key.bytes
    lock = int.from_bytes(raw[:4], signed=True), int.from_bytes(raw[4:8], signed=True)
    await connection.execute("SELECT pg_advisory_xact_lock($1, $2)", *lock)
    row = await connection.fetchrow(
        "SELECT fingerprint, response FROM handled_commands WHERE command_id = $1", key
    )
    if row is None:
        return None
    if bytes(row["fingerprint"]) != asked:
        msg = f"idempotency key {key} was already used for a different request"
        raise Rejected(msg, code="idempotency_key_reused")
    issued: dict[str, Any] = row["response"]  # jsonb, read as a dict by the pool's codec
    return issued


def _key_used(key: UUID, issued: dict[str, Any]) -> JSONResponse:
    token_id = issued["token_id"]
    detail = (
        f"idempotency key {key} already issued token {token_id}, which is shown only once;"
        " if its answer was lost, revoke the party's tokens and reissue under a new key"
    )
    body: dict[str, Any] = {"type": "urn:procurement:problem:idempotency_key_used"}
    body |= {"title": "Conflict"}
    body |= {"status": 409, "detail": detail, "code": "idempotency_key_used"}
    body |= {"token_id": token_id, "expires_at": issued["expires_at"]}
    return JSONResponse(body, 409, media_type=PROBLEM)


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
    token_id = credentials.digest(token).hex()[:16]  # names the token without revealing it
    answer = {"party_id": actor.id, "token": token, "token_id": token_id}
    return answer | {"expires_at": expires_at.isoformat()}
