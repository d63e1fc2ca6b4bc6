"""An event that a projection cannot apply, or a record the broker refuses, is set aside as
a dead letter: the streams behind it go on, the operator sees it, and replays it once fixed."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from typer.testing import CliRunner, Result

from adapters.kafka.topology import BIDS, PARTIES, TENDERS
from adapters.postgres import eventstore
from entrypoints.cli.main import app
from readmodels.projections import tender_document
from schemas.events import (
    AgencyRegistered,
    BidLogSealed,
    Envelope,
    OfficerRegistered,
    TenderClosed,
    TenderPublished,
    envelope,
)
from schemas.upcasting import read_envelope
from tests.integration.conftest import register_officer, tender_body
from tests.integration.stack import OPERATOR_TOKEN, PAST_DEADLINE, Stack, eventually


def tender_event(buyer_id: str, title: str, schema_version: int | None = None) -> Envelope:
    """A TenderPublished as old data could hold it: written straight to the store, its title
    not checked (a NUL character, say) and its schema version as given."""
    body = tender_body()
    ocid = f"ocds-test00-old-{uuid.uuid4().hex[:8]}"
    published = TenderPublished.model_validate(
        {
            "tender_id": ocid.removeprefix("ocds-test00-"),
            "ocid": ocid,
            "buyer_id": buyer_id,
            "title": "Old tender",
            "description": body["description"],
            "procedure_type": "open",
            "requirements": body["requirements"],
            "submission_deadline": body["submission_deadline"],
        }
    )
    item = envelope(
        published.model_copy(update={"title": title}),
        event_id=uuid.uuid4(),
        aggregate_id=ocid,
        sequence=1,
        actor="officer-old",
        occurred_at=datetime.now(UTC),
    )
    if schema_version is not None:
        item = item.model_copy(update={"schema_version": schema_version})
    return item


async def append(stack: Stack, item: Envelope) -> int:
    """Record one event with the event store's own append (so it reaches the outbox)."""
    async with stack.pool.acquire() as connection, connection.transaction():
        await eventstore.append(connection, [item])
    position: int = await stack.pool.fetchval(
        "SELECT position FROM events WHERE event_id = $1", item.event_id
    )
    return position


async def dead_letters(stack: Stack) -> list[dict[str, Any]]:
    async with stack.client(OPERATOR_TOKEN) as operator:
        answer = await operator.get("/operations/dead-letters")
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


async def letter_of(stack: Stack, event_id: uuid.UUID, within: float = 30.0) -> dict[str, Any]:
    async def listed() -> dict[str, Any] | None:
        found = [d for d in await dead_letters(stack) if d["event_id"] == str(event_id)]
        return found[0] if found else None

    return await eventually(listed, within=within)


async def repair_the_stored_title(stack: Stack, event_id: uuid.UUID) -> None:
    """What an operator with the database owner's rights can do to a stored event: lift the
    append-only trigger for one transaction and take the NUL out of its title."""
    async with stack.pool.acquire() as connection, connection.transaction():
        await connection.execute("ALTER TABLE events DISABLE TRIGGER events_are_append_only")
        await connection.execute(
            "UPDATE events SET envelope = replace(envelope::text, '\\u0000', '')::json"
            " WHERE event_id = $1",
            event_id,
        )
        await connection.execute("ALTER TABLE events ENABLE TRIGGER events_are_append_only")


async def procurement(stack: Stack, *args: str) -> Result:
    """Run the CLI with the operator's token, in a thread so the API here can answer it."""
    env = {
        "PROCUREMENT_API_URL": stack.api_url,
        "PROCUREMENT_DATA_DIR": str(stack.settings.data_dir),
        "PROCUREMENT_TOKEN": OPERATOR_TOKEN,
    }
    return await asyncio.to_thread(CliRunner().invoke, app, list(args), env=env)


async def test_a_poison_event_is_set_aside_and_later_tenders_still_close(stack: Stack) -> None:
    """A stored tender whose title holds U+0000 cannot enter the read model; a tender
    published after it still becomes visible and closes at its deadline, and the poison is
    listed as a dead letter of the tenders projection, with its error."""
    officer = await register_officer(stack)
    poison = tender_event(officer["agency_id"], "Office paper\x00 for 2027")
    position = await append(stack, poison)
    async with stack.client(officer["token"]) as client:
        answer = await client.post("/tenders", json=tender_body(deadline_in=timedelta(seconds=3)))
        assert answer.status_code == 201, answer.text
    ocid = answer.json()["id"]

    async def closed() -> bool:
        status = await stack.pool.fetchval("SELECT status FROM tenders WHERE ocid = $1", ocid)
        return status in PAST_DEADLINE

    await eventually(closed, within=60)
    letter = await letter_of(stack, poison.event_id)
    assert letter["consumer"] == TENDERS.name
    assert letter["position"] == position
    assert letter["error"]
    assert letter["resolved_at"] is None
    assert (
        await stack.pool.fetchval("SELECT 1 FROM tenders WHERE ocid = $1", poison.aggregate_id)
        is None
    )
    async with stack.client() as public:
        health = await public.get("/health/dead-letters")
    assert health.json()["unresolved"] >= 1


async def replayed_from_the_store(stack: Stack, ocid: str) -> Any:
    """The tender's public document as a replay of its stored events makes it."""
    rows = await stack.pool.fetch(
        "SELECT envelope FROM events WHERE aggregate_id = $1 ORDER BY sequence", ocid
    )
    document = None
    for row in rows:
        document = tender_document(document, read_envelope(row["envelope"]))
    return document


async def test_an_event_the_projection_cannot_apply_is_set_aside_alone(stack: Stack) -> None:
    """A TenderClosed stored for a tender that was never published (a bug's leftover) fails
    the tender projection; it is set aside alone, and the tenders published after it become
    visible, close at their deadline and equal the replay of their events."""
    officer = await register_officer(stack)
    orphan = envelope(
        TenderClosed(submission_deadline=datetime.now(UTC)),
        event_id=uuid.uuid4(),
        aggregate_id=f"ocds-test00-orphan-{uuid.uuid4().hex[:8]}",
        sequence=1,
        actor="system",
        occurred_at=datetime.now(UTC),
    )
    await append(stack, orphan)
    ocids = []
    async with stack.client(officer["token"]) as client:
        for _ in range(2):
            body = tender_body(deadline_in=timedelta(seconds=3))
            answer = await client.post("/tenders", json=body)
            assert answer.status_code == 201, answer.text
            ocids.append(answer.json()["id"])

    async def all_closed() -> bool:
        query = "SELECT count(*) FROM tenders WHERE ocid = ANY($1) AND status = ANY($2)"
        return bool(await stack.pool.fetchval(query, ocids, list(PAST_DEADLINE)) == len(ocids))

    await eventually(all_closed, within=60)
    for ocid in ocids:
        stored = await stack.pool.fetchval("SELECT document FROM tenders WHERE ocid = $1", ocid)
        assert stored == await replayed_from_the_store(stack, ocid)
    letter = await letter_of(stack, orphan.event_id)
    assert letter["consumer"] == TENDERS.name
    assert "before its publication" in letter["error"]


def sealed_log(tree_size: int) -> Envelope:
    """A BidLogSealed of a bid log of its own, with the tree size given."""
    return envelope(
        BidLogSealed(tree_size=tree_size, root="ab" * 32),
        event_id=uuid.uuid4(),
        aggregate_id=f"ocds-test00-log-{uuid.uuid4().hex[:8]}:bids",
        sequence=1,
        actor="system",
        occurred_at=datetime.now(UTC),
    )


async def test_an_event_the_database_refuses_does_not_stop_its_topic(stack: Stack) -> None:
    """A sealed bid log whose tree size overflows the read model's integer fails with a
    database error, which the worker used to retry forever; it is set aside, and a log
    sealed after it on the same topic becomes public."""
    overflowing, fine = sealed_log(2**31), sealed_log(3)
    await append(stack, overflowing)
    await append(stack, fine)
    ocid = fine.aggregate_id.removesuffix(":bids")

    async def public() -> bool:
        query = "SELECT tree_size FROM public_bid_logs WHERE ocid = $1"
        return bool(await stack.pool.fetchval(query, ocid) == 3)

    await eventually(public, within=30)
    letter = await letter_of(stack, overflowing.event_id)
    assert letter["consumer"] == BIDS.name
    assert "int32" in letter["error"]


async def test_the_operator_replays_a_dead_letter_once_its_cause_is_fixed(stack: Stack) -> None:
    """Replaying the poison event answers its error while the cause stands; once the stored
    title is repaired, the replay applies it, the tender is public and the letter resolved."""
    officer = await register_officer(stack)
    poison = tender_event(officer["agency_id"], "Bridge repair\x00 works")
    await append(stack, poison)
    letter = await letter_of(stack, poison.event_id)
    async with stack.client(OPERATOR_TOKEN) as operator:
        failing = await operator.post(f"/operations/dead-letters/{letter['id']}/replay")
    assert failing.status_code == 409, failing.text
    assert failing.headers["content-type"] == "application/problem+json"
    assert failing.json()["code"] == "replay_failed"
    assert "still fails" in failing.json()["detail"]

    await repair_the_stored_title(stack, poison.event_id)
    replayed = await procurement(stack, "dead-letters", "replay", str(letter["id"]))
    assert replayed.exit_code == 0, replayed.output
    assert "resolved" in replayed.output
    title = await stack.pool.fetchval(
        "SELECT document ->> 'title' FROM tenders WHERE ocid = $1", poison.aggregate_id
    )
    assert title == "Bridge repair works"
    assert all(d["id"] != letter["id"] for d in await dead_letters(stack))
    async with stack.client(OPERATOR_TOKEN) as operator:
        again = await operator.post(f"/operations/dead-letters/{letter['id']}/replay")
    assert again.status_code == 409
    assert again.json()["code"] == "already_resolved"


async def test_the_repair_timer_sets_aside_an_event_it_cannot_read(stack: Stack) -> None:
    """Two stored events that never reached Kafka (their outbox rows gone, as with a broker
    that lost them): one no upcaster can read (schema version 0), then a good tender. The
    repair timer sets the first aside instead of failing on it at every tick, and applies
    the second."""
    officer = await register_officer(stack)
    unreadable = tender_event(officer["agency_id"], "Unreadable", schema_version=0)
    good = tender_event(officer["agency_id"], "Readable")
    async with stack.pool.acquire() as connection, connection.transaction():
        await eventstore.append(connection, [unreadable, good])
        await connection.execute(
            "DELETE FROM outbox WHERE position IN"
            " (SELECT position FROM events WHERE event_id = ANY($1))",
            [unreadable.event_id, good.event_id],
        )

    async def repaired() -> bool:
        query = "SELECT 1 FROM tenders WHERE ocid = $1"
        return bool(await stack.pool.fetchval(query, good.aggregate_id))

    await eventually(repaired, within=30)
    letter = await letter_of(stack, unreadable.event_id)
    assert letter["consumer"] == TENDERS.name
    assert "no upcaster" in letter["error"]
    listed = await procurement(stack, "dead-letters", "list")
    assert listed.exit_code == 0, listed.output
    assert str(letter["id"]) in listed.output


async def test_only_the_operator_sees_dead_letters(stack: Stack) -> None:
    """The list and the replay need the operator's token: an officer is forbidden."""
    officer = await register_officer(stack)
    async with stack.client(officer["token"]) as client:
        listed = await client.get("/operations/dead-letters")
        replayed = await client.post("/operations/dead-letters/1/replay")
    assert listed.status_code == 403
    assert replayed.status_code == 403
    async with stack.client(OPERATOR_TOKEN) as operator:
        unknown = await operator.post("/operations/dead-letters/999999/replay")
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "not_found"


async def records_on(stack: Stack, topic: str) -> list[bytes]:
    """Every record value on the topic now."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=stack.broker.bootstrap_servers, enable_auto_commit=False
    )
    await consumer.start()
    try:
        await consumer.topics()
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        values: list[bytes] = []
        for partition in partitions:
            while await consumer.position(partition) < ends[partition]:
                batch = await consumer.getmany(partition, timeout_ms=1000)
                values += [r.value or b"" for r in batch.get(partition, [])]
                if not batch:
                    break
        return values
    finally:
        await consumer.stop()


async def test_an_event_too_large_for_the_broker_does_not_stall_the_outbox(
    stack: Stack,
) -> None:
    """An event of 17 MiB (over the topics' 16 MiB limit, and over today's bounds, as old
    data could be) reaches Kafka as a small signed reference, and the events recorded
    after it reach Kafka too; the projection that cannot read it sets it aside alone."""
    officer = OfficerRegistered(
        officer_id="officer-huge",
        agency_id="agency-huge",
        name="Huge",
        email="huge@example.ro",
    )
    huge = envelope(
        officer.model_copy(update={"name": "x" * (17 * 1024 * 1024)}),
        event_id=uuid.uuid4(),
        aggregate_id="officer-huge",
        sequence=1,
        actor="operator",
        occurred_at=datetime.now(UTC),
    )
    position = await append(stack, huge)
    await register_officer(stack)
    later_ids = [
        str(row["event_id"])
        for row in await stack.pool.fetch(
            "SELECT event_id FROM events WHERE position >= $1 AND type = ANY($2)",
            position,
            sorted(PARTIES.event_types),
        )
    ]
    assert str(huge.event_id) in later_ids
    assert len(later_ids) > 1

    async def published() -> bool:
        values = b"\n".join(await records_on(stack, PARTIES.name))
        return all(event_id.encode() in values for event_id in later_ids)

    await eventually(published, within=60)
    sent = [v for v in await records_on(stack, PARTIES.name) if str(huge.event_id).encode() in v]
    assert sent
    assert all(len(value) < 1024 for value in sent)

    letter = await letter_of(stack, huge.event_id)
    assert letter["consumer"] == PARTIES.name
    assert "name" in letter["error"]
    assert (
        await stack.pool.fetchval("SELECT count(*) FROM outbox WHERE position = $1", position) == 0
    )
    relay_letters = "SELECT count(*) FROM dead_letters WHERE consumer = 'relay' AND position = $1"
    assert await stack.pool.fetchval(relay_letters, position) == 0


async def test_a_record_with_no_topic_is_published_once_its_stored_type_is_repaired(
    stack: Stack,
) -> None:
    """An agency's registration stored under a type that no topic carries (a name an older
    version wrote) is the relay's dead letter, and the events after it reach Kafka; once the
    operator repairs the stored type, the replay publishes it and resolves the letter."""
    agency_id = f"agency-RO-CUI-{uuid.uuid4().int % 10**8}"
    item = envelope(
        AgencyRegistered(agency_id=agency_id, name="Renamed agency", identifier="RO-1"),
        event_id=uuid.uuid4(),
        aggregate_id=agency_id,
        sequence=1,
        actor="operator",
        occurred_at=datetime.now(UTC),
    )
    async with stack.pool.acquire() as connection, connection.transaction():
        position = await connection.fetchval(
            "INSERT INTO events (event_id, aggregate_id, sequence, type, schema_version,"
            " occurred_at, envelope) VALUES ($1, $2, 1, 'AgencyEnrolled', 1, $3, $4::json)"
            " RETURNING position",
            item.event_id,
            agency_id,
            item.occurred_at,
            item.model_dump_json(),
        )
        await connection.execute("INSERT INTO outbox (position) VALUES ($1)", position)
    after = await register_officer(stack)
    registered = await stack.pool.fetchval(
        "SELECT event_id FROM events WHERE aggregate_id = $1", after["agency_id"]
    )

    async def published_after() -> bool:
        return str(registered).encode() in b"\n".join(await records_on(stack, PARTIES.name))

    await eventually(published_after, within=30)
    letter = await letter_of(stack, item.event_id)
    assert letter["consumer"] == "relay"
    assert "no topic carries AgencyEnrolled events" in letter["error"]

    async with stack.pool.acquire() as connection, connection.transaction():
        await connection.execute("ALTER TABLE events DISABLE TRIGGER events_are_append_only")
        await connection.execute(
            "UPDATE events SET type = 'AgencyRegistered' WHERE event_id = $1", item.event_id
        )
        await connection.execute("ALTER TABLE events ENABLE TRIGGER events_are_append_only")
    async with stack.client(OPERATOR_TOKEN) as operator:
        replayed = await operator.post(f"/operations/dead-letters/{letter['id']}/replay")
    assert replayed.status_code == 200, replayed.text
    assert replayed.json() == {"id": letter["id"], "status": "resolved"}
    assert str(item.event_id).encode() in b"\n".join(await records_on(stack, PARTIES.name))
