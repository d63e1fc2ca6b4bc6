"""Procedures that end as real ones do, on the real stack: the winner refuses and the next
bid is awarded and contracted; a cancellation stops everything after it; a tender or a lot
with no bid that can win ends unsuccessful by itself. OCDS says so each time."""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx

from schemas.contracts import Party as ContractParty
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
from tests.integration.test_contracts import b64sig
from tests.integration.test_ocds_publication import record_of, stored_equals_mapping
from tests.ocds_validation import assert_valid

LOT = "lot-1"
PERIOD = {"start_date": "2027-01-01", "end_date": "2027-12-31"}


@dataclass
class Procedure:
    ocid: str
    buyer: Buyer
    bidders: list[Party]
    bids: dict[str, str]  # bidder id -> bid id

    @property
    def officer(self) -> Party:
        """An officer of the buyer with a registered signing key."""
        return self.buyer.members[0]


async def opened(stack: Stack, prices: list[str], standstill_days: int = 0) -> Procedure:
    """A tender with one bid at each price, its bids opened."""
    buyer = await buyer_with_committee(stack, size=2)
    ocid, tender_key, deadline = await sealed_tender(
        stack, buyer, deadline_in=timedelta(seconds=8), standstill_days=standstill_days
    )
    bidders, bids = [], {}
    for price in prices:
        bidder = await register_supplier(stack, f"Ofertantul {price} SRL")
        sealed = seal(bid_content(ocid, bidder.id, price), tender_key, bidder)
        bids[bidder.id] = (await submit(stack, bidder, sealed)).json()["receipt"]["bid_id"]
        bidders.append(bidder)
    await until_sealed(stack, ocid, deadline)
    for member in buyer.members:
        assert (await hand_in(stack, member, ocid)).status_code == 200
    return Procedure(ocid, buyer, bidders, bids)


async def steps(stack: Stack, token: str, ocid: str, *taken: tuple[str, dict[str, Any]]) -> None:
    async with stack.client(token) as client:
        for step, body in taken:
            done = await client.post(f"/tenders/{ocid}/evaluation/{step}", json=body)
            assert done.status_code == 201, (step, done.text)


async def awarded(stack: Stack, prices: list[str]) -> Procedure:
    """Every bid qualified, the lot ranked and awarded, with no standstill."""
    procedure = await opened(stack, prices)
    qualified = [("qualifications", {"bid_id": bid}) for bid in procedure.bids.values()]
    lot = {"lot_id": LOT}
    await steps(
        stack,
        procedure.officer.token,
        procedure.ocid,
        *qualified,
        ("lot-completions", lot),
        ("awards", lot),
    )
    return procedure


async def draw(stack: Stack, procedure: Procedure) -> httpx.Response:
    async with stack.client(procedure.officer.token) as client:
        return await client.post(
            f"/tenders/{procedure.ocid}/contracts", json={"lot_id": LOT, "period": PERIOD}
        )


async def digest_of(stack: Stack, contract_id: str) -> str:
    async with stack.client() as public:
        digest: str = (await public.get(f"/contracts/{contract_id}")).json()["document_sha256"]
    return digest


async def compiled(stack: Stack, ocid: str, until: Any) -> dict[str, Any]:
    """The procedure's compiled release once ``until(compiled)`` holds, checked valid."""
    async with stack.client() as public:

        async def ready() -> dict[str, Any] | None:
            record = await record_of(public, ocid)
            found = record["compiledRelease"] if record else None
            return found if found and until(found) else None

        release: dict[str, Any] = await eventually(ready)
        package = await public.get(f"/ocds/records/{ocid}")
        assert_valid(package.json())
    return release


def awards_of(release: dict[str, Any]) -> dict[str, str]:
    return {award["id"]: award["status"] for award in release.get("awards", [])}


async def test_a_winner_that_refuses_to_sign_is_replaced_by_the_next_ranked_bid(
    stack: Stack,
) -> None:
    """Item 4: the buyer annuls the award of a winner that refuses to sign; the contract drawn
    for it is cancelled with it; the next-ranked bid is awarded under a new award id and its
    contract is drawn. When the last bid's award is annulled too, the lot is unsuccessful."""
    procedure = await awarded(stack, ["880.00", "960.00"])
    cheap, dear = procedure.bidders
    first = await draw(stack, procedure)
    assert first.status_code == 201, first.text
    first_contract = first.json()["id"]
    refused = {"lot_id": LOT, "reason_code": "refused_to_sign", "reason": "Its letter of 3 June."}

    async with stack.client(cheap.token) as winner:  # the winner cannot annul its own award
        own = await winner.post(
            f"/tenders/{procedure.ocid}/evaluation/award-annulments", json=refused
        )
        assert own.status_code == 403, own.text
    async with stack.client(procedure.officer.token) as officer:
        annulled = await officer.post(
            f"/tenders/{procedure.ocid}/evaluation/award-annulments", json=refused
        )
        assert annulled.status_code == 201, annulled.text
        gone = (await officer.get(f"/contracts/{first_contract}")).json()
        assert gone["status"] == "cancelled"
        view = (await officer.get(f"/tenders/{procedure.ocid}/evaluation")).json()
        assert [row["bidder_id"] for row in view["lots"][0]["ranking"]] == [dear.id]
        again = await officer.post(
            f"/tenders/{procedure.ocid}/evaluation/awards", json={"lot_id": LOT}
        )
        assert again.status_code == 201, again.text
    second = await draw(stack, procedure)
    assert second.status_code == 201, second.text
    second_contract = second.json()["id"]
    assert second_contract != first_contract

    first_award = f"{LOT}:{procedure.bids[cheap.id]}"
    second_award = f"{LOT}:{procedure.bids[dear.id]}:2"
    release = await compiled(stack, procedure.ocid, lambda r: len(r.get("contracts", [])) == 2)
    assert awards_of(release) == {first_award: "cancelled", second_award: "active"}
    linked = {c["id"]: (c["awardID"], c["status"]) for c in release["contracts"]}
    assert linked == {
        first_contract: (first_award, "cancelled"),
        second_contract: (second_award, "pending"),
    }

    # The second winner is excluded too: no bid is left, and the lot ends by itself.
    excluded = refused | {"reason_code": "exclusion_ground", "reason": "Insolvent (art. 57)."}
    await steps(stack, procedure.officer.token, procedure.ocid, ("award-annulments", excluded))
    release = await compiled(
        stack, procedure.ocid, lambda r: r["tender"]["status"] == "unsuccessful"
    )
    assert [lot["status"] for lot in release["tender"]["lots"]] == ["unsuccessful"]
    assert awards_of(release)[second_award] == "cancelled"
    assert awards_of(release)[f"{LOT}:unsuccessful"] == "unsuccessful"
    assert {c["status"] for c in release["contracts"]} == {"cancelled"}
    assert await stored_equals_mapping(stack, procedure.ocid)


async def test_a_cancelled_procedure_stops_everything_after_it(stack: Stack) -> None:
    """Item 5: the tender cancelled after the opening cancels its evaluation and the pending
    contract: no step is taken after it. A procedure whose contract is concluded can no
    longer be cancelled, nor its lot."""
    procedure = await awarded(stack, ["900.00", "950.00"])
    drawn = await draw(stack, procedure)
    assert drawn.status_code == 201, drawn.text
    contract_id = drawn.json()["id"]
    digest = await digest_of(stack, contract_id)
    async with stack.client(procedure.officer.token) as officer:
        cancelled = await officer.post(
            f"/tenders/{procedure.ocid}/cancellation", json={"reason": "Budget withdrawn"}
        )
        assert cancelled.status_code == 200, cancelled.text
        for step, body in (
            ("qualifications", {"bid_id": procedure.bids[procedure.bidders[1].id]}),
            ("awards", {"lot_id": LOT}),
            ("award-annulments", {"lot_id": LOT, "reason_code": "refused_to_sign", "reason": "x"}),
        ):
            refused = await officer.post(f"/tenders/{procedure.ocid}/evaluation/{step}", json=body)
            assert (refused.status_code, refused.json()["code"]) == (409, "procedure_cancelled")
        again = await officer.post(
            f"/tenders/{procedure.ocid}/contracts", json={"lot_id": LOT, "period": PERIOD}
        )
        assert (again.status_code, again.json()["code"]) == (409, "procedure_cancelled")
        signed = await officer.post(
            f"/contracts/{contract_id}/signatures",
            json={"signature": b64sig(procedure.officer, contract_id, digest, ContractParty.BUYER)},
        )
        assert signed.status_code == 409, signed.text
    release = await compiled(stack, procedure.ocid, lambda r: r["tender"]["status"] == "cancelled")
    assert set(awards_of(release).values()) == {"cancelled"}
    assert [c["status"] for c in release["contracts"]] == ["cancelled"]

    # A contract signed by both parties is concluded: the procedure stays as it is.
    concluded = await awarded(stack, ["870.00"])
    drawn = await draw(stack, concluded)
    assert drawn.status_code == 201, drawn.text
    contract_id = drawn.json()["id"]
    digest = await digest_of(stack, contract_id)
    for party, side in ((concluded.officer, "buyer"), (concluded.bidders[0], "supplier")):
        async with stack.client(party.token) as client:
            signature = b64sig(party, contract_id, digest, ContractParty(side))
            answer = await client.post(
                f"/contracts/{contract_id}/signatures", json={"signature": signature}
            )
            assert answer.status_code == 201, answer.text
    async with stack.client(concluded.officer.token) as officer:
        for path, body in (
            (f"/tenders/{concluded.ocid}/cancellation", {"reason": "Too late"}),
            (f"/tenders/{concluded.ocid}/evaluation/cancellation", {"reason": "Too late"}),
            (
                f"/tenders/{concluded.ocid}/evaluation/lot-cancellations",
                {"lot_id": LOT, "reason": "Too late"},
            ),
        ):
            refused = await officer.post(path, json=body)
            assert (refused.status_code, refused.json()["code"]) == (409, "contract_concluded")
        shown = (await officer.get(f"/contracts/{contract_id}")).json()
        assert shown["status"] == "active"


async def test_a_tender_that_closes_with_no_bid_is_unsuccessful(stack: Stack) -> None:
    """Item 11: no bid at the deadline; the tender ends unsuccessful by itself, with its
    reason, in the tender list and in OCDS."""
    buyer = await buyer_with_committee(stack, size=2)
    ocid, _, deadline = await sealed_tender(stack, buyer, deadline_in=timedelta(seconds=5))
    await until_sealed(stack, ocid, deadline)
    release = await compiled(stack, ocid, lambda r: r["tender"]["status"] == "unsuccessful")
    assert [lot["status"] for lot in release["tender"]["lots"]] == ["unsuccessful"]
    assert "no bid" in release["awards"][0]["description"]
    async with stack.client() as public:

        async def listed() -> bool:
            shown = (await public.get(f"/tenders/{ocid}")).json()
            return bool(shown["status"] == "unsuccessful")

        assert await eventually(listed)


async def test_a_lot_whose_every_bid_is_rejected_is_unsuccessful(stack: Stack) -> None:
    """Item 11: the committee rejects the only bid; the lot ends by itself, and the tender
    with it, with no officer's step."""
    procedure = await opened(stack, ["900.00"])
    bid_id = next(iter(procedure.bids.values()))
    await steps(
        stack,
        procedure.officer.token,
        procedure.ocid,
        ("disqualifications", {"bid_id": bid_id, "reason": "No bank guarantee"}),
    )
    release = await compiled(
        stack, procedure.ocid, lambda r: r["tender"]["status"] == "unsuccessful"
    )
    assert [lot["status"] for lot in release["tender"]["lots"]] == ["unsuccessful"]
    assert "rejected" in release["awards"][0]["description"]
