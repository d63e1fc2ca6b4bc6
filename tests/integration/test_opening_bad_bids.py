"""One bad bid never blocks the others: a bid that opens but cannot be evaluated (priced in
another currency than its lot's) is rejected at the opening on its own, with its reason,
shown to the committee and, after the opening, to the public; the others open and go on to
the evaluation."""

import json
from typing import Any

from schemas.bids import BidContent
from schemas.events import BidOpened, BidRejected
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
from tests.integration.stack import Stack, eventually
from tests.integration.test_sealed_bids import opening_events


def in_currency(content: BidContent, currency: str) -> BidContent:
    offers = [
        offer.model_copy(update={"price": offer.price.model_copy(update={"currency": currency})})
        for offer in content.offers
    ]
    return content.model_copy(update={"offers": offers})


async def test_a_bid_in_another_currency_is_rejected_alone_and_the_others_open(
    stack: Stack,
) -> None:
    """Of three bids on a RON lot, the cheapest is priced in EUR: it is rejected at the
    opening as ``wrong_currency``, the committee sees why at once and the public with the
    award (OCDS ``bids.details``), and the two others open, are ranked and awarded."""
    buyer = await buyer_with_committee(stack, size=2)
    ocid, material, deadline = await sealed_tender(stack, buyer)
    cheap, dear, foreign = [
        await register_supplier(stack, name) for name in ("Ieftin SRL", "Scump SA", "Euro GmbH")
    ]
    bids: dict[str, str] = {}
    for bidder, content in (
        (cheap, bid_content(ocid, cheap.id, "880.00")),
        (dear, bid_content(ocid, dear.id, "960.00")),
        (foreign, in_currency(bid_content(ocid, foreign.id, "500.00"), "EUR")),
    ):
        answer = await submit(stack, bidder, seal(content, material, bidder))
        assert answer.status_code == 201, answer.text
        bids[bidder.id] = answer.json()["receipt"]["bid_id"]

    await until_sealed(stack, ocid, deadline)
    answers = [await hand_in(stack, member, ocid) for member in buyer.members]
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    opened = answers[-1].json()
    assert (opened["opened"], opened["bids_opened"], opened["bids_rejected"]) == (True, 2, 1)

    events = await opening_events(stack, ocid)
    rejected = [e for e in events if isinstance(e, BidRejected)]
    assert [(e.bidder_id, e.reason_code) for e in rejected] == [(foreign.id, "wrong_currency")]
    assert "EUR" in rejected[0].reason
    assert "RON" in rejected[0].reason
    assert {e.bidder_id for e in events if isinstance(e, BidOpened)} == {cheap.id, dear.id}

    async with stack.client(buyer.members[0].token) as committee:
        seen = (await committee.get(f"/tenders/{ocid}/bids")).json()["opened"]
        reasons = {row["bidder_id"]: row["reason_code"] for row in seen}
        assert reasons == {cheap.id: None, dear.id: None, foreign.id: "wrong_currency"}

        async def evaluating() -> dict[str, Any] | None:
            answer = await committee.get(f"/tenders/{ocid}/evaluation")
            return answer.json() if answer.status_code == 200 else None

        await eventually(evaluating)
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
        awarded = await officer.post(f"/tenders/{ocid}/evaluation/awards", json={"lot_id": "lot-1"})
        assert awarded.status_code == 201, awarded.text

    async with stack.client() as public:

        async def published() -> str | None:
            answer = await public.get(f"/ocds/records/{ocid}")
            text = json.dumps(answer.json()) if answer.status_code == 200 else ""
            return text if bids[foreign.id] in text else None

        record = await eventually(published)
    assert "in EUR" in record, "the public sees why the bid was rejected"
