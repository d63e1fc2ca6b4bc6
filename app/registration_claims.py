"""The edge of registration claims: the claims still open, and the writes that hand an
accepted claimant the number, in the transaction that records the operator's decision."""

from datetime import datetime
from typing import Any

from adapters.postgres import credentials, eventstore
from procurement.parties import skeleton
from schemas.claims import RegistrationClaimed
from schemas.commands import Actor, Role
from schemas.events import Envelope

_OPEN = """
SELECT envelope->'event' AS claim, occurred_at FROM events claimed
WHERE type = 'RegistrationClaimed' AND NOT EXISTS (
    SELECT 1 FROM events decided
    WHERE decided.aggregate_id = claimed.aggregate_id AND decided.type = 'RegistrationClaimDecided'
)
ORDER BY position LIMIT $1
"""
_KEY = """
INSERT INTO party_keys (party_id, role, signing_key) VALUES ($1, $2, $3)
ON CONFLICT (party_id) DO UPDATE SET role = EXCLUDED.role, signing_key = EXCLUDED.signing_key
"""


async def open_claims(pool: Any, limit: int) -> list[dict[str, Any]]:
    """The claims awaiting the operator, oldest first, without the claimant's key."""
    rows = await pool.fetch(_OPEN, limit)
    return [
        {
            key: value
            for key, value in RegistrationClaimed.model_validate_json(row["claim"])
            .model_dump(mode="json")
            .items()
            if key not in {"type", "signing_key"}
        }
        | {"claimed_at": row["occurred_at"].isoformat()}
        for row in rows
    ]


async def transfer(
    connection: Any,
    claim: RegistrationClaimed,
    registration: Envelope,
    token: str,
    expires_at: datetime,
) -> None:
    """Suspend the holder, whose tokens stop working at once, and register the claimant
    with its own key and a new token; the number now reads as the claimant's."""
    await credentials.revoke_party(connection, claim.holder_id)
    await eventstore.append(connection, [registration])
    claimant = Actor(id=claim.claimant_id, role=Role.SUPPLIER)
    await credentials.store(connection, token, claimant, expires_at)
    await connection.execute(_KEY, claim.claimant_id, Role.SUPPLIER.value, claim.signing_key)
    await connection.execute(
        "UPDATE party_identifiers SET identifier = $1 WHERE kind = 'supplier' AND skeleton = $2",
        claim.identifier,
        skeleton(claim.holder_identifier),
    )
