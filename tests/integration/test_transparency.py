"""The transparency log on the real stack: a procedure run through the API is logged, its
heads are signed and consistent over time, its proofs verify, nothing before the deadline
shows how many bids a tender has; and an insider who alters an event under the trigger,
or also rewrites the log to match, is caught by ``procurement monitor``."""

import asyncio
import base64
import json
import sys
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import asyncpg
import httpx
import pytest

from adapters import platform_key
from adapters.embedded import EmbeddedBroker
from adapters.postgres import backup, transparency_log
from adapters.postgres.database import connect_pool
from bidding import keys, merkle
from publication import transparency
from publication.transparency import Frontier
from tests.integration.conftest import create_database, register_officer, tender_body
from tests.integration.market import (
    bid_content,
    buyer_with_committee,
    hand_in,
    register_supplier,
    seal,
    sealed_tender,
    submit,
    until_sealed,
)
from tests.integration.stack import Stack, eventually

REPOSITORY = Path(__file__).resolve().parents[2]
ATOM = "{http://www.w3.org/2005/Atom}"


async def logged(public: httpx.AsyncClient, aggregate_id: str) -> list[dict[str, Any]]:
    answer = await public.get("/transparency/events", params={"aggregate_id": aggregate_id})
    if answer.status_code == 404:
        return []
    assert answer.status_code == 200, answer.text
    events: list[dict[str, Any]] = answer.json()["events"]
    return events


async def until_logged(
    public: httpx.AsyncClient, aggregate_id: str, event_type: str, served: bool = False
) -> list[dict[str, Any]]:
    async def found() -> list[dict[str, Any]] | None:
        events = await logged(public, aggregate_id)
        hit = [e for e in events if e["entry"]["type"] == event_type]
        return events if hit and (not served or hit[-1]["document"] is not None) else None

    return await eventually(found, within=30)


async def platform_public_key(public: httpx.AsyncClient) -> bytes:
    answer = (await public.get("/platform/keys")).json()
    return base64.b64decode(answer["receipt_keys"][0]["public_key"])


def signed(head: dict[str, Any]) -> transparency.SignedHead:
    return transparency.SignedHead(
        head["tree_size"],
        head["root"],
        head["timestamp"],
        head["key_id"],
        base64.b64decode(head["signature"]),
    )


COMMITTEE_EVENTS = {"CommitteeNamed", "CommitteeConfirmed"}


async def test_a_procedure_is_logged_and_its_heads_and_proofs_verify(stack: Stack) -> None:
    """Tender, bid log from its seal, evaluation and award are in the log; each document
    hashes to its entry, each entry is included under the signed root, and the later head
    extends the earlier one. Before the deadline the log holds nothing of the bids, and
    the evaluation's scores wait for the award."""
    buyer = await buyer_with_committee(stack, size=2)
    ocid, tender_key, deadline = await sealed_tender(stack, buyer, timedelta(seconds=8))
    async with stack.client() as public:
        await until_logged(public, ocid, "TenderPublished")
        await eventually(lambda: queue_empty(stack))
        before_bids = (await public.get("/transparency/head")).json()
        cheap, dear = await register_supplier(stack, "Ieftin SRL"), await register_supplier(stack)
        bids = {}
        for bidder, amount in ((cheap, "880.00"), (dear, "960.00")):
            sealed = seal(bid_content(ocid, bidder.id, amount), tender_key, bidder)
            bids[bidder.id] = (await submit(stack, bidder, sealed)).json()["receipt"]["bid_id"]
        await asyncio.sleep(2.5)  # the appender has run since
        assert datetime.now(UTC) < deadline, "the test was too slow to look before the deadline"
        assert (await public.get("/transparency/head")).json() == before_bids
        # The committee and its confirmations are logged at once; no bid entry is.
        before = [e["entry"]["type"] for e in await logged(public, f"{ocid}:bids")]
        assert set(before) <= COMMITTEE_EVENTS, before

        await until_sealed(stack, ocid, deadline)
        for member in buyer.members:
            assert (await hand_in(stack, member, ocid)).status_code == 200
        async with stack.client(buyer.members[0].token) as committee:
            for bid_id in bids.values():
                answer = await committee.post(
                    f"/tenders/{ocid}/evaluation/qualifications", json={"bid_id": bid_id}
                )
                assert answer.status_code == 201, answer.text
        scored = await until_logged(public, f"{ocid}:evaluation", "BidQualified")
        assert all(e["document"] is None for e in scored)
        assert {e["withheld_until"] for e in scored} == {transparency.EVALUATION_DECIDED}
        async with stack.client(buyer.officer.token) as officer:
            for step in ("lot-completions", "awards"):
                done = await officer.post(
                    f"/tenders/{ocid}/evaluation/{step}", json={"lot_id": "lot-1"}
                )
                assert done.status_code == 201, done.text
        await until_logged(public, f"{ocid}:evaluation", "AwardDecided", served=True)

        procedure = (await public.get(f"/transparency/procedures/{ocid}")).json()
        assert procedure["aggregates"] == sorted([ocid, f"{ocid}:bids", f"{ocid}:evaluation"])
        bid_log = [e["entry"]["type"] for e in await logged(public, f"{ocid}:bids")]
        after_the_committee = [kind for kind in bid_log if kind not in COMMITTEE_EVENTS]
        assert after_the_committee[0] == "BidLogSealed"
        assert "BidSubmitted" not in bid_log
        assert "BidsOpened" in bid_log
        await assert_everything_verifies(public, procedure["aggregates"], before_bids)


async def queue_empty(stack: Stack) -> bool:
    return not await stack.pool.fetchval("SELECT count(*) FROM transparency_queue")


async def assert_everything_verifies(
    public: httpx.AsyncClient, aggregates: list[str], earlier: dict[str, Any]
) -> None:
    platform = await platform_public_key(public)
    head = (await public.get("/transparency/head")).json()
    assert transparency.head_valid(signed(head), platform)
    root = bytes.fromhex(head["root"])
    for aggregate_id in aggregates:
        for item in await logged(public, aggregate_id):
            entry = transparency.entry_from_json(item["entry"])
            assert item["document"] is not None, item
            assert transparency.document_sha256(item["document"]) == entry.event_sha256
            assert entry.leaf_hash().hex() == item["leaf_hash"]
            proof = (
                await public.get(
                    "/transparency/inclusion",
                    params={"leaf_index": entry.leaf_index, "tree_size": head["tree_size"]},
                )
            ).json()
            path = [bytes.fromhex(h) for h in proof["audit_path"]]
            assert merkle.verify_inclusion(
                entry.leaf_hash(), entry.leaf_index, head["tree_size"], path, root
            )
    consistency = (
        await public.get(
            "/transparency/consistency",
            params={"first": earlier["tree_size"], "second": head["tree_size"]},
        )
    ).json()
    assert consistency["first_root"] == earlier["root"]
    assert merkle.verify_consistency(
        earlier["tree_size"],
        head["tree_size"],
        bytes.fromhex(earlier["root"]),
        root,
        [bytes.fromhex(h) for h in consistency["proof"]],
    )
    archive = (
        await public.get("/transparency/heads", params={"after": earlier["tree_size"] - 1})
    ).json()
    assert archive["heads"][0] == earlier, "an archived head is served as it was signed"
    exported = [
        json.loads(line) for line in (await public.get("/transparency/export")).text.splitlines()
    ]
    entries = [line for line in exported if line["kind"] == "entry"]
    assert len(entries) >= head["tree_size"]
    assert (
        merkle.root([bytes.fromhex(line["leaf_hash"]) for line in entries[: head["tree_size"]]])
        == root
    )


async def test_bad_ranges_and_unknown_aggregates_are_refused_with_a_problem(stack: Stack) -> None:
    """Out-of-range sizes, oversized pages and unknown ids answer a 4xx problem document."""
    officer = await register_officer(stack)
    async with stack.client(officer["token"]) as client:
        assert (await client.post("/tenders", json=tender_body())).status_code == 201
    async with stack.client() as public:
        await eventually(lambda: _head_size(public), within=30)
        size = await _head_size(public)
        for path, params, status in (
            ("/transparency/entries", {"start": 0, "end": 5000}, 422),
            ("/transparency/entries", {"start": size + 10_000}, 422),
            ("/transparency/entries", {"start": 0, "end": size + 10_000}, 422),
            ("/transparency/inclusion", {"leaf_index": size + 10_000}, 422),
            ("/transparency/inclusion", {"leaf_index": 0, "tree_size": size + 10_000}, 422),
            ("/transparency/consistency", {"first": size + 10_000}, 422),
            ("/transparency/heads", {"limit": 100_000}, 422),
            ("/transparency/events", {"aggregate_id": "x" * 500}, 422),
            ("/transparency/events", {"aggregate_id": "ocds-nothing-here"}, 404),
            ("/transparency/procedures/ocds-nothing-here", {}, 404),
        ):
            answer = await public.get(path, params=params)
            assert answer.status_code == status, (path, params, answer.text)
            assert answer.headers["content-type"] == "application/problem+json"
        atom = await public.get("/transparency/heads.atom")
        assert atom.status_code == 200
        newest = ElementTree.fromstring(atom.text).find(f"{ATOM}entry/{ATOM}content")
        assert newest is not None
        fed = json.loads(newest.text or "")
        archived = await public.get("/transparency/heads", params={"after": fed["tree_size"] - 1})
        assert archived.json()["heads"][0] == fed


async def _head_size(public: httpx.AsyncClient) -> int:
    answer = await public.get("/transparency/head")
    return int(answer.json()["tree_size"]) if answer.status_code == 200 else 0


async def monitor(stack: Stack, state: Path) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "entrypoints.cli",
        "monitor",
        "--api",
        stack.api_url,
        "--state",
        str(state),
        cwd=REPOSITORY,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode()


async def test_the_monitor_catches_an_insider_who_alters_an_event_and_then_the_log(
    stack: Stack, tmp_path: Path
) -> None:
    """An event altered under the disabled trigger no longer hashes to its entry ("event
    altered"); the log's rows rewritten and its heads re-signed to match contradict the
    head the monitor kept ("fork"), though a monitor that kept nothing is fooled."""
    officer = await register_officer(stack)
    async with stack.client(officer["token"]) as client:
        published = await client.post("/tenders", json=tender_body())
        assert published.status_code == 201, published.text
    ocid = published.json()["id"]
    async with stack.client() as public:
        await until_logged(public, ocid, "TenderPublished", served=True)
    state = tmp_path / "monitor.json"
    code, output = await monitor(stack, state)
    assert code == 0, output
    assert "pinned on first use" in output
    kept = state.read_bytes()
    code, output = await monitor(stack, state)
    assert code == 0, output

    await alter_the_tender(stack, ocid)
    state.write_bytes(kept)
    code, output = await monitor(stack, state)
    assert code == 1, output
    assert "event altered" in output
    assert ocid in output

    await rewrite_the_log(stack)
    state.write_bytes(kept)
    code, output = await monitor(stack, state)
    assert code == 1, output
    assert "fork" in output
    code, output = await monitor(stack, tmp_path / "new-monitor.json")
    assert code == 0, "a monitor with no kept head cannot tell: hence monitors keep heads"


async def alter_the_tender(stack: Stack, ocid: str) -> None:
    """What an insider with the database's owner role can do to the event store."""
    async with stack.pool.acquire() as connection, connection.transaction():
        await connection.execute("ALTER TABLE events DISABLE TRIGGER events_are_append_only")
        await connection.execute(
            "UPDATE events SET envelope = replace(envelope::text, 'Office paper', 'Gold paper')::json"
            " WHERE aggregate_id = $1 AND type = 'TenderPublished'",
            ocid,
        )
        await connection.execute("ALTER TABLE events ENABLE TRIGGER events_are_append_only")


async def rewrite_the_log(stack: Stack) -> None:
    """A second insider, with the platform key too: every entry hashed again from the store
    as it is now, and every head recomputed and signed again."""
    key = platform_key.load_or_create(stack.settings.receipt_key_file)
    async with stack.pool.acquire() as connection, connection.transaction():
        await connection.execute("SELECT pg_advisory_xact_lock($1)", transparency_log.APPENDER_LOCK)
        rows = await connection.fetch(
            "SELECT t.leaf_index, e.* FROM transparency_entries t"
            " JOIN events e ON e.event_id = t.event_id ORDER BY t.leaf_index"
        )
        leaves = []
        for row in rows:
            entry = transparency.entry_for(row["leaf_index"], transparency_log.document_of(row))
            leaves.append(entry.leaf_hash())
            await connection.execute(
                "UPDATE transparency_entries SET event_sha256 = $2, leaf_hash = $3"
                " WHERE leaf_index = $1",
                entry.leaf_index,
                bytes.fromhex(entry.event_sha256),
                leaves[-1],
            )
        for size in await connection.fetch("SELECT tree_size FROM transparency_heads"):
            tree_size = size["tree_size"]
            head = transparency.sign_head(
                key, tree_size, merkle.root(leaves[:tree_size]), datetime.now(UTC)
            )
            await connection.execute(
                "UPDATE transparency_heads SET root = $2, timestamp = $3, signature = $4"
                " WHERE tree_size = $1",
                tree_size,
                bytes.fromhex(head.root),
                head.timestamp,
                head.signature,
            )


async def exported(stack: Stack) -> list[dict[str, Any]]:
    async with stack.client() as public:
        answer = await public.get("/transparency/export")
    assert answer.status_code == 200, answer.text
    return [json.loads(line) for line in answer.text.splitlines()]


async def test_a_restored_platform_serves_the_same_log_and_extends_it(
    stack: Stack, postgres_server: str, tmp_path: Path
) -> None:
    """A backup keeps the log's entries and signed heads as written: the restored platform
    serves them unchanged, logs none of the restored events twice, and its next head
    extends the last one."""
    officer = await register_officer(stack)
    async with stack.client(officer["token"]) as client:
        assert (await client.post("/tenders", json=tender_body())).status_code == 201

    await eventually(lambda: queue_empty(stack))
    original = await exported(stack)
    path = tmp_path / "platform.backup"
    await backup.take(stack.pool, stack.settings.receipt_key_file, path, "a long passphrase")
    settings = replace(stack.settings, data_dir=tmp_path / "restored")
    database_url = await create_database(postgres_server)
    await backup.restore(path, "a long passphrase", database_url, settings.receipt_key_file)
    broker = EmbeddedBroker(log_dir=settings.data_dir / "logs")
    broker.start()
    restored = Stack(settings, database_url, broker)
    await restored.start(workers=1)
    try:
        await eventually(lambda: queue_empty(restored))  # requeued, and skipped
        assert await exported(restored) == original
        last = [line for line in original if line["kind"] == "head"][-1]
        registered = await register_officer(restored)
        async with restored.client(registered["token"]) as client:
            published = await client.post("/tenders", json=tender_body())
            assert published.status_code == 201, published.text
        async with restored.client() as public:
            await until_logged(public, published.json()["id"], "TenderPublished")
            grown = (await public.get("/transparency/head")).json()
            proof = (
                await public.get(
                    "/transparency/consistency",
                    params={"first": last["tree_size"], "second": grown["tree_size"]},
                )
            ).json()
        assert grown["tree_size"] == last["tree_size"] + 1
        assert merkle.verify_consistency(
            last["tree_size"],
            grown["tree_size"],
            bytes.fromhex(last["root"]),
            bytes.fromhex(grown["root"]),
            [bytes.fromhex(h) for h in proof["proof"]],
        )
    finally:
        await restored.stop()


# The appender on its own, against PostgreSQL


@pytest.fixture
async def database(postgres_server: str) -> Any:
    pool = await connect_pool(await create_database(postgres_server))
    yield pool
    await pool.close()


async def record(connection: Any, aggregate_id: str, sequence: int, kind: str) -> None:
    envelope = {"aggregate_id": aggregate_id, "sequence": sequence, "event": {"type": kind}}
    await connection.execute(
        "INSERT INTO events (event_id, aggregate_id, sequence, type, schema_version, occurred_at,"
        " envelope) VALUES ($1, $2, $3, $4, 1, now(), $5::json)",
        uuid.uuid4(),
        aggregate_id,
        sequence,
        kind,
        json.dumps(envelope),
    )


async def test_an_event_that_commits_late_with_a_lower_position_is_logged_once(
    database: Any, tmp_path: Path
) -> None:
    """The appender logs what committed, then the event that took an earlier position but
    committed after it ran; running again logs nothing twice, and every head is signed
    over the entries before it."""
    key = platform_key.load_or_create(tmp_path / "platform.pem")
    appender = transparency_log.Appender(key, lambda: datetime.now(UTC))
    late = await database.acquire()
    try:
        transaction = late.transaction()
        await transaction.start()
        await record(late, "ocds-late", 1, "TenderPublished")  # position 1, not committed
        await record(database, "ocds-early", 1, "TenderPublished")  # position 2, committed
        await record(database, "supplier-1", 1, "SupplierRegistered")  # never logged
        first = await appender.append(database)
        assert first.head is not None
        assert first.head.tree_size == 1
        await transaction.commit()
    finally:
        await database.release(late)
    second = await appender.append(database)
    assert second.head is not None
    assert second.head.tree_size == 2
    assert (await appender.append(database)).taken == 0
    rows = await database.fetch("SELECT * FROM transparency_entries ORDER BY leaf_index")
    assert [row["aggregate_id"] for row in rows] == ["ocds-early", "ocds-late"]
    frontier = Frontier()
    frontier.extend(bytes(row["leaf_hash"]) for row in rows)
    assert second.head.root == frontier.root().hex()
    assert transparency.head_valid(second.head, keys.raw_public(key))
    with pytest.raises(asyncpg.UniqueViolationError):
        await database.execute(
            "INSERT INTO transparency_entries SELECT 9, event_id, aggregate_id, sequence, type,"
            " recorded_at, event_sha256, leaf_hash FROM transparency_entries WHERE leaf_index = 0"
        )


async def test_a_worker_with_another_key_appends_nothing(database: Any, tmp_path: Path) -> None:
    """Heads signed by two keys would fail every monitor: a worker whose key did not sign
    the log's heads refuses to append, and leaves the queue to the right key."""
    right = platform_key.load_or_create(tmp_path / "right.pem")
    wrong = platform_key.load_or_create(tmp_path / "wrong.pem")
    await record(database, "ocds-1", 1, "TenderPublished")
    assert (await transparency_log.Appender(right, lambda: datetime.now(UTC)).append(database)).head
    await record(database, "ocds-1", 2, "TenderCancelled")
    with pytest.raises(transparency_log.NotTheLogsKey, match="PROCUREMENT_RECEIPT_KEY"):
        await transparency_log.Appender(wrong, lambda: datetime.now(UTC)).append(database)
    assert await database.fetchval("SELECT count(*) FROM transparency_queue") == 1
    assert await database.fetchval("SELECT count(*) FROM transparency_entries") == 1
