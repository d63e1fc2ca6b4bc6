"""Bearer tokens of officers and suppliers: issued with an expiry, kept as SHA-256 digests
only, revoked by marking their row (which stays, as the record of the party's role).

Revoking announces the digest on ``credentials_revoked`` (a trigger in schema.sql), so
that every API process drops it from its cache at once.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from schemas.commands import Actor, Role

REVOCATIONS = "credentials_revoked"


@dataclass(frozen=True)
class Credential:
    actor: Actor
    expires_at: datetime
    revoked: bool

    def refusal(self, now: datetime) -> str | None:
        """Why the token no longer names its actor, or None while it does."""
        if self.revoked:
            return "the bearer token was revoked"
        if now >= self.expires_at:
            return (
                f"the bearer token expired at {self.expires_at.isoformat(timespec='seconds')};"
                " get a new one from the operator"
            )
        return None


def digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


async def store(connection: Any, token: str, actor: Actor, expires_at: datetime) -> None:
    await connection.execute(
        "INSERT INTO credentials (token_sha256, party_id, role, agency_id, expires_at)"
        " VALUES ($1, $2, $3, $4, $5)",
        digest(token),
        actor.id,
        actor.role.value,
        actor.agency_id,
        expires_at,
    )


async def issue(
    connection: Any, actor: Actor, now: datetime, lifetime: timedelta
) -> tuple[str, datetime]:
    """A new token for ``actor``, and when it expires; only its digest is stored."""
    token, expires_at = new_token(), now + lifetime
    await store(connection, token, actor, expires_at)
    return token, expires_at


async def find(connection: Any, token_digest: bytes, lifetime: timedelta) -> Credential | None:
    # Tokens issued before expiry existed have none recorded: they live from their creation.
    row = await connection.fetchrow(
        "SELECT party_id, role, agency_id, revoked_at IS NOT NULL AS revoked,"
        " coalesce(expires_at, created_at + $2::interval) AS expires_at"
        " FROM credentials WHERE token_sha256 = $1",
        token_digest,
        lifetime,
    )
    if row is None:
        return None
    actor = Actor(id=row["party_id"], role=Role(row["role"]), agency_id=row["agency_id"])
    return Credential(actor, row["expires_at"], row["revoked"])


async def revoke(connection: Any, token_digest: bytes) -> bool:
    """Revoke one token; False when it was revoked already (or never issued)."""
    revoked = await connection.fetchval(
        "UPDATE credentials SET revoked_at = now()"
        " WHERE token_sha256 = $1 AND revoked_at IS NULL RETURNING 1",
        token_digest,
    )
    return revoked is not None


async def revoke_party(connection: Any, party_id: str) -> list[bytes]:
    """Revoke every token of a party that is not revoked yet; their digests."""
    rows = await connection.fetch(
        "UPDATE credentials SET revoked_at = now()"
        " WHERE party_id = $1 AND revoked_at IS NULL RETURNING token_sha256",
        party_id,
    )
    return [row["token_sha256"] for row in rows]


async def party(connection: Any, party_id: str) -> Actor | None:
    """The actor a party's tokens name, from its latest one, revoked or not."""
    row = await connection.fetchrow(
        "SELECT role, agency_id FROM credentials WHERE party_id = $1"
        " ORDER BY created_at DESC LIMIT 1",
        party_id,
    )
    if row is None:
        return None
    return Actor(id=party_id, role=Role(row["role"]), agency_id=row["agency_id"])
