"""The deadline service: closes every tender whose submission deadline has passed.

The schedule is the tender read model in PostgreSQL, so a restarted worker finds what
fell due while it was down. Two workers may race to close one tender; the event store
lets only one ``TenderClosed`` through, and the other gets a refusal it can ignore.
"""

import logging
from datetime import datetime
from typing import Any

from procurement.errors import WrongState
from schemas.commands import Actor, CloseTender, Role
from streams.handlers import CommandHandler

log = logging.getLogger(__name__)

DEADLINE_SERVICE = Actor(id="deadline-service", role=Role.SYSTEM)


async def close_due_tenders(pool: Any, handler: CommandHandler, now: datetime) -> list[str]:
    """Close the tenders due at ``now``; return the ocids this call closed."""
    rows = await pool.fetch(
        "SELECT ocid FROM tenders WHERE status = 'active' AND submission_deadline <= $1"
        " ORDER BY submission_deadline LIMIT 200",
        now,
    )
    closed = []
    for row in rows:
        try:
            await handler.handle(CloseTender(ocid=row["ocid"]), DEADLINE_SERVICE)
        except WrongState as refusal:  # closed meanwhile, or its deadline was extended
            log.debug("not closing %s: %s", row["ocid"], refusal.detail)
            continue
        closed.append(row["ocid"])
    return closed
