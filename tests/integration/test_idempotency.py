"""Retrying a command with its Idempotency-Key, on the real stack: the retry is answered
with the first outcome, marked ``replayed``, and the store holds the events once, on every
family of command routes and however many retries race each other."""

import asyncio
import uuid
from typing import Any

import httpx

from schemas.contracts import Party as ContractParty
from sdk.keyfiles import KeyFile
from sdk.market import supplier_registration
from tests.integration.conftest import register_officer, tender_body
from tests.integration.market import (
    Party,
    bid_content,
    buyer_with_committee,
    hand_in,
    register_supplier,
    seal,
    sealed_tender,
    submit,
    until_sealed,
)
from tests.integration.stack import Stack
from tests.integration.test_contracts import b64sig

CONCURRENT_RETRIES = 120
ROUNDS = 4


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


async def events_of(stack: Stack, aggregate_id: str, event_type: str) -> list[str]:
    rows = await stack.pool.fetch(
        "SELECT event_id FROM events WHERE aggregate_id = $1 AND type = $2 ORDER BY sequence",
        aggregate_id,
        event_type,
    )
    return [str(row["event_id"]) for row in rows]


def same_answer(first: httpx.Response, retry: httpx.Response) -> None:
    """``retry`` is ``first`` replayed: same status and outcome, marked as a replay."""
    assert retry.status_code == first.status_code, retry.text
    assert first.json()["replayed"] is False
    assert retry.json()["replayed"] is True
    assert retry.json()["events"] == first.json()["events"]


async def active_contract(stack: Stack) -> tuple[str, Party, httpx.Response, httpx.Response]:
    """A signed, active contract: its id and the buyer's signing officer, with the bid's
    qualification sent twice under one key (the evaluation's routes)."""
    buyer = await buyer_with_committee(stack, size=2)
    ocid, tender_key, deadline = await sealed_tender(stack, buyer, standstill_days=0)
    winner = await register_supplier(stack, "Plătit SRL")
    answer = await submit(
        stack, winner, seal(bid_content(ocid, winner.id, "900.00"), tender_key, winner)
    )
    bid_id = answer.json()["receipt"]["bid_id"]
    await until_sealed(stack, ocid, deadline)
    for member in buyer.members:
        assert (await hand_in(stack, member, ocid)).status_code == 200
    signer = buyer.members[0]
    async with stack.client(signer.token) as officer:
        qualifying = key()
        qualified = [
            await officer.post(
                f"/tenders/{ocid}/evaluation/qualifications",
                json={"bid_id": bid_id},
                headers=qualifying,
            )
            for _ in range(2)
        ]
        for step, body in (
            ("lot-completions", {"lot_id": "lot-1"}),
            ("awards", {"lot_id": "lot-1"}),
        ):
            done = await officer.post(f"/tenders/{ocid}/evaluation/{step}", json=body)
            assert done.status_code == 201, (step, done.text)
        period = {"start_date": "2027-01-01", "end_date": "2027-12-31"}
        drawn = await officer.post(
            f"/tenders/{ocid}/contracts", json={"lot_id": "lot-1", "period": period}
        )
        assert drawn.status_code == 201, drawn.text
        contract_id = drawn.json()["id"]
        digest = (await officer.get(f"/contracts/{contract_id}")).json()["document_sha256"]
        signature = b64sig(signer, contract_id, digest, ContractParty.BUYER)
        signed = await officer.post(
            f"/contracts/{contract_id}/signatures", json={"signature": signature}
        )
        assert signed.status_code == 201, signed.text
    async with stack.client(winner.token) as supplier:
        signature = b64sig(winner, contract_id, digest, ContractParty.SUPPLIER)
        signed = await supplier.post(
            f"/contracts/{contract_id}/signatures", json={"signature": signature}
        )
        assert signed.status_code == 201, signed.text
    return contract_id, signer, qualified[0], qualified[1]


async def test_a_retried_payment_and_qualification_are_recorded_once(stack: Stack) -> None:
    """A contract payment and an evaluation step sent twice with one key are answered with
    the first outcome, replayed, and each is one event in the store."""
    contract_id, signer, qualified, requalified = await active_contract(stack)
    same_answer(qualified, requalified)
    ocid = contract_id.split(":contract:")[0]
    assert len(await events_of(stack, f"{ocid}:evaluation", "BidQualified")) == 1

    payment = {
        "payment_id": "p-1",
        "value": {"amount": "450.00", "currency": "RON"},
        "paid_at": "2026-11-20T10:00:00Z",
    }
    paying = key()
    async with stack.client(signer.token) as officer:
        paid = await officer.post(
            f"/contracts/{contract_id}/payments", json=payment, headers=paying
        )
        repaid = await officer.post(
            f"/contracts/{contract_id}/payments", json=payment, headers=paying
        )
    assert paid.status_code == 201, paid.text
    same_answer(paid, repaid)
    recorded = await events_of(stack, contract_id, "PaymentRecorded")
    assert recorded == [paid.json()["events"][0]["event_id"]]


async def test_a_retried_supplier_registration_is_recorded_once(stack: Stack) -> None:
    """Registering a supplier twice under one key replays the first registration instead
    of refusing the second as a supplier already registered."""
    key_file = KeyFile.generate(committee=False)
    body = supplier_registration(
        key_file,
        name="Reîncercat SRL",
        identifier=f"RO-CUI-{uuid.uuid4().int % 10**9}",
        email="oferte@reincercat.ro",
        is_sme=True,
    )
    registering = key()
    async with stack.client() as client:
        first = await client.post("/suppliers", json=body, headers=registering)
        retry = await client.post("/suppliers", json=body, headers=registering)
    assert first.status_code == 201, first.text
    same_answer(first, retry)
    assert "token" not in retry.json()  # a token is shown once
    assert len(await events_of(stack, first.json()["id"], "SupplierRegistered")) == 1


async def test_concurrent_retries_of_an_amendment_all_get_the_first_answer(stack: Stack) -> None:
    """Many identical amendments racing under one key all get the first answer, none is
    told the change was already made, and the store holds one amendment; in a few rounds,
    since the race is a matter of timing."""
    officer = await register_officer(stack)
    async with stack.client(officer["token"]) as client:
        client.timeout = httpx.Timeout(120)
        published = await client.post("/tenders", json=tender_body())
        assert published.status_code == 201, published.text
        ocid = published.json()["id"]
        for round_ in range(ROUNDS):
            amending = key()
            change = {"reason": "A clearer title", "title": f"Office paper, version {round_}"}
            before = await stack.pool.fetchval(
                "SELECT max(sequence) FROM events WHERE aggregate_id = $1", ocid
            )
            answers = await asyncio.gather(
                *(
                    client.patch(f"/tenders/{ocid}", json=change, headers=amending)
                    for _ in range(CONCURRENT_RETRIES)
                )
            )
            refused = [(a.status_code, a.text) for a in answers if a.status_code != 200]
            assert refused == [], f"round {round_}: {len(refused)} refused, as {refused[:1]}"
            outcomes: set[Any] = {str(a.json()["events"]) for a in answers}
            assert len(outcomes) == 1
            assert [a.json()["replayed"] for a in answers].count(False) == 1
            amended = await stack.pool.fetch(
                "SELECT event_id FROM events WHERE aggregate_id = $1 AND sequence > $2",
                ocid,
                before,
            )
            assert [str(r["event_id"]) for r in amended] == [
                e["event_id"] for e in answers[0].json()["events"]
            ]
