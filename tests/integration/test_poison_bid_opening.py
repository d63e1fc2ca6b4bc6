"""A bid sealed around a character the platform cannot store (U+0000 in its statement) is
accepted sealed, since nobody can read it before the opening; at the opening it is rejected
on its own, with its reason, and the other bids open and go on to evaluation."""

from typing import Any

from schemas.bids import BidContent
from schemas.events import BidOpened, BidRejected
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
from tests.integration.stack import Stack, eventually
from tests.integration.test_sealed_bids import opening_events


def with_statement(content: BidContent, statement: str) -> BidContent:
    """``content`` with a statement the schema would refuse: a hostile client skips the
    check, and the platform cannot see inside the sealed bid to refuse it at intake."""
    declaration = content.declaration.model_copy(update={"statement": statement})
    return content.model_copy(update={"declaration": declaration})


async def public_bids(stack: Stack, ocid: str) -> dict[str, Any] | None:
    async with stack.client() as public:
        bids: dict[str, Any] | None = (await public.get(f"/tenders/{ocid}")).json()["bids"]
    return bids


async def test_a_bid_sealed_around_u0000_is_rejected_and_the_others_open(stack: Stack) -> None:
    """Of three bids, the one whose statement holds U+0000 is rejected at the opening as
    unreadable, naming the character; the two others open, the public counts both, the
    read models take every opening event, and the evaluation ranks the two."""
    buyer = await buyer_with_committee(stack, size=2)
    ocid, tender_key, deadline = await sealed_tender(stack, buyer)
    cheap, dear, poisoner = [
        await register_supplier(stack, name) for name in ("Ieftin SRL", "Scump SA", "Otravă SRL")
    ]
    bids: dict[str, str] = {}
    sealed: list[tuple[Party, BidContent]] = [
        (cheap, bid_content(ocid, cheap.id, "880.00")),
        (dear, bid_content(ocid, dear.id, "960.00")),
        (poisoner, with_statement(bid_content(ocid, poisoner.id, "500.00"), "We\x00deliver")),
    ]
    for bidder, content in sealed:
        answer = await submit(stack, bidder, seal(content, tender_key, bidder))
        assert answer.status_code == 201, answer.text
        bids[bidder.id] = answer.json()["receipt"]["bid_id"]

    await until_sealed(stack, ocid, deadline)
    answers = [await hand_in(stack, member, ocid) for member in buyer.members]
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    opened = answers[-1].json()
    assert (opened["opened"], opened["bids_opened"], opened["bids_rejected"]) == (True, 2, 1)

    events = await opening_events(stack, ocid)
    rejected = [e for e in events if isinstance(e, BidRejected)]
    assert [(e.bidder_id, e.reason_code) for e in rejected] == [(poisoner.id, "unreadable")]
    assert "U+0000" in rejected[0].reason
    assert {e.bidder_id for e in events if isinstance(e, BidOpened)} == {cheap.id, dear.id}

    async def counted() -> dict[str, Any] | None:
        summary = await public_bids(stack, ocid)
        return summary if summary and summary["opened_at"] else None

    summary = await eventually(counted)
    assert (summary["opened"], summary["rejected"]) == (2, 1)
    async with stack.client() as public:
        assert (await public.get("/health/dead-letters")).json()["unresolved"] == 0

    async with stack.client(buyer.members[0].token) as committee:

        async def evaluating() -> dict[str, Any] | None:
            answer = await committee.get(f"/tenders/{ocid}/evaluation")
            return answer.json() if answer.status_code == 200 else None

        await eventually(evaluating)
        refused = await committee.post(
            f"/tenders/{ocid}/evaluation/qualifications", json={"bid_id": bids[poisoner.id]}
        )
        assert refused.status_code in {404, 409, 422}, refused.text
        for bidder in (cheap, dear):
            answer = await committee.post(
                f"/tenders/{ocid}/evaluation/qualifications", json={"bid_id": bids[bidder.id]}
            )
            assert answer.status_code == 201, answer.text
    async with stack.client(buyer.officer.token) as officer:
        ranked = await officer.post(
            f"/tenders/{ocid}/evaluation/lot-completions", json={"lot_id": "lot-1"}
        )
        assert ranked.status_code == 201, ranked.text
        view = (await officer.get(f"/tenders/{ocid}/evaluation")).json()
    assert [r["bidder_id"] for r in view["lots"][0]["ranking"]] == [cheap.id, dear.id]
