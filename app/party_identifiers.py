"""Registered identifiers by what they look like, so that a look-alike of one is refused.

The skeleton (``procurement.parties.skeleton``) is the key of ``party_identifiers``: a
second identifier that reads as the first meets it there, and two look-alikes registered
at once cannot both insert. Identifiers registered before the table existed are added the
first time each process registers a party.
"""

from typing import Any

from procurement.parties import skeleton

REGISTERED = {"AgencyRegistered": "agency", "SupplierRegistered": "supplier"}

_BACKFILL = """
SELECT type, envelope->'event'->>'identifier' AS identifier
FROM events WHERE type = ANY($1::text[])
"""
_INSERT = "INSERT INTO party_identifiers (kind, skeleton, identifier) VALUES ($1, $2, $3)"


class Identifiers:
    def __init__(self, pool: Any) -> None:
        self.pool = pool
        self._complete = False

    async def look_alike(self, connection: Any, kind: str, identifier: str) -> str | None:
        """The registered ``kind`` identifier that reads as ``identifier``, if there is one."""
        if not self._complete:
            # On a connection of its own: the command's transaction may yet be refused.
            async with self.pool.acquire() as own:
                await _backfill(own)
            self._complete = True
        found: str | None = await connection.fetchval(
            "SELECT identifier FROM party_identifiers WHERE kind = $1 AND skeleton = $2",
            kind,
            skeleton(identifier),
        )
        return found


async def remember(connection: Any, kind: str, identifier: str) -> None:
    """Record a registered identifier, in the transaction that registers it."""
    await connection.execute(_INSERT, kind, skeleton(identifier), identifier)


async def _backfill(connection: Any) -> None:
    rows = await connection.fetch(_BACKFILL, list(REGISTERED))
    await connection.executemany(
        f"{_INSERT} ON CONFLICT DO NOTHING",
        [(REGISTERED[r["type"]], skeleton(r["identifier"]), r["identifier"]) for r in rows],
    )
