"""Item 8 on the real stack: any registered supplier may ask the review body to review a
tender's conditions before its submission deadline; an upheld complaint holds the tender
open, so its bids cannot be opened, until the buyer amends it significantly or cancels it."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.integration.market import (
    amend_quantity,
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
from tests.integration.test_remedies import reviewer_of_another_body

GROUNDS = {"grounds": "The 80 g/m2 paper is one brand's only: the requirement excludes us."}


async def test_any_registered_supplier_may_complain_about_the_conditions_before_the_deadline(
    stack: Stack,
) -> None:
    """A supplier that never bid complains about the conditions before the deadline; the
    review body of another authority upholds it; past the deadline the tender stays open and
    its bids cannot be opened until the buyer amends its requirements significantly, after
    which the procedure goes on to its opening; later complaints are out of time."""
    buyer = await buyer_with_committee(stack, size=2)
    ocid, material, deadline = await sealed_tender(stack, buyer, deadline_in=timedelta(seconds=8))
    outsider = await register_supplier(stack, "Hârtie Pentru Toți SRL")
    async with stack.client(outsider.token) as supplier:
        filed = await supplier.post(f"/tenders/{ocid}/complaints", json=GROUNDS)
        assert filed.status_code == 201, filed.text
        again = await supplier.post(f"/tenders/{ocid}/complaints", json=GROUNDS)
        assert again.status_code == 409, again.text
        assert again.json()["code"] == "complaint_pending"
    complaint_id = "conditions-complaint-1"
    ruling = {"reason": "The grammage excludes equivalent paper (Article 42(4))."}
    async with stack.client(buyer.officer.token) as officer:
        own = await officer.post(
            f"/tenders/{ocid}/complaints/{complaint_id}/upholding", json=ruling
        )
        assert own.status_code == 403, own.text
    body_id, reviewer_token = await reviewer_of_another_body(stack)
    async with stack.client(reviewer_token) as review:
        upheld = await review.post(
            f"/tenders/{ocid}/complaints/{complaint_id}/upholding", json=ruling
        )
        assert upheld.status_code == 201, upheld.text

    # Past the deadline, the deadline service does not close it: nothing can be opened.
    await asyncio.sleep(max(0.0, (deadline - datetime.now(UTC)).total_seconds()) + 3)
    status = await stack.pool.fetchval("SELECT status FROM bid_logs WHERE ocid = $1", ocid)
    assert status == "open"
    refused = await hand_in(stack, buyer.members[0], ocid)
    assert refused.status_code == 409, refused.text
    async with stack.client(buyer.officer.token) as officer:
        cosmetic = await officer.patch(
            f"/tenders/{ocid}", json={"reason": "Typo", "title": "Office paper for 2027 (A4)"}
        )
        assert cosmetic.status_code == 422, cosmetic.text
        assert cosmetic.json()["code"] == "remedy_must_amend_requirements"

    await amend_quantity(stack, buyer.officer, ocid, "120")
    async with stack.client() as public:

        async def extended() -> datetime | None:
            published = (await public.get(f"/tenders/{ocid}")).json()
            found = datetime.fromisoformat(published["submission_deadline"])
            return found if found > deadline else None

        new_deadline = await eventually(extended)
        [complaint] = (await public.get(f"/tenders/{ocid}/complaints")).json()["complaints"]

        async def in_ocds() -> dict[str, Any] | None:
            answer = await public.get(f"/ocds/records/{ocid}")
            if answer.status_code != 200:
                return None
            tender: dict[str, Any] = answer.json()["records"][0]["compiledRelease"]["tender"]
            return tender if tender.get("complaints") else None

        published = await eventually(in_ocds)
    assert new_deadline > datetime.now(UTC)
    assert (complaint["subject"], complaint["status"]) == ("conditions", "upheld")
    assert complaint["complainant_id"] == outsider.id
    assert complaint["lot_id"] is None
    assert complaint["decision"]["review_body_id"] == body_id
    assert complaint["conditions_remedy"] == "amended"
    [on_the_tender] = published["complaints"]
    assert (on_the_tender["status"], on_the_tender["resolutionType"]) == (
        "upheld",
        "amendConditions",
    )
    assert on_the_tender["reviewBody"]["id"] == body_id

    # The procedure goes on: a bid under the amended conditions, the close, the opening.
    bidder = await register_supplier(stack, "Furnizor Hârtie SRL")
    sent = await submit(stack, bidder, seal(bid_content(ocid, bidder.id), material, bidder))
    assert sent.status_code == 201, sent.text
    await until_sealed(stack, ocid, new_deadline)
    async with stack.client(outsider.token) as supplier:
        late = await supplier.post(f"/tenders/{ocid}/complaints", json=GROUNDS)
        assert late.status_code == 409, late.text
        assert late.json()["code"] == "submission_deadline_passed"
    for member in buyer.members:
        opened = await hand_in(stack, member, ocid)
        assert opened.status_code == 200, opened.text
    async with stack.client(buyer.members[0].token) as committee:

        async def started() -> bool:
            return (await committee.get(f"/tenders/{ocid}/evaluation")).status_code == 200

        assert await eventually(started)


async def test_upheld_after_the_deadline_the_bids_stay_sealed_until_the_buyer_cancels(
    stack: Stack,
) -> None:
    """A complaint pending at the deadline does not hold it: the tender closes. Upheld after,
    the bids were made under unlawful conditions and the closed tender cannot be amended:
    they are not opened, and the buyer's move is to cancel."""
    buyer = await buyer_with_committee(stack, size=2)
    ocid, material, deadline = await sealed_tender(stack, buyer, deadline_in=timedelta(seconds=6))
    bidder = await register_supplier(stack, "Ofertant Hârtie SRL")
    sent = await submit(stack, bidder, seal(bid_content(ocid, bidder.id), material, bidder))
    assert sent.status_code == 201, sent.text
    outsider = await register_supplier(stack, "Reclamant SRL")
    async with stack.client(outsider.token) as supplier:
        filed = await supplier.post(f"/tenders/{ocid}/complaints", json=GROUNDS)
        assert filed.status_code == 201, filed.text
    await until_sealed(stack, ocid, deadline)
    _, reviewer_token = await reviewer_of_another_body(stack)
    async with stack.client(reviewer_token) as review:
        upheld = await review.post(
            f"/tenders/{ocid}/complaints/conditions-complaint-1/upholding",
            json={"reason": "The grammage excludes equivalent paper."},
        )
        assert upheld.status_code == 201, upheld.text
    refused = await hand_in(stack, buyer.members[0], ocid)
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "remedy_pending"
    async with stack.client(buyer.officer.token) as officer:
        cancelled = await officer.post(
            f"/tenders/{ocid}/cancellation", json={"reason": "The conditions were unlawful."}
        )
        assert cancelled.status_code == 200, cancelled.text
    async with stack.client() as public:
        [complaint] = (await public.get(f"/tenders/{ocid}/complaints")).json()["complaints"]
    assert (complaint["status"], complaint["conditions_remedy"]) == ("upheld", "cancelled")
