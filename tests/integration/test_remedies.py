"""Remedies on the real stack, under the production standstill of 10 calendar days: the
standstill the buyer may not lower, its end at midnight in the buyer's time zone, the
sole-tenderer exception, and complaints by everyone with an interest, ruled on in public."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from procurement.rules import ProcedureRules
from tests.integration.conftest import running_stack, tender_body
from tests.integration.market import (
    Buyer,
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
from tests.integration.stack import OPERATOR_TOKEN, Stack, eventually
from tests.integration.test_poison_bid_opening import with_statement

LOT = "lot-1"


@pytest.fixture(scope="module")
async def stack(
    postgres_server: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    """The test platform, but with the legal standstill of production."""
    rules = ProcedureRules(
        minimum_tender_period=timedelta(0),
        minimum_period_after_significant_amendment=timedelta(seconds=30),
        minimum_auction_notice=timedelta(seconds=1),
    )
    assert rules.minimum_standstill_days == 10
    async with running_stack(postgres_server, tmp_path_factory, rules=rules) as platform:
        yield platform


async def awarded(
    stack: Stack, buyer: Buyer, prices: list[str], unreadable: int = 0, **tender: Any
) -> tuple[str, list[Party], list[str]]:
    """A tender whose bids at ``prices`` are opened, all qualified and ranked, and its lot
    awarded to the lowest; the last ``unreadable`` of them cannot be opened. The ocid, the
    bidders and their bid ids, in the order of prices."""
    ocid, tender_key, deadline = await sealed_tender(stack, buyer, **tender)
    bidders = [await register_supplier(stack, f"Furnizor {n} SRL") for n in range(len(prices))]
    bid_ids = []
    for n, (bidder, price) in enumerate(zip(bidders, prices, strict=True)):
        content = bid_content(ocid, bidder.id, price)
        if n >= len(prices) - unreadable:
            content = with_statement(content, "We\x00deliver")  # rejected at the opening
        answer = await submit(stack, bidder, seal(content, tender_key, bidder))
        assert answer.status_code == 201, answer.text
        bid_ids.append(answer.json()["receipt"]["bid_id"])
    await until_sealed(stack, ocid, deadline)
    for member in buyer.members:
        assert (await hand_in(stack, member, ocid)).status_code == 200
    async with stack.client(buyer.members[0].token) as committee:

        async def started() -> bool:
            return (await committee.get(f"/tenders/{ocid}/evaluation")).status_code == 200

        await eventually(started)
        for bid_id in bid_ids[: len(bid_ids) - unreadable]:
            answer = await committee.post(
                f"/tenders/{ocid}/evaluation/qualifications", json={"bid_id": bid_id}
            )
            assert answer.status_code == 201, answer.text
    async with stack.client(buyer.officer.token) as officer:
        ranked = await officer.post(
            f"/tenders/{ocid}/evaluation/lot-completions", json={"lot_id": LOT}
        )
        assert ranked.status_code == 201, ranked.text
        decided = await officer.post(f"/tenders/{ocid}/evaluation/awards", json={"lot_id": LOT})
        assert decided.status_code == 201, decided.text
    return ocid, bidders, bid_ids


async def public_award(stack: Stack, ocid: str) -> dict[str, Any]:
    async with stack.client() as public:

        async def award() -> dict[str, Any] | None:
            found = (await public.get(f"/tenders/{ocid}/awards")).json()["awards"]
            return found[0] if found else None

        return await eventually(award)


async def draw(stack: Stack, buyer: Buyer, ocid: str) -> Any:
    period = {"start_date": "2027-01-01", "end_date": "2027-12-31"}
    async with stack.client(buyer.officer.token) as officer:
        return await officer.post(
            f"/tenders/{ocid}/contracts", json={"lot_id": LOT, "period": period}
        )


async def test_the_standstill_is_ten_days_to_midnight_in_bucharest(stack: Stack) -> None:
    """Item 7: a tender with less than 10 days of standstill and no ground of Article 2b is
    refused; an award's standstill ends at the end of the 10th day after the decision's day,
    in Bucharest; the contract waits for it."""
    buyer = await buyer_with_committee(stack, size=2)
    body = tender_body(deadline_in=timedelta(days=40))
    body["requirements"]["standstill_days"] = 0
    async with stack.client(buyer.officer.token) as officer:
        refused = await officer.post("/tenders", json=body)
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "standstill_too_short"

    ocid, _, _ = await awarded(stack, buyer, ["880.00", "960.00"])
    award = await public_award(stack, ocid)
    bucharest = ZoneInfo("Europe/Bucharest")
    decided = datetime.fromisoformat(award["decided_at"]).astimezone(bucharest)
    last_day = decided.date() + timedelta(days=10)
    midnight = datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=bucharest)
    assert datetime.fromisoformat(award["standstill_ends"]) == midnight.astimezone(UTC)
    early = await draw(stack, buyer, ocid)
    assert early.status_code == 409, early.text


async def test_a_sole_tenderer_award_is_contracted_without_a_standstill(stack: Stack) -> None:
    """Item 7, Article 2b(b): the buyer states the sole-tenderer ground; with one tenderer it
    holds and the contract is drawn at once."""
    buyer = await buyer_with_committee(stack, size=2)
    ocid, _, _ = await awarded(
        stack, buyer, ["900.00"], standstill_days=0, standstill_ground="sole_tenderer"
    )
    award = await public_award(stack, ocid)
    assert award["standstill_ends"] == award["decided_at"]
    drawn = await draw(stack, buyer, ocid)
    assert drawn.status_code == 201, drawn.text


async def reviewer_of_another_body(stack: Stack) -> tuple[str, str]:
    """A review officer of the national review body: its agency's id and its token."""
    async with stack.client(OPERATOR_TOKEN) as operator:
        identifier = f"RO-CNSC-{uuid.uuid4().int % 10**8}"
        body = await operator.post("/agencies", json={"name": "CNSC", "identifier": identifier})
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
    return body.json()["id"], reviewer.json()["token"]


async def test_every_tenderer_may_complain_and_the_decision_is_published(stack: Stack) -> None:
    """Item 8, Directive 89/665/EEC Article 1(3): a tenderer whose bid was rejected at the
    opening still may seek review of the award, a supplier that did not tender may not; the
    review body's decision, with its reasons, is public at /tenders/{ocid}/complaints and in
    OCDS, on the award, with the review body among the parties."""
    buyer = await buyer_with_committee(stack, size=2)
    ocid, bidders, _ = await awarded(stack, buyer, ["880.00", "960.00", "500.00"], unreadable=1)
    rejected = bidders[2]
    outsider = await register_supplier(stack, "Nimeni SRL")
    grounds = {"lot_id": LOT, "grounds": "My bid was opened wrongly and was the lowest."}
    async with stack.client(outsider.token) as client:
        refused = await client.post(f"/tenders/{ocid}/evaluation/complaints", json=grounds)
    assert refused.status_code == 403, refused.text
    assert refused.json()["code"] == "not_a_tenderer"
    async with stack.client(rejected.token) as client:
        filed = await client.post(f"/tenders/{ocid}/evaluation/complaints", json=grounds)
    assert filed.status_code == 201, filed.text

    body_id, reviewer_token = await reviewer_of_another_body(stack)
    async with stack.client(reviewer_token) as review:
        ruled = await review.post(
            f"/tenders/{ocid}/evaluation/complaint-dismissals",
            json={"complaint_id": "complaint-1", "reason": "The bid could not be decrypted."},
        )
    assert ruled.status_code == 201, ruled.text

    async with stack.client() as public:
        [complaint] = (await public.get(f"/tenders/{ocid}/complaints")).json()["complaints"]
        assert (complaint["complainant_id"], complaint["status"]) == (rejected.id, "dismissed")
        decision = complaint["decision"]
        assert decision["reasons"] == "The bid could not be decrypted."
        assert decision["review_body_id"] == body_id

        async def published() -> dict[str, Any] | None:
            answer = await public.get(f"/ocds/records/{ocid}")
            if answer.status_code != 200:
                return None
            record: dict[str, Any] = answer.json()["records"][0]["compiledRelease"]
            complaints = [c for a in record.get("awards", []) for c in a.get("complaints", [])]
            return record if complaints and complaints[0]["status"] == "dismissed" else None

        record = await eventually(published)
    roles = {party["id"]: party["roles"] for party in record["parties"]}
    assert roles[body_id] == ["reviewBody"]
    [award] = record["awards"]
    assert award["complaints"][0]["reviewBody"]["id"] == body_id
    assert record["tender"]["awardPeriod"]["endDate"] == award["awardEvidence"]["standstillEnds"]


async def test_the_review_body_may_annul_a_cancellation_and_the_lot_resumes(stack: Stack) -> None:
    """Item 8, Directive 89/665/EEC Article 2(1)(b): a tenderer complains about the buyer's
    cancellation of the awarded lot; the review body annuls it and the award stands again,
    in the public awards and the public record of complaints."""
    buyer = await buyer_with_committee(stack, size=2)
    ocid, bidders, _ = await awarded(stack, buyer, ["880.00", "960.00"])
    async with stack.client(buyer.officer.token) as officer:
        cancelled = await officer.post(
            f"/tenders/{ocid}/evaluation/lot-cancellations",
            json={"lot_id": LOT, "reason": "The budget was cut."},
        )
    assert cancelled.status_code == 201, cancelled.text
    complaint = {"lot_id": LOT, "grounds": "The budget was not cut.", "subject": "cancellation"}
    async with stack.client(bidders[0].token) as winner:
        filed = await winner.post(f"/tenders/{ocid}/evaluation/complaints", json=complaint)
    assert filed.status_code == 201, filed.text
    _, reviewer_token = await reviewer_of_another_body(stack)
    async with stack.client(reviewer_token) as review:
        wrong = await review.post(
            f"/tenders/{ocid}/evaluation/complaint-upholdings",
            json={"complaint_id": "complaint-1", "remedy": "re_evaluate", "reason": "No."},
        )
        assert wrong.status_code == 422, wrong.text
        annulled = await review.post(
            f"/tenders/{ocid}/evaluation/complaint-upholdings",
            json={
                "complaint_id": "complaint-1",
                "remedy": "annul_cancellation",
                "reason": "The budget stands: the cancellation had no ground.",
            },
        )
    assert annulled.status_code == 201, annulled.text

    async with stack.client() as public:

        async def standing() -> bool:
            found = (await public.get(f"/tenders/{ocid}/awards")).json()["awards"]
            return bool(found and found[0]["status"] == "awarded")

        assert await eventually(standing)
        [ruled] = (await public.get(f"/tenders/{ocid}/complaints")).json()["complaints"]
    assert (ruled["subject"], ruled["status"]) == ("cancellation", "upheld")
    assert ruled["decision"]["remedy"] == "annul_cancellation"
