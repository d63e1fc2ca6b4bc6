"""A citizen follows a tender's sealed bids in a real browser: nothing of them before the
deadline, the Merkle root once the log is sealed, and a bid receipt checked on /portal/verify by the
browser's own WebCrypto, against the Python reference in bidding/."""

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from playwright.async_api import Page

from bidding import keys, merkle, receipts
from schemas.bids import Receipt
from tests.browser.conftest import MOST_BYTES, screenshot, weight
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


@dataclass
class Bidding:
    ocid: str
    deadline: datetime
    receipts: list[dict[str, Any]]  # as the suppliers keep them


@pytest.fixture(scope="module")
async def bidding(stack: Stack) -> Bidding:
    """A tender still open, with two sealed bids received."""
    buyer = await buyer_with_committee(stack, size=2)
    ocid, tender_key, deadline = await sealed_tender(
        stack, buyer, deadline_in=timedelta(seconds=20)
    )
    kept = []
    for name, amount in (("Alfa Birotică SRL", "910.00"), ("Bravo <Hârtie> & Co", "950.00")):
        bidder = await register_supplier(stack, name)
        answer = await submit(
            stack, bidder, seal(bid_content(ocid, bidder.id, amount), tender_key, bidder)
        )
        assert answer.status_code == 201, answer.text
        kept.append({k: v for k, v in answer.json().items() if k != "replayed"})

    async def counted() -> bool:  # the public read models follow the stream
        query = "SELECT count(*) FROM public_bidders b JOIN tenders t USING (ocid) WHERE ocid = $1"
        return bool(await stack.pool.fetchval(query, ocid) == 2)

    await eventually(counted)
    return Bidding(ocid, deadline, kept)


@pytest.fixture(scope="module")
async def sealed(stack: Stack, bidding: Bidding) -> str:
    """The same tender once its deadline passed: the root of its sealed bid log."""
    await until_sealed(stack, bidding.ocid, bidding.deadline)
    async with stack.client() as public:
        head = (await public.get(f"/tenders/{bidding.ocid}/bid-log")).json()
    assert head["sealed"]
    return str(head["sealed_root"])


async def test_the_tender_page_tells_nothing_of_the_bids_before_the_deadline(
    stack: Stack, bidding: Bidding, page: Page
) -> None:
    """Before the deadline the page does not say how many bids came in (Directive
    2014/24/EU Art. 22(3)), shows no root yet, and reads nothing of the bids."""
    assert datetime.now(UTC) < bidding.deadline, "the deadline passed before the page was read"
    await page.goto(f"{stack.api_url}/notices/{bidding.ocid}")
    await screenshot(page, "tender-before-opening")
    assert await page.locator("table", has_text="Bids received").count() == 0
    assert await page.locator("#root").count() == 0
    content = await page.content()
    assert "910.00" not in content
    assert "950.00" not in content
    assert "Office paper for 2027" in await page.locator("h1").inner_text()


async def test_the_sealed_root_is_published_on_the_tender_page(
    stack: Stack, bidding: Bidding, sealed: str, page: Page
) -> None:
    """After the deadline the page shows the Merkle root the log was sealed under, and
    the timeline says when the log was sealed."""
    await page.goto(f"{stack.api_url}/notices/{bidding.ocid}")
    await screenshot(page, "tender-sealed")
    assert await page.locator("#root").inner_text() == sealed
    timeline = await page.locator("ol.timeline").inner_text()
    assert "Bid log sealed with 2 entries" in timeline
    assert "The deadline passed" in timeline
    assert "910.00" not in await page.content()


async def check(page: Page, signed: dict[str, Any] | str, **fields: str) -> str:
    """Paste a receipt (and any other field) on the verify page, check, read the verdict."""
    receipt = signed if isinstance(signed, str) else json.dumps(signed)
    await page.fill("#receipt", receipt)
    for name, value in fields.items():
        await page.fill(f"#{name.replace('_', '-')}", value)
    await page.click("button:has-text('Check')")
    verdict = page.locator("#verdict")
    await verdict.filter(has_text="VERIFIED").wait_for(timeout=10_000)
    return await verdict.inner_text()


async def test_a_real_receipt_is_verified_and_a_tampered_one_is_not(
    stack: Stack, bidding: Bidding, sealed: str, page: Page
) -> None:
    """The browser fetches the platform key, the sealed root and the inclusion proof,
    and says VERIFIED for each real receipt; a receipt changed by one field, or checked
    against another root, is NOT VERIFIED."""
    url = f"{stack.api_url}/portal/verify?ocid={bidding.ocid}"
    for signed in bidding.receipts:
        await page.goto(url)
        assert await page.input_value("#root") == sealed  # the published root, prefilled
        assert await check(page, signed) == "VERIFIED"
    steps = await page.locator("#steps").inner_text()
    assert "Signature by the platform key" in steps
    assert "included" in steps
    assert (await weight(page))["fits"], "the long hashes wrap on a phone"
    await screenshot(page, "receipt-verified")

    tampered = json.loads(json.dumps(bidding.receipts[0]))
    tampered["receipt"]["received_at"] = "2020-01-01T00:00:00Z"  # claims an earlier time
    await page.goto(url)
    verdict = await check(page, tampered)
    assert verdict.startswith("NOT VERIFIED"), verdict
    assert "signature" in verdict
    await screenshot(page, "receipt-tampered")

    await page.goto(url)
    verdict = await check(page, bidding.receipts[1], root="ab" * 32)
    assert verdict.startswith("NOT VERIFIED"), verdict


def vector() -> dict[str, Any]:
    """A bid log of five receipts signed with a fixed key by bidding/, the Python reference:
    the third receipt, its proof, the root and the key, as the page is given them."""
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    signed = [
        receipts.sign_receipt(
            Receipt(
                kind="bid" if index != 3 else "withdrawal",
                bid_id=f"bid-{index:04x}",
                ocid="ocds-000000-2026-000001",
                bidder_id=f"supplier-RO-CUI-{14399840 + index}",
                lots=("lot-1", "lot-2") if index != 3 else (),
                version=index + 1,
                ciphertext_sha256=None if index == 3 else f"{index}f" * 32,
                received_at=datetime(2026, 11, 26, 21, 39, 15, 386089 if index else 0, tzinfo=UTC),
                log_index=index,
            ),
            key,
        )
        for index in range(5)
    ]
    leaves = [receipts.leaf_hash(s.receipt) for s in signed]
    chosen = signed[2]
    return {
        "receipt": chosen.model_dump_json(),
        "leaf": leaves[2].hex(),
        "root": merkle.root(leaves).hex(),
        "proof": json.dumps(
            {
                "leaf_index": 2,
                "tree_size": 5,
                "root": merkle.root(leaves).hex(),
                "audit_path": [h.hex() for h in merkle.inclusion_proof(leaves, 2)],
            }
        ),
        "platform_key": keys.raw_public(key),
    }


async def test_the_browser_check_agrees_with_the_python_reference(stack: Stack, page: Page) -> None:
    """On a test vector made by bidding/, with every field given so nothing is fetched, the
    browser computes the same canonical JSON and leaf hash and verifies the receipt; a proof
    with one hash changed is NOT VERIFIED."""
    made = vector()
    given = {
        "root": made["root"],
        "tree_size": "5",
        "platform_key": base64.b64encode(made["platform_key"]).decode(),
        "proof": made["proof"],
    }
    await page.goto(f"{stack.api_url}/portal/verify")
    assert await check(page, made["receipt"], **given) == "VERIFIED"
    assert f"Leaf hash of the receipt: {made['leaf']}" in await page.locator("#steps").inner_text()

    tricky = {"b": ['q"\\/\n\t\x01é€😀', 0, -7, None, True], "a": {"z": [], "é": {}, "A": ""}}
    assert (
        await page.evaluate("value => canonical(value)", tricky)
        == keys.canonical_json(tricky).decode()
    )
    documented = {  # the leaf of docs/sealed-bids.md
        "kind": "bid", "bid_id": "bid-0b1c", "ocid": "ocds-000000-2026-000001",
        "bidder_id": "supplier-RO-CUI-14399840", "lots": ["lot-1"], "version": 1,
        "ciphertext_sha256": "9f" * 32, "received_at": "2026-11-26T21:39:15.386089Z", "log_index": 0,
    }  # fmt: skip
    leaf = await page.evaluate("async r => hex(await leafHash(utf8(canonical(r))))", documented)
    assert leaf == "704c1c467d797895999e6e1cb4bb59cd5134b1b7e7421737a905d60ef9166178"

    proof = json.loads(made["proof"])
    proof["audit_path"][0] = "00" * 32
    await page.goto(f"{stack.api_url}/portal/verify")
    verdict = await check(page, made["receipt"], **given | {"proof": json.dumps(proof)})
    assert verdict == "NOT VERIFIED: the receipt is not in the tree with that root"


async def test_the_verify_page_is_light_and_fits_a_phone(stack: Stack, page: Page) -> None:
    """The page and its script weigh well under 100 KB and nothing scrolls sideways."""
    await page.goto(f"{stack.api_url}/portal/verify")
    measured = await weight(page)
    assert measured["bytes"] < MOST_BYTES, measured
    assert measured["fits"], measured
    await screenshot(page, "verify-page")
