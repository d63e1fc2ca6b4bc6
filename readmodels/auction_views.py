"""The live auction read model: each auction's public facts, when its timer must next act,
and every bidder's view (own price, score and rank), rewritten as each price arrives.

Each change is announced on the PostgreSQL channel ``auction_views`` (payload: JSON with the
auction id and version) when the transaction commits, so that the API can push the new views to the bidders
following the auction at once instead of polling.
"""

import json
from collections.abc import Sequence
from typing import Any

from adapters.postgres import eventstore
from adapters.postgres.auction_states import AuctionStates
from procurement import auction
from procurement.auction import Auction
from schemas.auction import AuctionClosed
from schemas.events import Envelope

CHANNEL = "auction_views"

_states = AuctionStates()  # per worker process; checked against the read model's version

_UPSERT = """
INSERT INTO auctions (auction_id, ocid, lot_id, buyer_id, status, next_due, version, document, views)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (auction_id) DO UPDATE SET status = $5, next_due = $6, version = $7, document = $8,
                                       views = $9
"""


def public_document(state: Auction, ranking: Sequence[dict[str, Any]] | None) -> dict[str, Any]:
    """What anyone may know of an auction; the final ranking is kept for the buyer's eyes."""
    return {
        "auction_id": state.auction_id,
        "ocid": state.ocid,
        "lot_id": state.lot_id,
        "status": state.status.value,
        "currency": state.currency,
        "starts_at": state.starts_at.isoformat(),
        "opened_at": state.opened_at.isoformat() if state.opened_at else None,
        "closes_at": auction.closes_at(state).isoformat(),
        "closed_at": state.closed_at.isoformat() if state.closed_at else None,
        "close_reason": state.close_reason.value if state.close_reason else None,
        "cancelled_at": state.cancelled_at.isoformat() if state.cancelled_at else None,
        "rules": state.rules.model_dump(mode="json"),
        "price_weight": str(state.price_weight),
        "participants": len(state.participants),
        "prices_accepted": state.accepted,
        "prices_rejected": state.rejected,
        "ranking": list(ranking) if ranking is not None else None,
    }


async def apply(connection: Any, envelopes: Sequence[Envelope]) -> None:
    by_auction: dict[str, list[Envelope]] = {}
    for item in envelopes:
        by_auction.setdefault(item.aggregate_id, []).append(item)
    rows = await connection.fetch(
        "SELECT auction_id, version, document -> 'ranking' AS ranking FROM auctions"
        " WHERE auction_id = ANY($1) ORDER BY auction_id FOR UPDATE",
        sorted(by_auction),
    )
    current = {row["auction_id"]: (row["version"], row["ranking"]) for row in rows}
    for auction_id, events in sorted(by_auction.items()):
        version, ranking = current.get(auction_id, (0, None))
        pending = sorted((e for e in events if e.sequence > version), key=lambda e: e.sequence)
        if not pending:
            continue
        if pending[0].sequence > version + 1:  # earlier events have not reached us: the store
            missing = await eventstore.load(connection, auction_id, after=version)
            pending = [e for e in missing if e.sequence <= pending[-1].sequence]
        state = await _states.at(connection, auction_id, version) if version else None
        for item in pending:
            state = auction.evolve(state, item.event)
            if isinstance(item.event, AuctionClosed):
                ranking = [rank.model_dump(mode="json") for rank in item.event.ranking]
        if state is None:
            continue
        _states.remember(state)
        await connection.execute(
            _UPSERT,
            auction_id,
            state.ocid,
            state.lot_id,
            state.buyer_id,
            state.status.value,
            auction.next_due(state),
            state.version,
            public_document(state, ranking),
            auction.bidder_views(state),
        )
        announcement = json.dumps({"auction_id": auction_id, "version": state.version})
        await connection.execute("SELECT pg_notify($1, $2)", CHANNEL, announcement)
