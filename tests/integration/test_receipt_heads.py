"""Each bid's answer is the platform's signed receipt, binding the platform to the entry's
leaf and its time of receipt and naming no position and no tree size, which would tell how
many bids came before it (Directive 2014/24/EU Art. 22(3)); after the deadline each receipt
is placed in the sealed tree, whose head the platform signed at the seal."""

import json
from datetime import timedelta
from pathlib import Path

from bidding import sealing
from tests.integration.market import (
    bid_content,
    buyer_with_committee,
    register_supplier,
    seal,
    sealed_tender,
    submit,
    until_sealed,
)
from tests.integration.stack import Stack, eventually
from tests.integration.test_cli import procurement


async def served_key(stack: Stack) -> str:
    async with stack.client() as client:
        key: str = (await client.get("/platform/keys")).json()["receipt_keys"][0]["public_key"]
    return key


async def test_receipts_name_no_position_and_are_placed_in_the_sealed_tree(
    stack: Stack, tmp_path: Path
) -> None:
    """Five bids and a withdrawal: no answer names a position or a head; the same bid again
    gets the same receipt; after the seal the CLI finds each receipt's leaf, fetches its
    proof and checks it against the sealed head, and refuses a receipt offered with an
    older receipt's head."""
    buyer = await buyer_with_committee(stack, size=3)
    ocid, material, deadline = await sealed_tender(stack, buyer, timedelta(seconds=20))
    bidders = [await register_supplier(stack, f"Furnizor {n} SRL") for n in range(5)]
    key_text = await served_key(stack)

    answers = []
    for bidder in bidders:
        sent = seal(bid_content(ocid, bidder.id, "900.00"), material, bidder)
        answer = await submit(stack, bidder, sent)
        assert answer.status_code == 201, answer.text
        answers.append((bidder, sent, answer.json()))
    for _, _, answer in answers:
        assert set(answer) == {"receipt", "key_id", "signature", "replayed"}
        assert "log_index" not in answer["receipt"]

    bidder, sent, first = answers[1]
    again = await submit(stack, bidder, sent)  # the same bid again: the same receipt
    assert again.status_code == 200
    assert {k: v for k, v in again.json().items() if k != "replayed"} == {
        k: v for k, v in first.items() if k != "replayed"
    }

    withdrawal = sealing.withdraw_bid(ocid, bidder.id, 2, bidder.keys.signing_key)
    async with stack.client(bidder.token) as client:
        withdrawn = await client.post(
            f"/tenders/{ocid}/bids/withdrawal", content=withdrawal.model_dump_json()
        )
    assert withdrawn.status_code == 201, withdrawn.text
    assert "log_index" not in withdrawn.json()["receipt"]

    await until_sealed(stack, ocid, deadline)
    async with stack.client() as public:

        async def signed_head() -> dict[str, object] | None:
            answer = await public.get(f"/tenders/{ocid}/bid-log/signed-head")
            return answer.json() if answer.status_code == 200 else None

        head = await eventually(signed_head, within=30)
    assert head["tree_size"] == 6
    head_file = tmp_path / "head.json"
    head_file.write_text(json.dumps(head))
    checked = await procurement(stack, "verify", "head", str(head_file), "--platform-key", key_text)
    assert checked.exit_code == 0, checked.output

    kept = [answer for _, _, answer in answers] + [withdrawn.json()]
    for n, answer in enumerate(kept):
        saved = tmp_path / f"receipt-{n}.json"
        saved.write_text(json.dumps({k: v for k, v in answer.items() if k != "replayed"}))
        signed = await procurement(
            stack, "verify", "receipt", str(saved), "--platform-key", key_text
        )
        assert signed.exit_code == 0, signed.output
        proof = tmp_path / f"proof-{n}.json"
        fetched = await procurement(
            stack, "bid", "proof", ocid, "--receipt", str(saved), "--out", str(proof)
        )
        assert fetched.exit_code == 0, fetched.output
        assert json.loads(proof.read_text())["leaf_index"] == n  # the order they came in
        included = await procurement(
            stack, "verify", "inclusion", str(saved), str(proof),
            "--root", str(head["root"]), "--tree-size", "6",
        )  # fmt: skip
        assert included.exit_code == 0, included.output

    # A head handed along with a receipt that names no position proves nothing of it.
    offered = json.loads((tmp_path / "receipt-0.json").read_text()) | {"signed_head": head}
    saved = tmp_path / "offered.json"
    saved.write_text(json.dumps(offered))
    refused = await procurement(stack, "verify", "receipt", str(saved), "--platform-key", key_text)
    assert refused.exit_code == 1
    assert "names no position" in " ".join(refused.output.split())
