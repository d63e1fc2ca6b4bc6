"""A store from before committees (bids sealed to an opening key, version 1) still loads: its
bid log's events are read, the snapshot follows them, the publication consumes them without a
dead letter, and the platform stays ready."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from adapters.postgres import bid_logs, eventstore
from adapters.postgres.database import SCHEMA
from bidding import keys, merkle
from schemas.events import EVENT_TYPES, Envelope, envelope
from tests.integration.conftest import create_database
from tests.integration.stack import Stack, eventually
from tests.integration.test_dead_letters import dead_letters, tender_event
from tests.unit.test_bid_ledger_legacy import issued_as_written

BIDDER = "supplier-RO-CUI-14399840"


def legacy_events(ocid: str) -> list[dict[str, Any]]:
    """The bid log as version 1 wrote it: the opening key, a withdrawal, the seal, a share."""
    receipt = {
        "kind": "withdrawal",
        "bid_id": f"bid-{uuid.uuid4().hex[:8]}",
        "ocid": ocid,
        "bidder_id": BIDDER,
        "lots": [],
        "version": 2,
        "ciphertext_sha256": None,
        "received_at": (datetime.now(UTC) - timedelta(days=1)).isoformat().replace("+00:00", "Z"),
        "log_index": 0,
    }
    root = merkle.root([merkle.leaf_hash(keys.canonical_json(receipt))]).hex()
    return [
        {**issued_as_written(), "ocid": ocid},
        {"type": "BidWithdrawn", "receipt": receipt, "signature": "AQ" * 42 + "AQ=="},
        {"type": "BidLogSealed", "tree_size": 1, "root": root},
        {"type": "OpeningShareAccepted", "officer_id": "officer-ana", "x": 1},
    ]


async def record(stack: Stack, item: Envelope) -> None:
    """One event as the old platform recorded it: stored, queued and followed by the snapshot."""
    async with stack.pool.acquire() as connection, connection.transaction():
        await eventstore.append(connection, [item])
        await bid_logs.follow(connection, [item])


async def test_a_bid_log_sealed_to_an_opening_key_still_loads(stack: Stack) -> None:
    published = tender_event("agency-RO-CUI-1", "Old tender")
    ocid = published.aggregate_id
    await record(stack, published)
    recorded = []
    for sequence, raw in enumerate(legacy_events(ocid), start=1):
        item = envelope(
            EVENT_TYPES[raw["type"]].model_validate(raw),
            event_id=uuid.uuid4(),
            aggregate_id=f"{ocid}:bids",
            sequence=sequence,
            actor="officer-old",
            occurred_at=datetime.now(UTC),
        )
        await record(stack, item)
        recorded.append(str(item.event_id))

    async with stack.pool.acquire() as connection:
        log = await bid_logs.ledger(connection, ocid, [BIDDER], leaves=True)
    assert log is not None
    assert log.sealing_version == 1
    assert str(log.status) == "sealed"
    assert log.size == 1
    assert log.root is not None
    assert merkle.root(list(log.leaves)) == log.root  # the leaves hashed as version 1 did

    async with stack.client() as client:
        head = await client.get(f"/tenders/{ocid}/bid-log")
        assert head.status_code == 200, head.text
        assert head.json()["root"] == head.json()["sealed_root"] == log.root.hex()

        async def consumed() -> bool:
            ready = await client.get("/health/ready")
            outbox: int = await stack.pool.fetchval("SELECT count(*) FROM outbox")
            return ready.status_code == 200 and outbox == 0

        await eventually(consumed, within=60)
    letters = [d for d in await dead_letters(stack) if d["event_id"] in recorded]
    assert letters == []


# The bid_logs table as version 1 created it.
VERSION_ONE_TABLE = """
CREATE TABLE bid_logs (
    ocid       text        PRIMARY KEY,
    buyer_id   text        NOT NULL,
    deadline   timestamptz NOT NULL,
    status     text        NOT NULL,
    lots       text[]      NOT NULL,
    public_key bytea       NOT NULL,
    threshold  integer     NOT NULL,
    members    jsonb       NOT NULL,
    size       integer     NOT NULL DEFAULT 0,
    version    integer     NOT NULL,
    root       bytea
)"""


async def test_the_schema_migrates_a_version_one_bid_logs_table(postgres_server: str) -> None:
    """Applied at start on a database from before committees, twice: the old rows get their
    committee as recorded (members, threshold, version 1) and load as logs that cannot open."""
    connection = await asyncpg.connect(await create_database(postgres_server))
    try:
        await connection.execute(VERSION_ONE_TABLE)
        await connection.execute(
            "INSERT INTO bid_logs (ocid, buyer_id, deadline, status, lots, public_key, threshold,"
            " members, size, version, root) VALUES ('ocds-old-1', 'agency-1', now(), 'sealed',"
            " '{lot-1}', '\\x07', 2, $1::jsonb, 0, 3, '\\x00')",
            '{"officer-bogdan": [2, "ab"], "officer-ana": [1, "cd"]}',
        )
        for _ in range(2):  # idempotent: every start applies it
            await connection.execute(SCHEMA.read_text())
        log = await bid_logs.ledger(connection, "ocds-old-1")
        # a new log is written without the old columns
        await connection.execute(
            "INSERT INTO bid_logs (ocid, buyer_id, deadline, status, lots, committee, version)"
            " VALUES ('ocds-new-1', 'agency-1', now(), 'open', '{lot-1}', '{}'::jsonb, 1)"
        )
    finally:
        await connection.close()
    assert log is not None
    assert log.sealing_version == 1
    assert log.members == ["officer-ana", "officer-bogdan"]
    assert log.threshold == 2
