"""The demo's electronic catalogue: six suppliers publish offers of paper and toner; two
town halls buy directly (the cheapest paper, and a dearer toner with the reason why); and
one asks the paper suppliers for sealed quotes for a year's paper, opened together after a
short deadline and won by the lowest. Against the median catalogue price, both kinds of
procedure show in the savings."""

import asyncio
import base64
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from bidding import keys, quotes
from schemas.catalogue import Quote
from schemas.values import Value
from sdk.market import ApiRefused, Market, Party, until

if TYPE_CHECKING:
    from entrypoints.demo.story import Buyer

PAPER = ("30197630-1", "Hârtie copiator A4, 80 g/m², top de 500 coli", "top")
TONER = ("30125100-2", "Cartuș toner negru compatibil HP 59A", "bucată")
PAPER_PRICES = ("23.40", "24.50", "26.90")
TONER_PRICES = ("310.00", "335.00", "389.00")
QUOTE_FACTORS = (Decimal("0.97"), Decimal("0.95"), Decimal("0.99"))  # each under its offer
DEADLINE = timedelta(seconds=4)
WITHIN = 60.0  # seconds for a purchase or an opening to reach the public


async def buy_from_the_catalogue(
    market: Market,
    buyers: Sequence["Buyer"],
    suppliers: Sequence[Party],
    say: Callable[[str], None],
) -> list[str]:
    """Offers, two direct purchases and one price quotation; what happened, as notes."""
    paper = await _offers(market, suppliers[:3], PAPER, PAPER_PRICES)
    toner = await _offers(market, suppliers[3:6], TONER, TONER_PRICES)
    say(f"catalogue: {len(paper) + len(toner)} offers of paper and toner published")
    first, second = buyers[0].lead, buyers[1 % len(buyers)].lead
    cheapest = await _buy(market, first, suppliers[0], paper[0], "400")
    reason = "Singurul furnizor care livrează în 24 de ore, necesar pentru alegerile locale."
    dearer = await _buy(market, second, suppliers[4], toner[1], "12", reason)
    say(f"direct purchases {cheapest} (the cheapest paper) and {dearer} (a dearer toner: {reason})")
    ocid, note = await _quotation(market, first, suppliers[:3])
    say(f"price quotation {ocid}: {note}")
    return [
        f"direct purchase {cheapest}: the cheapest paper",
        f"direct purchase {dearer}: a dearer toner, with a reason",
        f"price quotation {ocid}: {note}",
    ]


async def _offers(
    market: Market, sellers: Sequence[Party], item: tuple[str, str, str], prices: Sequence[str]
) -> list[str]:
    cpv, description, unit = item
    made = []
    for seller, price in zip(sellers, prices, strict=True):
        terms = {
            "description": description,
            "cpv": cpv,
            "unit": unit,
            "unit_price": {"amount": price, "currency": "RON"},
            "vat_rate": "19",
            "delivery_area": "România",
            "delivery_days": 2,
            "valid_until": (date.today() + timedelta(days=180)).isoformat(),
        }
        answer = await market.call("POST", "/catalogue/offers", seller.token, json={"terms": terms})
        made.append(str(answer["id"]))
    return made


async def _buy(
    market: Market, officer: Party, seller: Party, offer_id: str, quantity: str, reason: str = ""
) -> str:
    body: dict[str, Any] = {"offer_id": offer_id, "quantity": quantity}
    if reason:
        body["reason_not_cheapest"] = reason
    ocid = str((await market.call("POST", "/catalogue/purchases", officer.token, json=body))["id"])
    await market.call("POST", f"/catalogue/purchases/{ocid}/acceptance", seller.token, json={})
    await _until_public(market, f"/catalogue/purchases/{ocid}", "concluded")
    return ocid


async def _until_public(market: Market, path: str, status: str) -> None:
    """Until the public reads the procedure at ``status``: its savings are counted then."""

    async def shown() -> bool:
        try:
            return bool((await market.read(path))["status"] == status)
        except ApiRefused:
            return False

    await until(shown, WITHIN, f"{path} {status}")


async def _quotation(market: Market, officer: Party, sellers: Sequence[Party]) -> tuple[str, str]:
    """Sealed quotes for 12,000 reams (above the direct-purchase threshold at the median
    price); opened after the deadline, unless the platform asks for days to quote."""
    key = X25519PrivateKey.generate()
    cpv, description, unit = PAPER
    body = {
        "title": "Hârtie copiator pentru școlile municipiului, anul 2027",
        "cpv": cpv,
        "quantity": "12000",
        "unit": unit,
        "currency": "RON",
        "deadline": (datetime.now(UTC) + DEADLINE).isoformat(),
        "opening_key": base64.b64encode(keys.raw_public(key)).decode(),
    }
    try:
        answer = await market.call("POST", "/catalogue/quotations", officer.token, json=body)
    except ApiRefused as refused:
        if refused.code != "quotation_period_too_short":
            raise
        return "-", f"not run: this platform gives suppliers longer to quote ({refused.detail})"
    ocid = str(answer["id"])
    for seller, price, factor in zip(sellers, PAPER_PRICES, QUOTE_FACTORS, strict=True):
        amount = (Decimal(price) * factor).quantize(Decimal("0.01"))
        quote = Quote(ocid=ocid, supplier_id=seller.id, unit_price=Value(amount=amount, currency="RON"))  # fmt: skip
        sealed = base64.b64encode(quotes.seal_quote(quote, keys.raw_public(key))).decode()
        path = f"/catalogue/quotations/{ocid}/quotes"
        await market.call("POST", path, seller.token, json={"sealed": sealed})
    await asyncio.sleep(DEADLINE.total_seconds() + 0.5)
    opening = {"opening_key": base64.b64encode(key.private_bytes_raw()).decode()}
    await market.call("POST", f"/catalogue/quotations/{ocid}/opening", officer.token, json=opening)
    await _until_public(market, f"/catalogue/quotations/{ocid}", "opened")
    return ocid, f"3 sealed quotes for {description.lower()}, opened together; the lowest won"
