"""The deadline service: closes every tender whose submission deadline has passed, and
opens and closes electronic reverse auctions on time.

The schedule is the tender read model in PostgreSQL, so a restarted worker finds what
fell due while it was down. Two workers may race to close one tender; the event store
lets only one ``TenderClosed`` through, and the other gets a refusal it can ignore.
"""

import logging
from datetime import datetime
from typing import Any

from app.command_bus import CommandBus
from procurement.errors import NotFound, WrongState
from schemas.auction import CloseAuction, OpenAuction
from schemas.commands import Actor, CloseTender, Role

log = logging.getLogger(__name__)

DEADLINE_SERVICE = Actor(id="deadline-service", role=Role.SYSTEM)


async def close_due_tenders(pool: Any, handler: CommandBus, now: datetime) -> list[str]:
    """Close the tenders due at ``now``; return the ocids this call closed."""
    rows = await pool.fetch(
        "SELECT ocid FROM tenders WHERE status = 'active' AND submission_deadline <= $1"
        " ORDER BY submission_deadline LIMIT 200",
        now,
    )
    closed = []
    for row in rows:
        try:
            await handler.dispatch(CloseTender(ocid=row["ocid"]), DEADLINE_SERVICE)
        except WrongState as refusal:  # closed meanwhile, or its deadline was extended
            log.debug("not closing %s: %s", row["ocid"], refusal.detail)
            continue
        except NotFound as refusal:  # the read model holds what the store never recorded
            log.error("not closing %s: %s", row["ocid"], refusal.detail)
            continue
        closed.append(row["ocid"])
    return closed


AUCTION_TIMER = Actor(id="auction-timer", role=Role.SYSTEM)


async def run_due_auctions(pool: Any, handler: CommandBus, now: datetime) -> list[str]:
    """Open the auctions due to start and close those whose closing rule is met; return
    what changed. The read model may lag a price that moved the close later: the domain
    then decides not to close, and the timer asks again next time."""
    rows = await pool.fetch(
        "SELECT ocid, lot_id, status FROM auctions WHERE next_due <= $1 ORDER BY next_due"
        " LIMIT 200",
        now,
    )
    changed = []
    for row in rows:
        command_type = OpenAuction if row["status"] == "scheduled" else CloseAuction
        try:
            outcome = await handler.dispatch(
                command_type(ocid=row["ocid"], lot_id=row["lot_id"]), AUCTION_TIMER
            )
        except WrongState as refusal:  # opened or closed meanwhile by another worker
            log.debug("auction of %s/%s: %s", row["ocid"], row["lot_id"], refusal.detail)
            continue
        changed += [f"{outcome.aggregate_id} {item.type}" for item in outcome.events]
    return changed
