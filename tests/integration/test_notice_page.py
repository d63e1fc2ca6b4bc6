"""The tender page is kept rendered between changes, and never shown stale: each change to
what it shows, committed, is on the next view."""

from datetime import timedelta

from tests.integration.market import (
    bid_content,
    buyer_with_committee,
    register_supplier,
    seal,
    sealed_tender,
    submit,
)
from tests.integration.stack import Stack, eventually


async def test_the_tender_page_shows_each_change_on_the_next_view(stack: Stack) -> None:
    """Viewed twice, the page is the same; a bid changes nothing on it before the deadline
    (not even a count); once the read models have a new title, the very next view shows it."""
    buyer = await buyer_with_committee(stack, size=2)
    ocid, tender_key, _ = await sealed_tender(stack, buyer, timedelta(minutes=10))
    async with stack.client() as public:

        async def published() -> bool:
            return (await public.get(f"/tenders/{ocid}")).status_code == 200

        await eventually(published)
        first = (await public.get(f"/notices/{ocid}")).text
        assert (await public.get(f"/notices/{ocid}")).text == first
        assert "Bids received" not in first

        bidder = await register_supplier(stack, "Ieftin SRL")
        sent = await submit(stack, bidder, seal(bid_content(ocid, bidder.id), tender_key, bidder))
        assert sent.status_code == 201, sent.text

        async def projected_bid() -> bool:  # the private read model has the entry
            query = "SELECT entries FROM public_bid_logs WHERE ocid = $1"
            return bool(await stack.pool.fetchval(query, ocid) == 1)

        await eventually(projected_bid)
        assert (await public.get(f"/notices/{ocid}")).text == first

        async with stack.client(buyer.officer.token) as officer:
            amended = await officer.patch(
                f"/tenders/{ocid}", json={"reason": "Typo", "title": "Hârtie A4, 2027"}
            )
            assert amended.status_code == 200, amended.text

        async def projected() -> bool:
            tender = (await public.get(f"/tenders/{ocid}")).json()
            return bool(tender["title"] == "Hârtie A4, 2027")

        await eventually(projected)
        page = (await public.get(f"/notices/{ocid}")).text  # no waiting: never the kept one
        assert "<title>Hârtie A4, 2027" in page
        assert "Bids received" not in page


async def test_an_unknown_tender_is_not_found_each_time(stack: Stack) -> None:
    async with stack.client() as public:
        for _ in range(2):
            assert (await public.get("/notices/ocds-test00-2099-999999")).status_code == 404
