"""The award evidence on the real stack: a procedure run through the API, whose sealed log's
leaves are public only after the seal, and whose evidence, served only for decided lots,
holds receipts that hash to leaves included in the sealed root."""

from datetime import UTC, datetime, timedelta
from typing import Any

from bidding import keys, merkle
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


def leaf_of(receipt: dict[str, Any]) -> bytes:
    """A receipt's Merkle leaf, as docs/award-evidence.md says to compute it."""
    return merkle.leaf_hash(keys.canonical_json(receipt))


async def test_award_evidence_is_public_for_decided_lots_and_rests_on_the_sealed_log(
    stack: Stack,
) -> None:
    """Leaves after the seal only; the evidence of the lot once it is awarded, its receipts
    the bidders' own and in the sealed tree."""
    buyer = await buyer_with_committee(stack, size=2)
    ocid, tender_key, deadline = await sealed_tender(stack, buyer)
    cheap, dear = (
        await register_supplier(stack, "Ieftin SRL"),
        await register_supplier(stack, "Scump SA"),
    )
    receipts = {}
    for bidder, amount in ((cheap, "880.00"), (dear, "960.00")):
        answer = await submit(
            stack, bidder, seal(bid_content(ocid, bidder.id, amount), tender_key, bidder)
        )
        assert answer.status_code == 201, answer.text
        receipts[bidder.id] = answer.json()["receipt"]

    async with stack.client() as public:
        unknown = await public.get("/tenders/ocds-nothing-here/award-evidence")
        assert unknown.status_code == 404
        assert unknown.headers["content-type"].startswith("application/problem+json")
        assert (await public.get("/tenders/ocds-nothing-here/bid-log/leaves")).status_code == 404
        no_ocid = await public.get("/tenders/%00ocds/award-evidence")
        assert no_ocid.status_code == 422, no_ocid.text  # not an identifier: never queried
        early = await public.get(f"/tenders/{ocid}/bid-log/leaves")
        assert early.status_code == 409, early.text
        assert early.json()["code"] == "bid_log_not_sealed"
        assert "deadline" in early.json()["detail"]

    await until_sealed(stack, ocid, deadline)
    for member in buyer.members:
        assert (await hand_in(stack, member, ocid)).status_code == 200
    async with stack.client(buyer.members[0].token) as committee:
        for receipt in receipts.values():
            qualified = await committee.post(
                f"/tenders/{ocid}/evaluation/qualifications", json={"bid_id": receipt["bid_id"]}
            )
            assert qualified.status_code == 201, qualified.text

    async with stack.client() as public:
        sealed = await public.get(f"/tenders/{ocid}/bid-log/leaves")
        assert sealed.status_code == 200, sealed.text
        log = sealed.json()
        leaves = [bytes.fromhex(h) for h in log["leaves"]]
        assert log["tree_size"] == len(leaves) == 2
        assert merkle.root(leaves).hex() == log["root"]
        head = (await public.get(f"/tenders/{ocid}/bid-log")).json()
        assert head["sealed_root"] == log["root"]

        pending = (await public.get(f"/tenders/{ocid}/award-evidence")).json()
        assert pending == {"ocid": ocid, "lots": [{"lot_id": "lot-1", "status": "evaluation"}]}

    async with stack.client(buyer.officer.token) as officer:
        for step in ("lot-completions", "awards"):
            done = await officer.post(
                f"/tenders/{ocid}/evaluation/{step}", json={"lot_id": "lot-1"}
            )
            assert done.status_code == 201, done.text

    async with stack.client() as public:
        evidence = (await public.get(f"/tenders/{ocid}/award-evidence")).json()
    (lot,) = evidence["lots"]
    assert lot["status"] == "awarded"
    assert lot["bid_log"] == {"tree_size": 2, "root": log["root"]}
    assert lot["rules"]["price_weight"] == "100"
    by_bidder = {bid["bidder_id"]: bid for bid in lot["bids"]}
    assert set(by_bidder) == {cheap.id, dear.id}
    for bidder_id, bid in by_bidder.items():
        assert bid["receipt"] == receipts[bidder_id]  # the bidder's own receipt
        leaf = leaf_of(bid["receipt"])
        assert leaf.hex() == bid["leaf_hash"] == log["leaves"][bid["leaf_index"]]
        path = merkle.inclusion_proof(leaves, bid["leaf_index"])
        assert merkle.verify_inclusion(
            leaf, bid["leaf_index"], log["tree_size"], path, bytes.fromhex(log["root"])
        )
        assert bid["qualification"]["verdict"] == "qualified"
        assert bid["received_at"] == bid["receipt"]["received_at"]
    assert [row["bidder_id"] for row in lot["ranking"]] == [cheap.id, dear.id]
    assert lot["ranking"][1]["lowest_price"] == "880.00"
    assert lot["ranking"][1]["price_score"] == "91.6667"  # 100 * 880 / 960
    assert lot["award"]["bidder_id"] == cheap.id
    assert lot["award"]["award_id"] == f"lot-1:{receipts[cheap.id]['bid_id']}"
    assert lot["auction"] is None


RULES = {"minimum_decrement": "1.00", "ends": "inactivity", "inactivity_seconds": 5}


async def test_an_auctioned_lots_evidence_has_its_price_history_under_revealed_labels(
    stack: Stack,
) -> None:
    """The auction's accepted prices are listed under labels, who each label was is
    revealed, and the final prices recomputed from the history are the ranking's."""
    buyer = await buyer_with_committee(stack, size=2)
    ocid, tender_key, deadline = await sealed_tender(stack, buyer, auction=RULES)
    alpha, bravo = (
        await register_supplier(stack, "Alfa Birotica SRL"),
        await register_supplier(stack, "Bravo Hârtie SRL"),
    )
    bid_ids = []
    for bidder, amount in ((alpha, "1000.00"), (bravo, "1100.00")):
        answer = await submit(
            stack, bidder, seal(bid_content(ocid, bidder.id, amount), tender_key, bidder)
        )
        assert answer.status_code == 201, answer.text
        bid_ids.append(answer.json()["receipt"]["bid_id"])
    await until_sealed(stack, ocid, deadline)
    for member in buyer.members:
        assert (await hand_in(stack, member, ocid)).status_code == 200
    async with stack.client(buyer.members[0].token) as committee:
        for bid_id in bid_ids:
            qualified = await committee.post(
                f"/tenders/{ocid}/evaluation/qualifications", json={"bid_id": bid_id}
            )
            assert qualified.status_code == 201, qualified.text
    path = f"/tenders/{ocid}/auctions/lot-1"
    async with stack.client(buyer.officer.token) as officer:
        done = await officer.post(
            f"/tenders/{ocid}/evaluation/lot-completions", json={"lot_id": "lot-1"}
        )
        assert done.status_code == 201, done.text
        starts_at = datetime.now(UTC) + timedelta(seconds=2)
        scheduled = await officer.post(
            f"/tenders/{ocid}/auctions",
            json={"lot_id": "lot-1", "starts_at": starts_at.isoformat()},
        )
        assert scheduled.status_code == 201, scheduled.text

    async def auction_is(status: str) -> bool:
        async with stack.client() as public:
            answer = await public.get(path)
            return answer.status_code == 200 and answer.json()["status"] == status

    await eventually(lambda: auction_is("open"))
    for bidder, amount in ((bravo, "950.00"), (alpha, "940.00"), (bravo, "900.00")):
        async with stack.client(bidder.token) as client:
            sent = await client.post(f"{path}/prices", json={"price": amount})
            assert sent.status_code == 201, sent.text
    async with stack.client() as public:
        during = (await public.get(f"/tenders/{ocid}/award-evidence")).json()
        assert during["lots"] == [{"lot_id": "lot-1", "status": "auction"}]
    await eventually(lambda: auction_is("closed"))

    async with stack.client(buyer.officer.token) as officer:

        async def ranked() -> bool:
            lots = (await officer.get(f"/tenders/{ocid}/evaluation")).json()["lots"]
            return bool(lots[0]["status"] == "ranked")

        await eventually(ranked)
        awarded = await officer.post(f"/tenders/{ocid}/evaluation/awards", json={"lot_id": "lot-1"})
        assert awarded.status_code == 201, awarded.text

    async with stack.client() as public:
        (lot,) = (await public.get(f"/tenders/{ocid}/award-evidence")).json()["lots"]
    held = lot["auction"]
    assert held["status"] == "closed"
    names = {label["label"]: label["bidder_id"] for label in held["labels"]}
    assert sorted(names) == ["Bidder 1", "Bidder 2"]
    assert set(names.values()) == {alpha.id, bravo.id}
    assert [p["label"] for p in held["participants"]] == ["Bidder 1", "Bidder 2"]
    assert [(names[p["label"]], p["price"]) for p in held["history"]] == [
        (bravo.id, "950.00"),
        (alpha.id, "940.00"),
        (bravo.id, "900.00"),
    ]
    assert [p["sequence"] for p in held["history"]] == [1, 2, 3]
    final = {names[p["label"]]: p["initial_price"] for p in held["participants"]}
    final |= {names[p["label"]]: p["price"] for p in held["history"]}
    assert final == {alpha.id: "940.00", bravo.id: "900.00"}
    assert {row["bidder_id"]: row["price"]["amount"] for row in lot["ranking"]} == final
    opened = {bid["bidder_id"]: bid["opened_price"]["amount"] for bid in lot["bids"]}
    assert opened == {alpha.id: "1000.00", bravo.id: "1100.00"}
    assert lot["award"]["bidder_id"] == bravo.id
