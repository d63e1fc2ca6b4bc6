"""From an award to a signed, paid contract on the real stack, with the signatures
checkable by anyone from the published document."""

import base64

from bidding import keys
from contracts.contract import CONTRACT_SIGNATURE, signature_fields
from schemas.contracts import Party
from tests.integration.market import (
    Party as Holder,
)
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
from tests.integration.stack import Stack, eventually, rebuilt_read_models_match


def b64sig(holder: Holder, contract_id: str, digest: str, party: Party) -> str:
    fields = signature_fields(contract_id, digest, party)
    return base64.b64encode(keys.sign(holder.keys.signing_key, CONTRACT_SIGNATURE, fields)).decode()


async def test_an_award_becomes_a_signed_contract_that_is_paid(stack: Stack) -> None:
    buyer = await buyer_with_committee(stack, size=2)
    ocid, tender_key, deadline = await sealed_tender(stack, buyer, standstill_days=0)
    winner = await register_supplier(stack, "Câștigător SRL")
    answer = await submit(
        stack, winner, seal(bid_content(ocid, winner.id, "900.00"), tender_key, winner)
    )
    bid_id = answer.json()["receipt"]["bid_id"]
    await until_sealed(stack, ocid, deadline)
    for member in buyer.members:
        assert (await hand_in(stack, member, ocid)).status_code == 200
    signer = buyer.members[0]  # an officer of the buyer, with a registered signing key
    async with stack.client(signer.token) as officer:
        for step, body in (
            ("qualifications", {"bid_id": bid_id}),
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
        document = (await officer.get(f"/contracts/{contract_id}")).json()
        digest = document["document_sha256"]
        early_payment = await officer.post(
            f"/contracts/{contract_id}/payments",
            json={
                "payment_id": "p-1",
                "value": {"amount": "100.00", "currency": "RON"},
                "paid_at": "2027-02-01T10:00:00Z",
            },
        )
        assert early_payment.status_code == 409, early_payment.text  # not signed yet
        signed = await officer.post(
            f"/contracts/{contract_id}/signatures",
            json={"signature": b64sig(signer, contract_id, digest, Party.BUYER)},
        )
        assert signed.status_code == 201, signed.text
    async with stack.client(winner.token) as supplier:
        forged = await supplier.post(
            f"/contracts/{contract_id}/signatures",
            json={"signature": b64sig(signer, contract_id, digest, Party.SUPPLIER)},
        )
        assert forged.status_code == 422, forged.text
        signed = await supplier.post(
            f"/contracts/{contract_id}/signatures",
            json={"signature": b64sig(winner, contract_id, digest, Party.SUPPLIER)},
        )
        assert signed.status_code == 201, signed.text
    async with stack.client(signer.token) as officer:
        paid = await officer.post(
            f"/contracts/{contract_id}/payments",
            json={
                "payment_id": "p-1",
                "value": {"amount": "450.00", "currency": "RON"},
                "paid_at": "2026-11-20T10:00:00Z",
            },
        )
        assert paid.status_code == 201, paid.text

    async with stack.client() as public:
        shown = (await public.get(f"/contracts/{contract_id}")).json()
        assert shown["status"] == "active"
        assert {s["party"] for s in shown["signatures"]} == {"buyer", "supplier"}
        for s in shown["signatures"]:  # anyone can check them from the published document
            fields = signature_fields(contract_id, shown["document_sha256"], Party(s["party"]))
            assert keys.verify(
                base64.b64decode(s["public_key"]),
                base64.b64decode(s["signature"]),
                CONTRACT_SIGNATURE,
                fields,
            )

    async def projected() -> bool:
        row = await stack.pool.fetchrow(
            "SELECT status, paid FROM contracts WHERE contract_id = $1", contract_id
        )
        return bool(row and row["status"] == "active" and str(row["paid"]) == "450.00")

    assert await eventually(projected)
    assert await rebuilt_read_models_match(stack)  # the store alone rebuilds the read models
