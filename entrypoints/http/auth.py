"""Who is calling: a bearer token names an actor; no token is the public.

Each API process keeps the actors of the tokens it has seen, and checks each one's expiry
on every hit. It keeps them only while it listens on PostgreSQL's ``credentials_revoked``
announcements, and drops a token as soon as its revocation is announced; a token revoked
by this process is dropped before the answer leaves. Without a listening connection (not
yet started, or lost) every check reads the database.
"""

import hmac
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Header, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from adapters.postgres import credentials
from adapters.postgres.credentials import Credential
from adapters.settings import Settings
from app.handlers import Clock
from entrypoints.http.announcements import Announcements
from schemas.commands import Actor, Role

_bearer = HTTPBearer(auto_error=False)
_CHALLENGE = {"WWW-Authenticate": "Bearer"}
MAX_CACHED_ACTORS = 100_000
OPERATOR = Actor(id="operator", role=Role.OPERATOR)


class TokenRefused(Exception):
    """The bearer token names nobody now; the message says why."""


class CredentialCache:
    def __init__(self, pool: Any, settings: Settings, clock: Clock) -> None:
        self.pool = pool
        self.settings = settings
        self.clock = clock
        self._known: dict[bytes, Credential] = {}
        self._revocations = Announcements(pool, credentials.REVOCATIONS, self._revoked)

    async def actor(self, token: str) -> Actor:
        """The actor ``token`` names; raises ``TokenRefused`` saying why when it names none."""
        admin = self.settings.admin_token
        if admin is not None and hmac.compare_digest(token.encode(), admin.encode()):
            return OPERATOR  # the configured operator's token does not expire
        digest = credentials.digest(token)
        credential = self._known.get(digest) or await self._read(digest)
        if credential is None:
            raise TokenRefused("the bearer token is not valid")
        if (refusal := credential.refusal(self.clock())) is not None:
            self._known.pop(digest, None)
            raise TokenRefused(refusal)
        return credential.actor

    def forget(self, *digests: bytes) -> None:
        for digest in digests:
            self._known.pop(digest, None)

    async def close(self) -> None:
        await self._revocations.close()

    async def _read(self, digest: bytes) -> Credential | None:
        await self._revocations.listen()
        heard = self._revocations.count
        credential = await credentials.find(self.pool, digest, self.settings.token_lifetime)
        # A revocation announced while the row was read may be this token's: keep nothing.
        keep = self._revocations.listening and heard == self._revocations.count
        if keep and credential is not None and len(self._known) < MAX_CACHED_ACTORS:
            self._known[digest] = credential
        return credential

    def _revoked(self, payload: str | None) -> None:
        if payload is None:  # revocations may be missed from here on: keep nothing
            self._known.clear()
        else:
            self._known.pop(bytes.fromhex(payload), None)


async def check_token(state: Any, token: str) -> Actor:
    """The actor a bearer token names, for any caller holding the app's ``state`` (a
    middleware too); a 401 problem saying why when it names none."""
    try:
        actor: Actor = await state.credentials.actor(token)
    except TokenRefused as refused:
        raise HTTPException(401, str(refused), headers=_CHALLENGE) from None
    return actor


async def actor_for_token(state: Any, token: str) -> Actor | None:
    """The actor a bearer token names, or None when it names none (unknown, expired or
    revoked); usable outside FastAPI's dependencies."""
    try:
        actor: Actor = await state.credentials.actor(token)
    except TokenRefused:
        return None
    return actor


def bearer_token(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(401, "this action needs a bearer token", headers=_CHALLENGE)
    return token.strip()


async def optional_actor(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor | None:
    if credentials is None:
        return None
    return await check_token(request.app.state, credentials.credentials)


async def bearer(request: Request) -> Actor:
    """``current_actor`` without FastAPI's dependency machinery, for the hottest routes."""
    return await check_token(request.app.state, bearer_token(request))


async def current_actor(actor: Annotated[Actor | None, Depends(optional_actor)]) -> Actor:
    if actor is None:
        raise HTTPException(401, "this action needs a bearer token", headers=_CHALLENGE)
    return actor


ActorDep = Annotated[Actor, Depends(current_actor)]
OptionalActorDep = Annotated[Actor | None, Depends(optional_actor)]
# The header's name is fixed here, not derived from each route's parameter name.
IdempotencyKey = Annotated[
    UUID | None,
    Header(
        alias="Idempotency-Key",
        description="Repeat a command safely: the same key returns the first answer.",
    ),
]
