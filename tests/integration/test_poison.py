"""Anyone who reaches the broker can write records. The stream applies a record only if
the relay signed it and the event store holds the very same event; everything else is
counted in ``forged_records`` and changes nothing, and the stream keeps going."""

import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from aiokafka import AIOKafkaProducer

from adapters.kafka.record_signing import HEADER, sign
from adapters.kafka.topology import EVALUATIONS, TENDERS
from schemas.evaluation import AwardDecided, RankedBid
from schemas.events import Envelope, TenderCancelled, TenderDetailsAmended, envelope
from schemas.values import Value
from tests.integration.conftest import register_officer, tender_body
from tests.integration.stack import PAST_DEADLINE, Stack, eventually


async def produce(
    stack: Stack, topic: str, key: str, values: list[bytes], signing_key: bytes | None = None
) -> None:
    """Write records straight to the broker, as an intruder would; signed if given a key."""
    producer = AIOKafkaProducer(bootstrap_servers=stack.broker.bootstrap_servers)
    await producer.start()
    try:
        for value in values:
            headers = []
            if signing_key is not None:
                headers = [(HEADER, sign(signing_key, topic, key.encode(), value))]
            await producer.send_and_wait(topic, value, key=key.encode(), headers=headers)
    finally:
        await producer.stop()


def forged(event: Any, aggregate_id: str, sequence: int) -> Envelope:
    """An envelope no command recorded."""
    return envelope(
        event,
        event_id=uuid.uuid4(),
        aggregate_id=aggregate_id,
        sequence=sequence,
        actor="intruder",
        occurred_at=datetime.now(UTC),
    )


async def published_tender(stack: Stack, token: str, **body: Any) -> str:
    """A genuine tender, once the public read model shows it."""
    async with stack.client(token) as client:
        response = await client.post("/tenders", json=tender_body(**body))
        assert response.status_code == 201, response.text
    ocid: str = response.json()["id"]

    async def projected() -> bool:
        return bool(await stack.pool.fetchval("SELECT 1 FROM tenders WHERE ocid = $1", ocid))

    await eventually(projected)
    return ocid


async def refusal_of(stack: Stack, event_id: uuid.UUID) -> str | None:
    """Why the stream refused the record carrying ``event_id``, once it has."""
    if not await stack.pool.fetchval("SELECT to_regclass('forged_records') IS NOT NULL"):
        return None  # no worker has counted anything yet
    reason: str | None = await stack.pool.fetchval(
        "SELECT reason FROM forged_records WHERE event_id = $1", event_id
    )
    return reason


async def public_tender(stack: Stack, ocid: str) -> dict[str, Any]:
    async with stack.client() as client:
        response = await client.get(f"/tenders/{ocid}")
        assert response.status_code == 200, response.text
        document: dict[str, Any] = response.json()
        return document


async def test_foreign_and_broken_records_are_skipped(stack: Stack) -> None:
    """A forged event for an unknown tender, bytes that are not JSON and a JSON array land
    on the topic; the next real tender still reaches the public, and nothing forged does."""
    before: int = await stack.pool.fetchval("SELECT count(*) FROM forged_records")
    cancel = forged(TenderCancelled(reason="Forged"), "ocds-test00-forged", 7)
    values = [cancel.model_dump_json().encode(), b"\x80not json", b"[1, 2]"]
    await produce(stack, TENDERS.name, "ocds-test00-forged", values)

    officer = await register_officer(stack)
    await published_tender(stack, officer["token"])

    async def counted() -> bool:
        counted: int = await stack.pool.fetchval("SELECT count(*) FROM forged_records")
        return counted >= before + 3

    await eventually(counted)
    assert (
        await stack.pool.fetchval("SELECT count(*) FROM tenders WHERE ocid = 'ocds-test00-forged'")
        == 0
    )
    assert await refusal_of(stack, cancel.event_id) == "it does not carry the relay's signature"
    assert stack.workers[0].poll() is None
    log = (stack.log_dir / "worker-0.log").read_text()
    assert "forged record(s) on procurement.tenders, nothing applied" in log


async def test_a_forged_cancellation_of_a_real_tender_changes_nothing(stack: Stack) -> None:
    """A TenderCancelled for a real tender, with the next sequence number, is refused and the
    tender stays active for the public."""
    officer = await register_officer(stack)
    ocid = await published_tender(stack, officer["token"])
    cancel = forged(TenderCancelled(reason="Forged cancellation"), ocid, 2)
    await produce(stack, TENDERS.name, ocid, [cancel.model_dump_json().encode()])

    async def seen() -> bool:
        status = await stack.pool.fetchval("SELECT status FROM tenders WHERE ocid = $1", ocid)
        return status == "cancelled" or await refusal_of(stack, cancel.event_id) is not None

    await eventually(seen)
    assert (await public_tender(stack, ocid))["status"] == "active"
    assert await refusal_of(stack, cancel.event_id) == "it does not carry the relay's signature"


async def test_a_forged_award_is_never_published(stack: Stack) -> None:
    """An AwardDecided of 1.00 RON to a made-up supplier for a real tender is refused; the
    tender has no award."""
    officer = await register_officer(stack)
    ocid = await published_tender(stack, officer["token"])
    now = datetime.now(UTC)
    price = Value(amount=Decimal("1.00"), currency="RON")
    award = AwardDecided(
        lot_id="lot-1",
        bid_id="bid-forged",
        bidder_id="supplier-made-up",
        value=price,
        ranking=(
            RankedBid(
                rank=1,
                bid_id="bid-forged",
                bidder_id="supplier-made-up",
                price=price,
                price_score=Decimal("100"),
                quality_part=Decimal("0"),
                total=Decimal("100"),
                received_at=now,
            ),
        ),
        unsuccessful=(),
        officer_id="officer-intruder",
        decided_at=now,
        standstill_ends=now + timedelta(days=10),
    )
    item = forged(award, f"{ocid}:evaluation", 1)
    await produce(stack, EVALUATIONS.name, item.aggregate_id, [item.model_dump_json().encode()])

    async def seen() -> bool:
        awarded = await stack.pool.fetchval("SELECT 1 FROM awards WHERE ocid = $1", ocid)
        return bool(awarded) or await refusal_of(stack, item.event_id) is not None

    await eventually(seen)
    assert await stack.pool.fetchval("SELECT count(*) FROM awards WHERE ocid = $1", ocid) == 0
    async with stack.client() as client:
        awards = (await client.get(f"/tenders/{ocid}/awards")).json()
    assert "supplier-made-up" not in json.dumps(awards)


async def test_a_forged_event_does_not_steal_the_next_sequence_number(stack: Stack) -> None:
    """A forged amendment takes the tender's next sequence number on the topic; the buyer's
    genuine amendment with that number still reaches the public, and the forged one never."""
    officer = await register_officer(stack)
    ocid = await published_tender(stack, officer["token"])
    amendment = TenderDetailsAmended(
        title="Forged title", description="Forged description", reason="Forged"
    )
    item = forged(amendment, ocid, 2)
    await produce(stack, TENDERS.name, ocid, [item.model_dump_json().encode()])

    async def seen() -> bool:
        version = await stack.pool.fetchval("SELECT version FROM tenders WHERE ocid = $1", ocid)
        return version == 2 or await refusal_of(stack, item.event_id) is not None

    await eventually(seen)
    async with stack.client(officer["token"]) as client:
        response = await client.patch(
            f"/tenders/{ocid}", json={"title": "Genuine title", "reason": "Title clarified"}
        )
        assert response.status_code == 200, response.text

    async def genuinely_amended() -> bool:
        return bool((await public_tender(stack, ocid))["title"] == "Genuine title")

    await eventually(genuinely_amended, within=10)
    document = await public_tender(stack, ocid)
    assert [change["reason"] for change in document["amendments"]] == ["Title clarified"]


async def test_a_forged_publication_with_a_past_deadline_stops_nothing(stack: Stack) -> None:
    """A TenderPublished for a tender the store never recorded, with its deadline passed,
    is refused; the worker keeps running and still closes a real tender at its deadline."""
    officer = await register_officer(stack)
    ocid = await published_tender(stack, officer["token"])
    stored = await stack.pool.fetchval(
        "SELECT envelope FROM events WHERE aggregate_id = $1 AND sequence = 1", ocid
    )
    body = json.loads(stored)
    fake_ocid = f"{ocid}-forged"
    body["event_id"] = str(uuid.uuid4())
    body["aggregate_id"] = fake_ocid
    body["event"]["ocid"] = fake_ocid
    body["event"]["submission_deadline"] = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    await produce(stack, TENDERS.name, fake_ocid, [json.dumps(body).encode()])
    closing = await published_tender(stack, officer["token"], deadline_in=timedelta(seconds=3))

    async def closed() -> bool:
        return (await public_tender(stack, closing))["status"] in PAST_DEADLINE

    await eventually(closed, within=20)
    assert await refusal_of(stack, uuid.UUID(body["event_id"])) is not None
    assert not await stack.pool.fetchval("SELECT 1 FROM tenders WHERE ocid = $1", fake_ocid)
    assert stack.workers[0].poll() is None


async def test_the_deadline_service_survives_a_tender_the_store_does_not_know(
    stack: Stack,
) -> None:
    """A read-model row that no event recorded, due long ago, neither stops the deadline
    service nor the worker: a real tender still closes at its deadline."""
    officer = await register_officer(stack)
    ocid = await published_tender(stack, officer["token"])
    ghost = f"{ocid}-ghost"
    await stack.pool.execute(
        "INSERT INTO tenders (ocid, buyer_id, status, cpv, submission_deadline, published_at,"
        " version, document) SELECT $2, buyer_id, status, cpv, now() - interval '1 day',"
        " published_at, version, document FROM tenders WHERE ocid = $1",
        ocid,
        ghost,
    )
    try:
        closing = await published_tender(stack, officer["token"], deadline_in=timedelta(seconds=3))

        async def closed() -> bool:
            return (await public_tender(stack, closing))["status"] in PAST_DEADLINE

        await eventually(closed, within=20)
        assert stack.workers[0].poll() is None
    finally:
        await stack.pool.execute("DELETE FROM tenders WHERE ocid = $1", ghost)


async def test_a_signed_record_the_store_does_not_hold_is_refused(stack: Stack) -> None:
    """Even with the relay's key, a record is applied only as the store holds it: an event
    the store never recorded, and a genuine event with its title changed, are refused."""
    officer = await register_officer(stack)
    ocid = await published_tender(stack, officer["token"])
    signing_key = await stack.pool.fetchval("SELECT secret FROM stream_keys")
    cancel = forged(TenderCancelled(reason="Signed but forged"), ocid, 2)
    stored = json.loads(
        await stack.pool.fetchval(
            "SELECT envelope FROM events WHERE aggregate_id = $1 AND sequence = 1", ocid
        )
    )
    stored["event"]["title"] = "Altered title"
    altered = json.dumps(stored).encode()
    await produce(
        stack, TENDERS.name, ocid, [cancel.model_dump_json().encode(), altered], signing_key
    )

    async def both_refused() -> bool:
        return await refusal_of(stack, cancel.event_id) is not None and (
            await stack.pool.fetchval(
                "SELECT count(*) FROM forged_records WHERE event_id = $1",
                uuid.UUID(stored["event_id"]),
            )
            == 1
        )

    await eventually(both_refused)
    assert await refusal_of(stack, cancel.event_id) == "the event store has no such event"
    assert await refusal_of(stack, uuid.UUID(stored["event_id"])) == (
        "it differs from the event in the event store"
    )
    document = await public_tender(stack, ocid)
    assert (document["status"], document["title"]) == ("active", "Office paper for 2027")
