"""How a lot is ranked and who may be awarded it, on the real stack: an upheld complaint sends
an auction lot back to evaluation on the auction's final prices; the auction, the evaluation,
the award and the public audit break a tie by the same rule; a bid is qualified lot by lot;
and a bid whose own promises fail is admitted only with the committee's recorded reason."""

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from schemas.bids import BidContent
from tests.integration.conftest import register_officer
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
from tests.integration.test_audit import until_audited
from tests.integration.test_roles import add_reviewer
from tests.ocds_validation import assert_valid

RULES = {"minimum_decrement": "1.00", "ends": "inactivity", "inactivity_seconds": 5}


async def opened(
    stack: Stack,
    contents: list[tuple[str, Any]],
    *,
    lots: int = 1,
    auction: dict[str, Any] | None = None,
) -> tuple[Buyer, str, list[Party], list[str]]:
    """A tender whose bids are opened: each ``(name, content)`` is a bidder and a function
    from (ocid, bidder id) to its bid's content, submitted in this order."""
    buyer = await buyer_with_committee(stack, size=2)
    bidders = [await register_supplier(stack, name) for name, _ in contents]
    ocid, tender_key, deadline = await sealed_tender(stack, buyer, lots=lots, auction=auction)
    bid_ids = []
    for bidder, (_, content) in zip(bidders, contents, strict=True):
        answer = await submit(stack, bidder, seal(content(ocid, bidder.id), tender_key, bidder))
        assert answer.status_code == 201, answer.text
        bid_ids.append(answer.json()["receipt"]["bid_id"])
    await until_sealed(stack, ocid, deadline)
    for member in buyer.members:
        assert (await hand_in(stack, member, ocid)).status_code == 200
    return buyer, ocid, bidders, bid_ids


async def award_to(stack: Stack, ocid: str, bidder_id: str, lot_id: str = "lot-1") -> Any:
    """The lot's public award once it is to this bidder, else None."""
    async with stack.client() as public:
        awards = (await public.get(f"/tenders/{ocid}/awards")).json()["awards"]
    return next((a for a in awards if (a["lot_id"], a["supplier_id"]) == (lot_id, bidder_id)), None)


def priced(amount: str) -> Any:
    return lambda ocid, bidder_id: bid_content(ocid, bidder_id, amount)


async def post(stack: Stack, token: str, path: str, body: dict[str, Any]) -> Any:
    async with stack.client(token) as client:
        return await client.post(path, json=body)


async def evaluation_view(stack: Stack, buyer: Buyer, ocid: str) -> dict[str, Any]:
    async with stack.client(buyer.officer.token) as client:
        answer = await client.get(f"/tenders/{ocid}/evaluation")
    assert answer.status_code == 200, answer.text
    view: dict[str, Any] = answer.json()
    return view


async def auctioned(
    stack: Stack, buyer: Buyer, ocid: str, bid_ids: list[str], prices: list[tuple[Party, str]]
) -> None:
    """Every bid qualified, the lot handed to its auction, these prices sent in this order
    once it opens, and the auction closed by inactivity."""
    for bid_id in bid_ids:
        answer = await post(stack, buyer.members[0].token, f"/tenders/{ocid}/evaluation/qualifications", {"bid_id": bid_id})  # fmt: skip
        assert answer.status_code == 201, answer.text
    completed = await post(stack, buyer.officer.token, f"/tenders/{ocid}/evaluation/lot-completions", {"lot_id": "lot-1"})  # fmt: skip
    assert completed.status_code == 201, completed.text
    starts_at = (datetime.now(UTC) + timedelta(seconds=5)).isoformat()
    scheduled = await post(stack, buyer.officer.token, f"/tenders/{ocid}/auctions", {"lot_id": "lot-1", "starts_at": starts_at})  # fmt: skip
    assert scheduled.status_code == 201, scheduled.text
    path = f"/tenders/{ocid}/auctions/lot-1"

    async def status_is(status: str) -> bool:
        async with stack.client() as public:
            return bool((await public.get(path)).json()["status"] == status)

    await eventually(lambda: status_is("open"))
    for bidder, amount in prices:
        sent = await post(stack, bidder.token, f"{path}/prices", {"price": amount})
        assert sent.status_code == 201, sent.text
    await eventually(lambda: status_is("closed"), within=30)

    async def ranked() -> bool:
        return bool((await evaluation_view(stack, buyer, ocid))["lots"][0]["status"] == "ranked")

    await eventually(ranked)


async def test_an_upheld_complaint_on_an_auction_lot_reevaluates_it_on_the_auction_prices(
    stack: Stack,
) -> None:
    """Awarded after its auction, the lot goes back to evaluation when a complaint is upheld;
    the winner is rejected, and the lot is ranked again at once on the auction's final
    prices, with no second auction: the next bidder is awarded at its auction price."""
    buyer, ocid, (alpha, bravo, charlie), bid_ids = await opened(
        stack,
        [
            ("Alfa SRL", priced("1000.00")),
            ("Bravo SRL", priced("1100.00")),
            ("Charlie SA", priced("1150.00")),
        ],
        auction=RULES,
    )
    await auctioned(stack, buyer, ocid, bid_ids, [(bravo, "950.00"), (alpha, "930.00")])
    evaluation = f"/tenders/{ocid}/evaluation"
    awarded = await post(stack, buyer.officer.token, f"{evaluation}/awards", {"lot_id": "lot-1"})
    assert awarded.status_code == 201, awarded.text
    complaint = await post(stack, charlie.token, f"{evaluation}/complaints", {"lot_id": "lot-1", "grounds": "Alfa lacks the experience asked for"})  # fmt: skip
    assert complaint.status_code == 201, complaint.text
    body = await register_officer(stack)
    reviewer = await add_reviewer(stack, body["agency_id"])
    upheld = await post(stack, reviewer.token, f"{evaluation}/complaint-upholdings", {"complaint_id": "complaint-1", "remedy": "re_evaluate", "reason": "Experience not proven"})  # fmt: skip
    assert upheld.status_code == 201, upheld.text

    rejected = await post(stack, buyer.members[0].token, f"{evaluation}/disqualifications", {"bid_id": bid_ids[0], "reason": "Experience not proven"})  # fmt: skip
    assert rejected.status_code == 201, rejected.text
    completed = await post(stack, buyer.officer.token, f"{evaluation}/lot-completions", {"lot_id": "lot-1"})  # fmt: skip
    assert completed.status_code == 201, completed.text
    lot = (await evaluation_view(stack, buyer, ocid))["lots"][0]
    assert lot["status"] == "ranked"
    assert [(r["bidder_id"], r["price"]["amount"]) for r in lot["ranking"]] == [
        (bravo.id, "950.00"),
        (charlie.id, "1150.00"),
    ]
    again = await post(stack, buyer.officer.token, f"/tenders/{ocid}/auctions", {"lot_id": "lot-1", "starts_at": (datetime.now(UTC) + timedelta(days=3)).isoformat()})  # fmt: skip
    assert again.status_code == 409, again.text
    second = await post(stack, buyer.officer.token, f"{evaluation}/awards", {"lot_id": "lot-1"})
    assert second.status_code == 201, second.text
    shown = await eventually(lambda: award_to(stack, ocid, bravo.id))
    assert shown["value"] == {"amount": "950.00", "currency": "RON"}


async def test_an_auction_tie_is_awarded_to_whom_the_auction_ranks_first(
    stack: Stack, tmp_path: Path
) -> None:
    """Alfa's bid is received first, but Bravo reaches 950.00 first in the auction: Bravo
    ranks first in the auction, in the evaluation and in the award, the published rule says
    so, and the public audit re-runs the award to the same winner."""
    buyer, ocid, (alpha, bravo), bid_ids = await opened(
        stack,
        [("Alfa Tie SRL", priced("1000.00")), ("Bravo Tie SRL", priced("1100.00"))],
        auction=RULES,
    )
    await auctioned(stack, buyer, ocid, bid_ids, [(bravo, "950.00"), (alpha, "950.00")])
    async with stack.client(buyer.officer.token) as officer:
        auction = (await officer.get(f"/tenders/{ocid}/auctions/lot-1")).json()
    assert [r["bidder_id"] for r in auction["ranking"]] == [bravo.id, alpha.id]
    view = await evaluation_view(stack, buyer, ocid)
    assert [r["bidder_id"] for r in view["lots"][0]["ranking"]] == [bravo.id, alpha.id]
    assert "auction" in view["tie_break"]
    awarded = await post(stack, buyer.officer.token, f"/tenders/{ocid}/evaluation/awards", {"lot_id": "lot-1"})  # fmt: skip
    assert awarded.status_code == 201, awarded.text
    await eventually(lambda: award_to(stack, ocid, bravo.id))

    async def evidence() -> dict[str, Any] | None:
        async with stack.client() as public:
            lots = (await public.get(f"/tenders/{ocid}/award-evidence")).json()["lots"]
            return lots[0] if lots[0].get("award") else None

    lot = await eventually(evidence)
    assert "auction" in lot["rules"]["tie_break"]
    assert [row["bidder_id"] for row in lot["ranking"]] == [bravo.id, alpha.id]
    assert [loss["reason_code"] for loss in lot["unsuccessful"]] == ["tie_reached_later"]
    output = await until_audited(stack, ocid)
    assert "FAIL" not in output


def two_lots(lot_1: str, lot_2: str) -> Any:
    def content(ocid: str, bidder_id: str) -> BidContent:
        first = bid_content(ocid, bidder_id, lot_1)
        second = bid_content(ocid, bidder_id, lot_2, lot="lot-2").offers[0]
        item = second.items[0].model_copy(update={"item_id": "paper-2"})
        return first.model_copy(update={"offers": [*first.offers, second.model_copy(update={"items": (item,)})]})  # fmt: skip

    return content


async def test_a_bid_is_admissible_for_one_lot_and_rejected_for_another(stack: Stack) -> None:
    """Ieftin is qualified for lot 1 and rejected for lot 2 only: it wins lot 1, and lot 2
    goes to the other bidder; the evaluation view shows each lot's own decisions."""
    buyer, ocid, (cheap, dear), (cheap_bid, dear_bid) = await opened(
        stack,
        [
            ("Ieftin Loturi SRL", two_lots("800.00", "800.00")),
            ("Scump Loturi SA", two_lots("900.00", "900.00")),
        ],
        lots=2,
    )
    evaluation = f"/tenders/{ocid}/evaluation"
    member = buyer.members[0].token
    for body in (
        {"bid_id": cheap_bid, "lot_id": "lot-1"},
        {"bid_id": dear_bid},
    ):
        answer = await post(stack, member, f"{evaluation}/qualifications", body)
        assert answer.status_code == 201, answer.text
    rejected = await post(stack, member, f"{evaluation}/disqualifications", {"bid_id": cheap_bid, "lot_id": "lot-2", "reason": "No lot 2 samples"})  # fmt: skip
    assert rejected.status_code == 201, rejected.text
    elsewhere = await post(stack, member, f"{evaluation}/qualifications", {"bid_id": cheap_bid, "lot_id": "lot-3"})  # fmt: skip
    assert elsewhere.status_code in {404, 422}, elsewhere.text
    view = await evaluation_view(stack, buyer, ocid)
    decisions = {lot["lot_id"]: lot["decisions"] for lot in view["lots"]}
    assert decisions["lot-1"][cheap_bid]["admissible"] is True
    assert decisions["lot-2"][cheap_bid] == {"admissible": False, "reason": "No lot 2 samples"}
    for lot_id in ("lot-1", "lot-2"):
        for step in ("lot-completions", "awards"):
            done = await post(stack, buyer.officer.token, f"{evaluation}/{step}", {"lot_id": lot_id})  # fmt: skip
            assert done.status_code == 201, done.text
    await eventually(lambda: award_to(stack, ocid, cheap.id, "lot-1"))
    await eventually(lambda: award_to(stack, ocid, dear.id, "lot-2"))

    async def published() -> dict[str, Any] | None:
        async with stack.client() as public:
            answer = await public.get(f"/ocds/records/{ocid}")
        if answer.status_code != 200:
            return None
        package: dict[str, Any] = json.loads(answer.text, parse_float=Decimal)
        details = package["records"][0]["compiledRelease"].get("bids", {}).get("details", [])
        return package if len(details) == 4 else None

    package = await eventually(published)
    assert_valid(package)
    details = {d["id"]: d for d in package["records"][0]["compiledRelease"]["bids"]["details"]}
    assert details[f"{cheap_bid}:lot-1"]["status"] == "valid"
    assert details[f"{cheap_bid}:lot-2"]["status"] == "disqualified"
    assert details[f"{cheap_bid}:lot-2"]["statusDetails"] == "No lot 2 samples"


def declaring(**declaration: Any) -> Any:
    def content(ocid: str, bidder_id: str) -> BidContent:
        base = bid_content(ocid, bidder_id, "900.00")
        changed = base.declaration.model_copy(update=declaration)
        return base.model_copy(update={"declaration": changed, "valid_until": date.today() + timedelta(days=90)})  # fmt: skip

    return content


async def test_a_bid_that_declares_an_exclusion_ground_is_admitted_only_with_a_reason(
    stack: Stack,
) -> None:
    """A bidder that declares an exclusion ground is not qualified on a plain click (409
    exclusion_ground_declared); the committee admits it with its recorded reason (self-
    cleaning). One that fails a selection criterion is rejected with no more ado."""
    buyer, ocid, _, (excluded, unsuitable) = await opened(
        stack,
        [
            ("Curățat SRL", declaring(no_exclusion_grounds=False)),
            ("Slab SRL", declaring(meets_selection_criteria=False)),
        ],
    )
    evaluation = f"/tenders/{ocid}/evaluation"
    member = buyer.members[0].token
    plain = await post(stack, member, f"{evaluation}/qualifications", {"bid_id": excluded})
    assert plain.status_code == 409, plain.text
    assert plain.json()["code"] == "exclusion_ground_declared"
    unsuitable_plain = await post(stack, member, f"{evaluation}/qualifications", {"bid_id": unsuitable})  # fmt: skip
    assert unsuitable_plain.status_code == 409, unsuitable_plain.text
    assert unsuitable_plain.json()["code"] == "selection_criteria_not_met"
    reason = "Self-cleaning under Article 57(6): damages paid, staff measures taken"
    admitted = await post(stack, member, f"{evaluation}/qualifications", {"bid_id": excluded, "reason": reason})  # fmt: skip
    assert admitted.status_code == 201, admitted.text
    rejected = await post(stack, member, f"{evaluation}/disqualifications", {"bid_id": unsuitable, "reason": "Turnover below the minimum"})  # fmt: skip
    assert rejected.status_code == 201, rejected.text
    [lot] = (await evaluation_view(stack, buyer, ocid))["lots"]
    assert lot["decisions"][excluded] == {"admissible": True, "reason": reason}
