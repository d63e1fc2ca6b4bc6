"""The catalogue's part of the roles' world: the supplier's offer, a purchase of it awaiting
the supplier, and a quotation of the buyer asking the supplier and the competitor."""

import base64
from datetime import UTC, date, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from bidding import keys
from tests.integration.stack import Stack

CPV = "30197630-1"


def offer_terms(price: str) -> dict[str, Any]:
    return {
        "description": "Hârtie copiator A4, 80 g/m², 500 coli",
        "cpv": CPV,
        "unit": "top",
        "unit_price": {"amount": price, "currency": "RON"},
        "vat_rate": "19",
        "delivery_area": "RO-CJ",
        "delivery_days": 3,
        "valid_until": (date.today() + timedelta(days=60)).isoformat(),
    }


async def _post(stack: Stack, token: str, path: str, body: dict[str, Any]) -> str:
    async with stack.client(token) as client:
        answer = await client.post(path, json=body)
    assert answer.status_code == 201, answer.text
    made: str = answer.json()["id"]
    return made


async def catalogue_world(stack: Stack, supplier: str, competitor: str, officer: str) -> dict[str, str]:  # fmt: skip
    """Offers of both suppliers; the officer's purchase of the supplier's offer; and its
    quotation for 5,000 reams (in the band between the thresholds), open for two days."""
    offer = await _post(stack, supplier, "/catalogue/offers", {"terms": offer_terms("100.00")})
    await _post(stack, competitor, "/catalogue/offers", {"terms": offer_terms("101.00")})
    purchase = await _post(stack, officer, "/catalogue/purchases", {"offer_id": offer, "quantity": "1"})  # fmt: skip
    key = keys.raw_public(X25519PrivateKey.generate())
    asked = {
        "title": "Hârtie pentru școli", "cpv": CPV, "quantity": "5000", "unit": "top",
        "currency": "RON", "deadline": (datetime.now(UTC) + timedelta(days=3)).isoformat(),
        "opening_key": base64.b64encode(key).decode(),
    }  # fmt: skip
    quotation = await _post(stack, officer, "/catalogue/quotations", asked)
    return {"offer": offer, "purchase": purchase, "quotation": quotation}
