"""The edge rows a command writes beside its events, as data: who may act (credentials),
with which keys, under which registered identifiers. A decision returns them; the unit of
work hands them to the store, which writes them in the events' transaction (``write``, for
PostgreSQL) or keeps them (in memory).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import singledispatch
from typing import Any

from adapters.postgres import credentials
from app import party_identifiers
from procurement.parties import skeleton
from schemas.claims import RegistrationClaimed
from schemas.commands import Actor, Role


@dataclass(frozen=True)
class Credential:
    """A bearer token for ``actor``, shown once to whoever asked."""

    token: str
    actor: Actor
    expires_at: datetime


@dataclass(frozen=True)
class Identifier:
    """A registered identifier, so that a look-alike of it is refused."""

    kind: str  # agency or supplier
    identifier: str


@dataclass(frozen=True)
class PartyKeys:
    """A party's public keys: a supplier's signing key, or an officer's committee keys."""

    party_id: str
    role: Role
    signing_key: bytes
    agency_id: str | None = None
    encryption_key: bytes | None = None


@dataclass(frozen=True)
class HandOver:
    """An accepted claim: the holder is suspended, the claimant holds the number with its
    own key (its registration event is the policy's, in ``app.policies``)."""

    claim: RegistrationClaimed


async def write(connection: Any, records: Sequence[object]) -> None:
    for record in records:
        await _write(record, connection)


@singledispatch
async def _write(record: object, connection: Any) -> None:
    raise TypeError(f"no way to write {record!r}")


register = _write.register  # how another module's edge rows say how they are written


@_write.register
async def _(record: Credential, connection: Any) -> None:
    await credentials.store(connection, record.token, record.actor, record.expires_at)


@_write.register
async def _(record: Identifier, connection: Any) -> None:
    await party_identifiers.remember(connection, record.kind, record.identifier)


@_write.register
async def _(record: PartyKeys, connection: Any) -> None:
    await connection.execute(
        "INSERT INTO party_keys (party_id, role, agency_id, signing_key, encryption_key)"
        " VALUES ($1, $2, $3, $4, $5)",
        record.party_id,
        record.role.value,
        record.agency_id,
        record.signing_key,
        record.encryption_key,
    )


_CLAIMANT_KEY = """
INSERT INTO party_keys (party_id, role, signing_key) VALUES ($1, $2, $3)
ON CONFLICT (party_id) DO UPDATE SET role = EXCLUDED.role, signing_key = EXCLUDED.signing_key
"""


@_write.register
async def _(record: HandOver, connection: Any) -> None:
    claim = record.claim
    await credentials.revoke_party(connection, claim.holder_id)
    await connection.execute(
        _CLAIMANT_KEY, claim.claimant_id, Role.SUPPLIER.value, claim.signing_key
    )
    await connection.execute(
        "UPDATE party_identifiers SET identifier = $1 WHERE kind = 'supplier' AND skeleton = $2",
        claim.identifier,
        skeleton(claim.holder_identifier),
    )
