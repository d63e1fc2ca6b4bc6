"""The signed head of each sealed bid log: signed by the platform key and, when an authority
is configured, time-stamped (RFC 3161), once, then kept and served as first made.

The head's time is the seal's (the ``BidLogSealed`` event's ``occurred_at``); the
authority's token shows that the head existed no later than its own ``genTime``.
"""

import json
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters import timestamping
from bidding import tree_heads
from schemas.events import BidLogSealed
from schemas.tree_heads import SignedTreeHead
from schemas.upcasting import read_envelope

_STORED = "SELECT head FROM bid_log_heads WHERE ocid = $1"
_SEALED = """
SELECT envelope FROM events
WHERE aggregate_id = $1 AND type = 'BidLogSealed' ORDER BY sequence LIMIT 1
"""
_KEEP = "INSERT INTO bid_log_heads (ocid, head) VALUES ($1, $2) ON CONFLICT (ocid) DO NOTHING"
_PENDING = """
SELECT left(e.aggregate_id, -length(':bids')) AS ocid FROM events e
WHERE e.type = 'BidLogSealed' AND NOT EXISTS (
    SELECT 1 FROM bid_log_heads h WHERE h.ocid = left(e.aggregate_id, -length(':bids'))
) ORDER BY e.position LIMIT $1
"""


class BidLogHeads:
    """Signs, time-stamps and keeps the sealed heads of the tenders' bid logs."""

    def __init__(self, pool: Any, platform_key: Ed25519PrivateKey, tsa_url: str | None) -> None:
        self._pool = pool
        self._platform_key = platform_key
        self._tsa_url = tsa_url

    async def sealed_head(self, ocid: str) -> SignedTreeHead | None:
        """The sealed head of the tender's bid log; None while it is not sealed. Raises
        ``timestamping.TimeStampingFailed`` if the configured authority gives no token."""
        stored = await self._pool.fetchval(_STORED, ocid)
        if stored is not None:
            return SignedTreeHead.model_validate(stored)
        made = await self._make(ocid)
        if made is None:
            return None
        await self._pool.execute(_KEEP, ocid, made.model_dump(mode="json"))
        return SignedTreeHead.model_validate(await self._pool.fetchval(_STORED, ocid))

    async def sign_pending(self, limit: int = 100) -> list[str]:
        """Sign (and time-stamp) the heads of logs sealed since the last call, oldest first:
        what a worker runs every few seconds, so that a head is made at its seal, not when
        first asked for. Returns the tenders whose heads were made."""
        pending = [row["ocid"] for row in await self._pool.fetch(_PENDING, limit)]
        for ocid in pending:
            await self.sealed_head(ocid)
        return pending

    async def _make(self, ocid: str) -> SignedTreeHead | None:
        envelope = await self._pool.fetchval(_SEALED, f"{ocid}:bids")
        if envelope is None:
            return None
        sealed = read_envelope(envelope if isinstance(envelope, str) else json.dumps(envelope))
        if not isinstance(sealed.event, BidLogSealed):
            return None
        head = tree_heads.sign_head(
            ocid,
            sealed.event.tree_size,
            bytes.fromhex(sealed.event.root),
            sealed.occurred_at,
            self._platform_key,
        )
        if self._tsa_url is None:
            return head
        token = await timestamping.time_stamp(self._tsa_url, tree_heads.signed_json(head))
        return tree_heads.with_time_stamp(head, token, self._tsa_url)
