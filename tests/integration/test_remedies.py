"""Remedies on the real stack, under the production standstill of 10 calendar days: the
standstill the buyer may not lower, its end at midnight in the buyer's time zone, the
sole-tenderer exception, and complaints by everyone with an interest, ruled on in public."""

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
from tests.integration.stack import Stack, eventually

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
    stack: Stack, buyer: Buyer, prices: list[str], **tender: Any
) -> tuple[str, list[Party], list[str]]:
    """A tender whose bids at ``prices`` are opened, all qualified and ranked, and its lot
    awarded to the lowest: the ocid, the bidders and their bid ids, in the order of prices."""
    ocid, tender_key, deadline = await sealed_tender(stack, buyer, **tender)
    bidders = [await register_supplier(stack, f"Furnizor {n} SRL") for n in range(len(prices))]
    bid_ids = []
    for bidder, price in zip(bidders, prices, strict=True):
        answer = await submit(
            stack, bidder, seal(bid_content(ocid, bidder.id, price), tender_key, bidder)
        )
        assert answer.status_code == 201, answer.text
        bid_ids.append(answer.json()["receipt"]["bid_id"])
    await until_sealed(stack, ocid, deadline)
    for member in buyer.members:
        assert (await hand_in(stack, member, ocid)).status_code == 200
    async with stack.client(buyer.members[0].token) as committee:

        async def started() -> bool:
            return (await committee.get(f"/tenders/{ocid}/evaluation")).status_code == 200

        await eventually(started)
        for bid_id in bid_ids:
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
