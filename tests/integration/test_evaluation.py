"""From opened bids to an award on the real stack: the opening starts the evaluation, the
committee qualifies, the buyer ranks and awards, the public sees the award, and a
complaint suspends it."""

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
from tests.integration.stack import OPERATOR_TOKEN, Stack, eventually
from tests.integration.test_cli import procurement


async def test_opened_bids_are_evaluated_and_awarded(stack: Stack) -> None:
    buyer = await buyer_with_committee(stack, size=2)
    ocid, tender_key, deadline = await sealed_tender(stack, buyer)
    cheap, dear = (
        await register_supplier(stack, "Ieftin SRL"),
        await register_supplier(stack, "Scump SA"),
    )
    bids = {}
    for bidder, amount in ((cheap, "880.00"), (dear, "960.00")):
        answer = await submit(
            stack, bidder, seal(bid_content(ocid, bidder.id, amount), tender_key, bidder)
        )
        bids[bidder.id] = answer.json()["receipt"]["bid_id"]
    await until_sealed(stack, ocid, deadline)
    for member in buyer.members:
        assert (await hand_in(stack, member, ocid)).status_code == 200

    member, officer = buyer.members[0], buyer.officer
    async with stack.client(member.token) as committee:
        for bid_id in bids.values():
            answer = await committee.post(
                f"/tenders/{ocid}/evaluation/qualifications", json={"bid_id": bid_id}
            )
            assert answer.status_code == 201, answer.text
        too_soon = await committee.post(
            f"/tenders/{ocid}/evaluation/awards", json={"lot_id": "lot-1"}
        )
        assert too_soon.status_code == 409  # not ranked yet, whoever asks
    async with stack.client(officer.token) as client:
        early = await client.post(f"/tenders/{ocid}/evaluation/awards", json={"lot_id": "lot-1"})
        assert early.status_code == 409, early.text  # the lot is not ranked yet
        ranked = await client.post(
            f"/tenders/{ocid}/evaluation/lot-completions", json={"lot_id": "lot-1"}
        )
        assert ranked.status_code == 201, ranked.text
        view = (await client.get(f"/tenders/{ocid}/evaluation")).json()
        assert [r["bidder_id"] for r in view["lots"][0]["ranking"]] == [cheap.id, dear.id]
        awarded = await client.post(f"/tenders/{ocid}/evaluation/awards", json={"lot_id": "lot-1"})
        assert awarded.status_code == 201, awarded.text

    async with stack.client() as public:

        async def award() -> dict[str, object] | None:
            found = (await public.get(f"/tenders/{ocid}/awards")).json()["awards"]
            return found[0] if found else None

        shown = await eventually(award)
        assert shown["supplier_id"] == cheap.id
        assert shown["value"] == {"amount": "880.00", "currency": "RON"}
        assert shown["status"] == "awarded"
        outsider = await public.get(f"/tenders/{ocid}/evaluation")
        assert outsider.status_code == 401

    async with stack.client(dear.token) as loser:
        complaint = await loser.post(
            f"/tenders/{ocid}/evaluation/complaints",
            json={"lot_id": "lot-1", "grounds": "The winner's price is abnormally low"},
        )
        assert complaint.status_code == 201, complaint.text
    async with stack.client() as public:

        async def suspended() -> bool:
            found = (await public.get(f"/tenders/{ocid}/awards")).json()["awards"]
            return bool(found and found[0]["status"] == "suspended")

        assert await eventually(suspended)

    # A review officer of another body rules: the complaint is dismissed, the award stands.
    async with stack.client(OPERATOR_TOKEN) as operator:
        body = await operator.post("/agencies", json={"name": "CNSC", "identifier": "RO-CNSC"})
        assert body.status_code == 201, body.text
        reviewer = await operator.post(
            "/officers",
            json={
                "agency_id": body.json()["id"],
                "name": "Maria Ionescu",
                "email": "maria@cnsc.ro",
                "role": "reviewer",
            },
        )
        assert reviewer.status_code == 201, reviewer.text
    async with stack.client(officer.token) as client:
        refused = await client.post(
            f"/tenders/{ocid}/evaluation/complaint-dismissals",
            json={"complaint_id": "complaint-1", "reason": "I judge my own case"},
        )
        assert refused.status_code == 403, refused.text
    async with stack.client(reviewer.json()["token"]) as review:
        ruled = await review.post(
            f"/tenders/{ocid}/evaluation/complaint-dismissals",
            json={"complaint_id": "complaint-1", "reason": "The price was justified"},
        )
        assert ruled.status_code == 201, ruled.text

    async with stack.client() as public:

        async def standing() -> bool:
            found = (await public.get(f"/tenders/{ocid}/awards")).json()["awards"]
            return bool(found and found[0]["status"] == "awarded")

        assert await eventually(standing)

        # The award stands but its standstill runs and no contract is concluded: 880.00
        # against 1,000.00 is no saving yet.
        summary = (await public.get("/savings")).json()["currencies"].get("RON", {})
        assert ocid not in {lot["ocid"] for lot in summary.get("lots", [])}
    printed = await procurement(stack, "savings")
    assert printed.exit_code == 0, printed.output
