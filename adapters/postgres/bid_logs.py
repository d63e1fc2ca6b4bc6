"""Each tender's bid log in PostgreSQL: made with the opening key, kept in step with its
tender's deadline, lots and status, and sealed under a Merkle root when the tender closes.

Every change locks the log's row, so bids, deadline changes and the closing are ordered:
a bid either lands before the seal or is refused after it.
"""

import json
from datetime import datetime
from typing import Any
from uuid import uuid4

from adapters.postgres import eventstore
from bidding import merkle
from bidding.log import BidLog, LogStatus, bid_log_id
from procurement.tender import Tender
from schemas.commands import IssueOpeningKey
from schemas.events import (
    BidLogSealed,
    Envelope,
    TenderCancelled,
    TenderClosed,
    TenderDeadlineExtended,
    TenderRequirementsAmended,
    envelope,
)


async def exists(connection: Any, ocid: str) -> bool:
    return bool(await connection.fetchval("SELECT 1 FROM bid_logs WHERE ocid = $1", ocid))


async def create(connection: Any, tender: Tender, command: IssueOpeningKey) -> None:
    members = {share.officer_id: [share.x, share.share_sha256] for share in command.shares}
    await connection.execute(
        "INSERT INTO bid_logs (ocid, buyer_id, deadline, status, lots, public_key, threshold,"
        " members, version) VALUES ($1, $2, $3, 'open', $4, $5, $6, $7, 1)",
        tender.ocid,
        tender.buyer_id,
        tender.submission_deadline,
        [lot.id for lot in tender.requirements.lots],
        command.public_key,
        command.threshold,
        members,
    )


def _from_row(row: Any) -> BidLog:
    members = row["members"]
    if isinstance(members, str):
        members = json.loads(members)
    return BidLog(
        ocid=row["ocid"],
        buyer_id=row["buyer_id"],
        deadline=row["deadline"],
        status=LogStatus(row["status"]),
        lots=frozenset(row["lots"]),
        threshold=row["threshold"],
        members={officer: (x, digest) for officer, (x, digest) in members.items()},
    )


_COLUMNS = (
    "ocid, buyer_id, deadline, status, lots, threshold, members, size, version, public_key, root"
)


async def lock(connection: Any, ocids: list[str]) -> dict[str, tuple[BidLog, Any]]:
    """Lock the logs' rows for this transaction, in a fixed order to avoid deadlocks."""
    rows = await connection.fetch(
        f"SELECT {_COLUMNS} FROM bid_logs WHERE ocid = ANY($1) ORDER BY ocid FOR UPDATE",
        sorted(set(ocids)),
    )
    return {row["ocid"]: (_from_row(row), row) for row in rows}


async def read(connection: Any, ocid: str) -> tuple[BidLog, Any] | None:
    row = await connection.fetchrow(f"SELECT {_COLUMNS} FROM bid_logs WHERE ocid = $1", ocid)
    return None if row is None else (_from_row(row), row)


async def follow_tender(connection: Any, item: Envelope) -> None:
    """Apply one of the tender's own events to its bid log, in the same transaction."""
    event, ocid = item.event, item.aggregate_id
    if isinstance(event, TenderDeadlineExtended):
        await connection.execute(
            "UPDATE bid_logs SET deadline = $2 WHERE ocid = $1", ocid, event.submission_deadline
        )
    elif isinstance(event, TenderRequirementsAmended):
        lots = [lot.id for lot in event.requirements.lots]
        await connection.execute("UPDATE bid_logs SET lots = $2 WHERE ocid = $1", ocid, lots)
    elif isinstance(event, TenderCancelled):
        await connection.execute(
            "UPDATE bid_logs SET status = 'cancelled' WHERE ocid = $1 AND status <> 'opened'", ocid
        )
    elif isinstance(event, TenderClosed):
        await seal(connection, ocid, item.actor, item.occurred_at)


async def seal(connection: Any, ocid: str, actor: str, now: datetime) -> None:
    """Fix the log under its Merkle root: from here on, nothing joins or leaves it."""
    locked = await lock(connection, [ocid])
    if ocid not in locked or locked[ocid][0].status is not LogStatus.OPEN:
        return
    _, row = locked[ocid]
    leaves = await leaf_hashes(connection, ocid)
    root = merkle.root(leaves)
    sealed = envelope(
        BidLogSealed(tree_size=len(leaves), root=root.hex()),
        event_id=uuid4(),
        aggregate_id=bid_log_id(ocid),
        sequence=row["version"] + 1,
        actor=actor,
        occurred_at=now,
    )
    await eventstore.append(connection, [sealed])
    await connection.execute(
        "UPDATE bid_logs SET status = 'sealed', root = $2, version = $3 WHERE ocid = $1",
        ocid,
        root,
        sealed.sequence,
    )


async def leaf_hashes(connection: Any, ocid: str, size: int | None = None) -> list[bytes]:
    rows = await connection.fetch(
        "SELECT leaf_hash FROM bid_entries WHERE ocid = $1 AND log_index < coalesce($2, 2147483647)"
        " ORDER BY log_index",
        ocid,
        size,
    )
    return [row["leaf_hash"] for row in rows]
