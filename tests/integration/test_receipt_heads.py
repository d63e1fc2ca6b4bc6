"""Each bid's answer carries the platform's signed head of the bid log just after its
entry, timed at its receipt: the receipt's time is bound to the log (issue 12, item 5)."""

import base64
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from bidding import sealing, tree_heads
from schemas.tree_heads import SignedTreeHead
from tests.integration.market import (
    bid_content,
    buyer_with_committee,
    register_supplier,
    seal,
    sealed_tender,
    submit,
)
from tests.integration.stack import Stack
from tests.integration.test_cli import procurement


async def served_key(stack: Stack) -> str:
    async with stack.client() as client:
        key: str = (await client.get("/platform/keys")).json()["receipt_keys"][0]["public_key"]
    return key


async def served_root(stack: Stack, ocid: str, size: int) -> str:
    async with stack.client() as client:
        head = (await client.get(f"/tenders/{ocid}/bid-log", params={"tree_size": size})).json()
    assert head["tree_size"] == size
    root: str = head["root"]
    return root


def checked_head(answer: dict[str, Any], key: bytes) -> SignedTreeHead:
    head = SignedTreeHead.model_validate(answer["signed_head"])
    tree_heads.check_head(head, key)
    receipt = answer["receipt"]
    assert head.ocid == receipt["ocid"]
    assert head.tree_size == receipt["log_index"] + 1
    assert datetime.fromisoformat(head.timestamp) >= datetime.fromisoformat(receipt["received_at"])
    return head


async def test_every_answer_carries_the_signed_head_just_after_its_entry(
    stack: Stack, tmp_path: Path
) -> None:
    buyer = await buyer_with_committee(stack, size=3)
    ocid, material, _ = await sealed_tender(stack, buyer, threshold=2)
    bidders = [await register_supplier(stack, f"Furnizor {n} SRL") for n in range(5)]
    key_text = await served_key(stack)
    key = base64.b64decode(key_text)

    answers = []
    for bidder in bidders:  # more than one group's worth of sizes: 1, 2, 3 (odd), 4, 5
        sent = seal(bid_content(ocid, bidder.id, "900.00"), material, bidder)
        answer = await submit(stack, bidder, sent)
        assert answer.status_code == 201, answer.text
        answers.append((bidder, sent, answer.json()))

    for n, (_, _, answer) in enumerate(answers):
        head = checked_head(answer, key)
        assert head.tree_size == n + 1
        assert head.root == await served_root(stack, ocid, n + 1)

    bidder, sent, first = answers[1]
    again = await submit(stack, bidder, sent)  # the same bid again: the same receipt and head
    assert again.status_code == 200
    assert again.json()["signed_head"] == first["signed_head"]

    withdrawal = sealing.withdraw_bid(ocid, bidder.id, 2, bidder.keys.signing_key)
    async with stack.client(bidder.token) as client:
        withdrawn = await client.post(
            f"/tenders/{ocid}/bids/withdrawal", content=withdrawal.model_dump_json()
        )
    assert withdrawn.status_code == 201, withdrawn.text
    head = checked_head(withdrawn.json(), key)
    assert head.tree_size == 6
    assert head.root == await served_root(stack, ocid, 6)

    saved = tmp_path / "answer.json"
    kept = {k: v for k, v in answers[2][2].items() if k != "replayed"}  # as `bid submit` keeps it
    saved.write_text(json.dumps(kept))
    checked = await procurement(stack, "verify", "receipt", str(saved), "--platform-key", key_text)
    assert checked.exit_code == 0, checked.output
    assert "the head is of the log just after entry 2" in checked.output

    moved = json.loads(saved.read_text())
    moved["signed_head"] = answers[1][2]["signed_head"]  # another entry's head
    saved.write_text(json.dumps(moved))
    refused = await procurement(stack, "verify", "receipt", str(saved), "--platform-key", key_text)
    assert refused.exit_code == 1
