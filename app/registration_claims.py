"""The edge of registration claims: the claims still open. The writes that hand an
accepted claimant the number are ``app.records.HandOver`` and the policy in
``app.policies``."""

from typing import Any

from schemas.claims import RegistrationClaimed

_OPEN = """
SELECT envelope->'event' AS claim, occurred_at FROM events claimed
WHERE type = 'RegistrationClaimed' AND NOT EXISTS (
    SELECT 1 FROM events decided
    WHERE decided.aggregate_id = claimed.aggregate_id AND decided.type = 'RegistrationClaimDecided'
)
ORDER BY position LIMIT $1
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
