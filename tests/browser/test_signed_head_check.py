"""The portal's receipt page checks signed bid-log heads in the browser (WebCrypto Ed25519),
against heads made by the Python reference (bidding/tree_heads.py)."""

import base64
import json
from datetime import timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from playwright.async_api import Page

from bidding import tree_heads
from schemas.bids import SignedReceipt
from tests.browser.test_receipt_check import check, vector
from tests.integration.stack import Stack

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))  # the vector's platform key


def _given(made: dict[str, Any]) -> dict[str, str]:
    return {
        "root": made["root"],
        "tree_size": "5",
        "platform_key": base64.b64encode(made["platform_key"]).decode(),
        "proof": made["proof"],
    }


def _with_head(made: dict[str, Any], key: Ed25519PrivateKey = KEY, size: int = 3) -> str:
    """The vector's receipt (entry 2) as a bid answer carrying the head just after it."""
    signed = SignedReceipt.model_validate_json(made["receipt"])
    moment = signed.receipt.received_at + timedelta(milliseconds=2)
    head = tree_heads.sign_head(signed.receipt.ocid, size, b"\x05" * 32, moment, key)
    return json.dumps(
        signed.model_dump(mode="json") | {"signed_head": head.model_dump(mode="json")}
    )


def _sealed(made: dict[str, Any], root: str | None = None) -> str:
    signed = SignedReceipt.model_validate_json(made["receipt"])
    moment = signed.receipt.received_at + timedelta(hours=1)
    head = tree_heads.sign_head(
        signed.receipt.ocid, 5, bytes.fromhex(root or made["root"]), moment, KEY
    )
    return head.model_dump_json()


async def test_the_receipts_signed_head_and_the_sealed_head_are_checked(
    stack: Stack, page: Page
) -> None:
    """A receipt carrying the platform's head just after its entry, and the signed sealed head
    of the root checked against, are VERIFIED, and the page says whose time each rests on."""
    made = vector()
    await page.goto(f"{stack.api_url}/portal/verify")
    verdict = await check(page, _with_head(made), sealed_head=_sealed(made), **_given(made))
    assert verdict == "VERIFIED"
    steps = await page.locator("#steps").inner_text()
    assert "Signed head just after entry 2: valid" in steps
    assert "the platform's word alone" in steps
    assert "signed at the seal" in steps


async def test_a_forged_or_misplaced_head_is_not_verified(stack: Stack, page: Page) -> None:
    """A head signed by another key, a head of another size, and a sealed head of another
    root are each NOT VERIFIED, naming what failed."""
    made = vector()
    cases = [
        (_with_head(made, key=Ed25519PrivateKey.generate()), "", "names key"),
        (_with_head(made, size=4), "", "entry 2 needs 3"),
        (made["receipt"], _sealed(made, root="ab" * 32), "not the root checked against"),
    ]
    for receipt, sealed, reason in cases:
        await page.goto(f"{stack.api_url}/portal/verify")
        verdict = await check(page, receipt, sealed_head=sealed, **_given(made))
        assert verdict.startswith("NOT VERIFIED"), verdict
        assert reason in verdict


async def test_a_changed_head_fails_its_signature_in_the_browser(stack: Stack, page: Page) -> None:
    """A head whose time was moved after signing fails WebCrypto's Ed25519 check."""
    made = vector()
    answer = json.loads(_with_head(made))
    answer["signed_head"]["timestamp"] = "2030-01-01T00:00:00.000000Z"
    await page.goto(f"{stack.api_url}/portal/verify")
    verdict = await check(page, answer, **_given(made))
    assert verdict.startswith("NOT VERIFIED"), verdict
    assert "signature" in verdict
