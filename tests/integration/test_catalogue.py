"""The electronic catalogue on the real services: suppliers publish offers and the public
searches them; officers buy directly (the cheapest, or another with a reason; over the
threshold refused; a split purchase flagged) and run a price quotation whose sealed quotes
open together after the deadline; the savings count them by procedure type, against the
median catalogue price; and every purchase publishes valid OCDS."""

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from bidding import keys, quotes
from procurement.procedures.registry import CatalogueRules
from schemas.catalogue import Quote
from schemas.values import Value
from tests.integration.conftest import register_officer, running_stack
from tests.integration.market import Party, register_supplier
from tests.integration.stack import Stack, eventually
from tests.ocds_validation import assert_valid

VALID_UNTIL = (date.today() + timedelta(days=60)).isoformat()


@pytest.fixture(scope="module")
async def stack(postgres_server: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:  # fmt: skip
    """The platform with quotations that may close within seconds; thresholds as in Romania."""
    rules = CatalogueRules(minimum_quotation_period=timedelta(0))
    async with running_stack(postgres_server, tmp_path_factory, catalogue=rules) as platform:
        yield platform


def terms(price: str, cpv: str, description: str = "Hârtie copiator A4, 80 g/m², 500 coli") -> dict[str, Any]:  # fmt: skip
    return {
        "description": description,
        "cpv": cpv,
        "unit": "top",
        "unit_price": {"amount": price, "currency": "RON"},
        "vat_rate": "19",
        "delivery_area": "RO-CJ",
        "delivery_days": 3,
        "valid_until": VALID_UNTIL,
    }


async def publish_offer(stack: Stack, supplier: Party, price: str, cpv: str, **more: str) -> str:
    async with stack.client(supplier.token) as client:
        answer = await client.post("/catalogue/offers", json={"terms": terms(price, cpv, **more)})
    assert answer.status_code == 201, answer.text
    offer_id: str = answer.json()["id"]
    await until_listed(stack, offer_id)
    return offer_id


async def until_listed(stack: Stack, offer_id: str, version: int = 1) -> None:
    async def listed() -> bool:
        found = await stack.pool.fetchval(
            "SELECT version FROM catalogue_offers WHERE offer_id = $1", offer_id
        )
        return bool(found is not None and found >= version)

    await eventually(listed)


async def search(stack: Stack, **params: Any) -> list[dict[str, Any]]:
    async with stack.client() as public:
        answer = await public.get("/catalogue/offers", params=params)
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


async def market(stack: Stack, cpv: str, prices: list[str]) -> tuple[list[Party], list[str]]:
    """One supplier per price, each with one offer of ``cpv``."""
    suppliers = [await register_supplier(stack, f"Furnizor {n} SRL") for n in range(len(prices))]
    offers = [await publish_offer(stack, s, p, cpv) for s, p in zip(suppliers, prices, strict=True)]
    return suppliers, offers


async def buy(token: str, stack: Stack, offer_id: str, quantity: str, reason: str | None = None) -> Any:  # fmt: skip
    body: dict[str, Any] = {"offer_id": offer_id, "quantity": quantity}
    if reason:
        body["reason_not_cheapest"] = reason
    async with stack.client(token) as client:
        return await client.post("/catalogue/purchases", json=body)


async def procedure(stack: Stack, kind: str, ocid: str, status: str) -> dict[str, Any]:
    async def found() -> dict[str, Any] | None:
        async with stack.client() as public:
            answer = await public.get(f"/catalogue/{kind}/{ocid}")
        if answer.status_code == 200 and answer.json()["status"] == status:
            return dict(answer.json())
        return None

    return await eventually(found)


async def test_suppliers_publish_update_and_withdraw_offers_that_anyone_searches(stack: Stack) -> None:  # fmt: skip
    """Words, CPV prefix, supplier and price range find the offers; an update is seen, a
    withdrawn offer leaves the active catalogue, and another supplier cannot touch one."""
    paper, pens = (
        await register_supplier(stack, "Papetăria Someș SRL"),
        await register_supplier(stack),
    )
    a4 = await publish_offer(stack, paper, "24.90", "30197630-1")
    blue = await publish_offer(
        stack, paper, "2.10", "30192121-5", description="Pix cu gel albastru"
    )
    black = await publish_offer(stack, pens, "1.95", "30192121-5", description="Pix cu gel negru")

    def ids(found: list[dict[str, Any]]) -> list[str]:
        return [offer["offer_id"] for offer in found]

    assert ids(await search(stack, q="gel pix")) == [black, blue]  # cheapest first
    assert ids(await search(stack, q="gel albastru")) == [blue]
    assert ids(await search(stack, cpv="301976")) == [a4]
    assert ids(await search(stack, supplier=paper.id)) == [blue, a4]
    assert ids(await search(stack, min_price="2", max_price="30", cpv="30")) == [blue, a4]
    async with stack.client(pens.token) as intruder:
        refused = await intruder.post(f"/catalogue/offers/{a4}/withdrawal", json={"reason": "x"})
    assert refused.status_code == 403, refused.text
    async with stack.client(paper.token) as client:
        updated = await client.post(f"/catalogue/offers/{a4}/updates", json={"terms": terms("23.50", "30197630-1")})  # fmt: skip
        assert updated.status_code == 201, updated.text
        await until_listed(stack, a4, version=2)
        assert (await search(stack, cpv="301976"))[0]["unit_price"]["amount"] == "23.50"
        withdrawn = await client.post(f"/catalogue/offers/{a4}/withdrawal", json={"reason": "Stoc epuizat"})  # fmt: skip
        assert withdrawn.status_code == 201, withdrawn.text
    await until_listed(stack, a4, version=3)
    assert await search(stack, cpv="301976") == []
    assert [o["status"] for o in await search(stack, cpv="301976", status="any")] == ["withdrawn"]


async def test_an_officer_buys_the_cheapest_offer_or_says_why_not(stack: Stack) -> None:
    """The cheapest is bought without a reason; a dearer one is refused without a reason
    and recorded with it; the supplier accepts and the purchase is concluded."""
    officer = await register_officer(stack)
    suppliers, (cheap, _, dear) = await market(stack, "30125100-2", ["310.00", "330.00", "390.00"])  # fmt: skip
    first = await buy(officer["token"], stack, cheap, "10")
    assert first.status_code == 201, first.text
    refused = await buy(officer["token"], stack, dear, "10")
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "reason_required"
    second = await buy(officer["token"], stack, dear, "10", reason="Livrare în 24 de ore")
    assert second.status_code == 201, second.text
    async with stack.client(suppliers[0].token) as supplier:
        accepted = await supplier.post(f"/catalogue/purchases/{first.json()['id']}/acceptance", json={})  # fmt: skip
        assert accepted.status_code == 201, accepted.text
    concluded = await procedure(stack, "purchases", first.json()["id"], "concluded")
    assert concluded["value"] == {"amount": "3100.00", "currency": "RON"}
    assert concluded["reference_unit_price"]["amount"] == "330.00"  # the median of the three
    async with stack.client(officer["token"]) as client:  # a purchase is no tender
        not_a_tender = await client.post(f"/tenders/{first.json()['id']}/cancellation", json={"reason": "x"})  # fmt: skip
    assert not_a_tender.status_code == 404, not_a_tender.text
    recorded = await procedure(stack, "purchases", second.json()["id"], "awaiting_supplier")
    assert recorded["reason_not_cheapest"] == "Livrare în 24 de ore"
    assert recorded["cheapest_offer_id"] == cheap


async def test_a_purchase_over_the_threshold_is_refused_and_a_split_one_is_flagged(stack: Stack) -> None:  # fmt: skip
    """270,120 lei without VAT: one purchase above it is refused; two below it that add up
    to more in one year are both recorded, the second flagged as a split purchase."""
    officer = await register_officer(stack)
    _, (offer,) = await market(stack, "22800000-8", ["100.00"])
    over = await buy(officer["token"], stack, offer, "2702")
    assert over.status_code == 422, over.text
    assert over.json()["code"] == "over_threshold"
    first = await buy(officer["token"], stack, offer, "2000")
    second = await buy(officer["token"], stack, offer, "1000")
    assert (first.status_code, second.status_code) == (201, 201), second.text
    assert not (await procedure(stack, "purchases", first.json()["id"], "awaiting_supplier"))["splitting_suspected"]  # fmt: skip
    flagged = await procedure(stack, "purchases", second.json()["id"], "awaiting_supplier")
    assert flagged["splitting_suspected"]
    assert flagged["year_total_before"] == "200000.00"


def sealed(ocid: str, supplier: Party, price: str, key: bytes) -> dict[str, str]:
    quote = Quote(ocid=ocid, supplier_id=supplier.id, unit_price=Value(amount=Decimal(price), currency="RON"))  # fmt: skip
    return {"sealed": base64.b64encode(quotes.seal_quote(quote, key)).decode()}


async def quotation_won_by_the_lowest(stack: Stack, officer: dict[str, Any], cpv: str) -> tuple[str, list[Party]]:  # fmt: skip
    suppliers, _ = await market(stack, cpv, ["40.00", "42.00", "45.00", "50.00"])
    key = X25519PrivateKey.generate()
    deadline = datetime.now(UTC) + timedelta(seconds=4)
    asked = {
        "title": "Hârtie pentru școli", "cpv": cpv, "quantity": "10000", "unit": "top",
        "currency": "RON", "deadline": deadline.isoformat(),
        "opening_key": base64.b64encode(keys.raw_public(key)).decode(),
        "suppliers": [s.id for s in suppliers[:3]],
    }  # fmt: skip
    async with stack.client(officer["token"]) as client:
        requested = await client.post("/catalogue/quotations", json=asked)
    assert requested.status_code == 201, requested.text
    ocid = requested.json()["id"]
    for supplier, price in zip(suppliers[:3], ["39.00", "37.50", "38.00"], strict=True):
        async with stack.client(supplier.token) as client:
            answer = await client.post(f"/catalogue/quotations/{ocid}/quotes", json=sealed(ocid, supplier, price, keys.raw_public(key)))  # fmt: skip
            assert answer.status_code == 201, answer.text
    async with stack.client(suppliers[3].token) as uninvited:
        refused = await uninvited.post(f"/catalogue/quotations/{ocid}/quotes", json=sealed(ocid, suppliers[3], "1.00", keys.raw_public(key)))  # fmt: skip
        assert refused.status_code == 403, refused.text
    opening = {"opening_key": base64.b64encode(key.private_bytes_raw()).decode()}
    async with stack.client(officer["token"]) as client:
        early = await client.post(f"/catalogue/quotations/{ocid}/opening", json=opening)
        assert early.status_code == 409, early.text
        await asyncio.sleep(max(0.0, (deadline - datetime.now(UTC)).total_seconds()) + 0.2)
        opened = await client.post(f"/catalogue/quotations/{ocid}/opening", json=opening)
        assert opened.status_code == 201, opened.text
    return ocid, suppliers


async def test_a_price_quotation_opens_its_sealed_quotes_after_the_deadline_and_the_lowest_wins(stack: Stack) -> None:  # fmt: skip
    """Three invited suppliers quote sealed; no one else may; the opening is refused before
    the deadline and then opens all three at once; the lowest unit price wins."""
    officer = await register_officer(stack)
    ocid, suppliers = await quotation_won_by_the_lowest(stack, officer, "39830000-9")
    opened = await procedure(stack, "quotations", ocid, "opened")
    assert opened["quotes_received"] == 3
    assert opened["opened"]["winner_id"] == suppliers[1].id
    assert opened["opened"]["value"] == {"amount": "375000.00", "currency": "RON"}
    assert sorted(q["unit_price"]["amount"] for q in opened["opened"]["quotes"]) == ["37.50", "38.00", "39.00"]  # fmt: skip


async def test_savings_count_catalogue_procedures_by_type_and_they_publish_valid_ocds(stack: Stack) -> None:  # fmt: skip
    """A concluded direct purchase and a won quotation are savings against the median
    catalogue price, by procedure type; their releases are valid OCDS with the registry's
    procurementMethod."""
    officer = await register_officer(stack)
    suppliers, (cheap, _, _) = await market(stack, "30192700-8", ["8.00", "10.00", "12.00"])
    bought = await buy(officer["token"], stack, cheap, "100")
    async with stack.client(suppliers[0].token) as supplier:
        accepted = await supplier.post(f"/catalogue/purchases/{bought.json()['id']}/acceptance", json={})  # fmt: skip
        assert accepted.status_code == 201, accepted.text
    quotation, _ = await quotation_won_by_the_lowest(stack, officer, "30199000-0")

    async def both_saved() -> dict[str, Any] | None:
        async with stack.client() as public:
            summary = (await public.get("/savings")).json()["currencies"].get("RON")
        kinds = {g["key"]: g for g in summary["by_procedure_type"]} if summary else {}
        return kinds if {"direct_purchase", "price_quotation"} <= set(kinds) else None

    kinds = await eventually(both_saved)
    assert Decimal(kinds["direct_purchase"]["saving"]) >= Decimal("200.00")  # median 10 against 8
    assert Decimal(kinds["price_quotation"]["saving"]) > 0  # median 43.50 against 37.50
    async with stack.client() as public:
        dashboard = (await public.get("/portal/savings")).text
    assert "direct purchase from the catalogue" in dashboard
    assert "price quotation, catalogue suppliers" in dashboard
    async with stack.client() as public:
        for ocid, method, tag in ((bought.json()["id"], "limited", "contract"), (quotation, "selective", "award")):  # fmt: skip

            async def published(ocid: str = ocid, tag: str = tag) -> dict[str, Any] | None:
                answer = await public.get(f"/ocds/records/{ocid}")
                if answer.status_code != 200:
                    return None
                package: dict[str, Any] = json.loads(answer.text)
                tags = [t for r in package["records"][0]["releases"] for t in r["tag"]]
                return package if tag in tags else None

            package = await eventually(published)
            compiled = package["records"][0]["compiledRelease"]
            assert compiled["tender"]["procurementMethod"] == method
            assert_valid(package)
