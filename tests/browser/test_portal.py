"""What a citizen reads on the portal after a market has run on the real stack (the demo's
small market: sealed bids, auctions, awards, a complaint, signed contracts): the notices
and their search, a tender's winners, prices, auctions and timeline, the contract page, the
buyer's and supplier's pages, and the savings dashboard, in a real browser on a phone."""

import csv
import io
from decimal import Decimal
from typing import Any

import pytest
from playwright.async_api import Browser, Page

from entrypoints.demo import run as demo
from entrypoints.portal import paging as portal_paging
from tests.browser.conftest import MOST_BYTES, PHONE, screenshot, weight
from tests.integration.stack import OPERATOR_TOKEN, Stack


@pytest.fixture(scope="module")
async def market(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The demo's market of three tenders, played once on the module's platform."""
    target = demo.Target(stack.api_url, OPERATOR_TOKEN, stack.database_url)
    options = demo.Options(
        tmp_path_factory.mktemp("demo"), tenders=3, suppliers=8, bidding_seconds=6.0
    )
    return await demo.play(target, options, lambda _: None, suffix="-p")


def awarded_lots(market: dict[str, Any]) -> list[tuple[dict[str, Any], str, dict[str, Any]]]:
    return [
        (tender, lot_id, lot)
        for tender in market["tenders"]
        for lot_id, lot in tender["lots"].items()
        if lot.get("outcome") == "awarded"
    ]


def words(text: str) -> str:
    return " ".join(text.split())


async def test_the_notices_are_listed_and_searched_by_keyword_cpv_buyer_and_status(
    stack: Stack, market: dict[str, Any], page: Page
) -> None:
    """The latest notices list every tender; a word of a title finds its tender, and the
    CPV, buyer and status filters narrow the list."""
    tender = market["tenders"][0]
    await page.goto(stack.api_url)
    await screenshot(page, "notices")
    for each in market["tenders"]:
        assert await page.locator(f"a[href='/notices/{each['ocid']}']").count() == 1
    word = max(tender["title"].split(), key=len)
    await page.fill("input[name=q]", word)
    await page.click("button:has-text('Search')")
    await page.wait_for_url("**/?q=*")
    assert await page.locator(f"a[href='/notices/{tender['ocid']}']").count() == 1
    await screenshot(page, "notices-search")
    await page.goto(f"{stack.api_url}/?q=no+such+words+anywhere")
    assert "0 found" in await page.locator("h2").inner_text()
    await page.goto(f"{stack.api_url}/?status=closed&buyer={tender['buyer'][:8]}")
    assert await page.locator(f"a[href='/notices/{tender['ocid']}']").count() == 1
    await page.goto(f"{stack.api_url}/?status=active&buyer={tender['buyer'][:8]}")
    assert await page.locator(f"a[href='/notices/{tender['ocid']}']").count() == 0
    cpv = (await stack.pool.fetchval("SELECT cpv FROM tenders WHERE ocid = $1", tender["ocid"]))[0]
    await page.goto(f"{stack.api_url}/?cpv={cpv[:2]}")
    assert await page.locator(f"a[href='/notices/{tender['ocid']}']").count() == 1


async def test_the_older_link_leads_to_the_next_notices_and_newer_back(
    stack: Stack, market: dict[str, Any], page: Page, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With two notices a page, a click on "Older" shows the next ones, the two pages
    together hold every tender of the market once, and "Newer" comes back to the first."""
    monkeypatch.setattr(portal_paging, "PAGE_SIZE", 2)
    notices = "main a[href^='/notices/']"
    await page.goto(stack.api_url)
    first = await page.locator(notices).evaluate_all("links => links.map(a => a.pathname)")
    assert len(first) == 2
    assert await page.locator("link[rel=next]").count() == 1
    await page.click("a:has-text('Older')")
    await page.wait_for_url("**/?page=*")
    await screenshot(page, "notices-older")
    second = await page.locator(notices).evaluate_all("links => links.map(a => a.pathname)")
    shown = first + second
    assert len(shown) == len(set(shown))
    for tender in market["tenders"]:
        assert f"/notices/{tender['ocid']}" in shown
    await page.click("a:has-text('Newer')")
    await page.wait_for_url("**/?page=*")
    assert await page.locator(notices).evaluate_all("links => links.map(a => a.pathname)") == first


async def test_an_awarded_tender_shows_winners_prices_auctions_and_its_timeline(
    stack: Stack, market: dict[str, Any], page: Page
) -> None:
    """After the award the tender page names each winner with its price, every tenderer's
    price as the OCDS record publishes them, the auction's best price before and after, the
    sealed root, and a timeline from the publication to the contract."""
    auctioned = [(t, lot_id, lot) for t, lot_id, lot in awarded_lots(market) if "auction" in lot]
    assert auctioned
    tender, _, lot = auctioned[0]
    await page.goto(f"{stack.api_url}/notices/{tender['ocid']}")
    await screenshot(page, "tender-awarded")
    awards = words(await page.locator("table", has_text="Winner").inner_text())
    assert lot["winner"]["name"] in awards
    assert f"{lot['value']['amount']} RON" in awards
    offers = page.locator("table", has_text="Price offered")
    assert f"{lot['value']['amount']} RON" in words(await offers.inner_text())  # the final one
    async with stack.client() as public:
        record = (await public.get(f"/ocds/records/{tender['ocid']}")).json()["records"][0]
    published = record["compiledRelease"]["bids"]["details"]
    assert len(published) >= 2  # an auction needs two bidders
    assert await offers.locator("tr").count() == 1 + len(published)  # the header, then each
    auctions = words(await page.locator("table", has_text="Best before").inner_text())
    assert f"{lot['auction']['best_before']} RON" in auctions
    assert f"{lot['auction']['best_after']} RON" in auctions
    root = await stack.pool.fetchval(
        "SELECT root FROM public_bid_logs WHERE ocid = $1", tender["ocid"]
    )
    assert await page.locator("#root").inner_text() == root
    timeline = await page.locator("ol.timeline").inner_text()
    for told in ("Published", "Bid log sealed", "Bids opened by", "auction of lot", "awarded to"):
        assert told.lower() in timeline.lower(), told
    assert "Contract" in timeline


async def test_the_contract_page_shows_the_award_signatures_and_payments(
    stack: Stack, market: dict[str, Any], page: Page
) -> None:
    """From the tender's awards a citizen opens the contract: parties, value, the award it
    came from, both signatures, and what was paid."""
    contract = next(c for c in market["contracts"] if "completed" in c["carried_out"])
    await page.goto(f"{stack.api_url}/notices/{contract['ocid']}")
    await page.click(f"a[href='/portal/contracts/{contract['id']}']")
    await page.wait_for_url(f"**/portal/contracts/{contract['id']}")
    await screenshot(page, "contract")
    text = words(await page.locator("main").inner_text())
    shown = await stack.pool.fetchrow(
        "SELECT amount, currency, status FROM contracts WHERE contract_id = $1", contract["id"]
    )
    assert f"{shown['amount']} {shown['currency']}" in text
    assert "Awarded price" in text
    signatures = words(await page.locator("table", has_text="Signed by").inner_text())
    assert "buyer" in signatures
    assert "supplier" in signatures
    assert "Payments" in text
    assert "None yet" not in words(await page.locator("table", has_text="Paid on").inner_text())


async def test_buyer_and_supplier_pages_list_their_tenders_awards_and_contracts(
    stack: Stack, market: dict[str, Any], page: Page
) -> None:
    """The winner's name on a tender page leads to the supplier's page with that award and
    its contract; the buyer's page lists its tenders and awards."""
    tender, _, lot = awarded_lots(market)[0]
    await page.goto(f"{stack.api_url}/notices/{tender['ocid']}")
    await page.click(f"a[href='/portal/suppliers/{lot['winner']['id']}']")
    await screenshot(page, "supplier")
    assert await page.locator("h1").inner_text() == lot["winner"]["name"]
    won = words(await page.locator("table", has_text="Decided").inner_text())
    assert f"{lot['value']['amount']} RON" in won
    assert await page.locator(f"a[href='/notices/{tender['ocid']}']").count() >= 1

    await page.goto(f"{stack.api_url}/notices/{tender['ocid']}")
    await page.click("a[href^='/portal/buyers/']")
    await screenshot(page, "buyer")
    assert await page.locator("h1").inner_text() == tender["buyer"]
    assert await page.locator(f"a[href='/notices/{tender['ocid']}']").count() >= 1
    assert lot["winner"]["name"] in await page.locator("main").inner_text()


async def test_the_savings_dashboard_shows_the_numbers_of_the_savings_api(
    stack: Stack, market: dict[str, Any], page: Page
) -> None:
    """The dashboard shows the totals GET /savings gives, a chart per grouping, and a CSV
    whose totals are the same numbers."""
    total = market["savings"]["currencies"]["RON"]["total"]
    await page.goto(f"{stack.api_url}/portal/savings")
    await screenshot(page, "savings")
    overview = words(await page.locator("table", has_text="Estimated").first.inner_text())
    assert f"{total['estimated']} RON" in overview
    assert f"{total['awarded']} RON" in overview
    assert f"{total['saving']} RON" in overview
    assert await page.locator("svg[role=img]").count() == 4  # buyer, CPV, procedure, month
    assert "open with auction" in await page.locator("main").inner_text()
    async with stack.client() as public:
        download = await public.get("/portal/savings.csv")
    assert download.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(download.text)))
    (overall,) = [r for r in rows if r["grouping"] == "total"]
    assert Decimal(overall["estimated"]) == Decimal(total["estimated"])
    assert Decimal(overall["saving"]) == Decimal(total["saving"])
    lots = [r for r in rows if r["grouping"] == "lot"]
    assert sum(Decimal(r["awarded"]) for r in lots) == Decimal(total["awarded"])


async def test_every_page_is_light_fits_a_phone_and_reads_without_javascript(
    stack: Stack, market: dict[str, Any], browser: Browser
) -> None:
    """Each page with all it loads weighs under 100 KB (images aside), nothing but a wide
    table scrolls sideways at 360 px, and with JavaScript off the pages still show their
    content."""
    tender, _, lot = awarded_lots(market)[0]
    contract = market["contracts"][0]
    paths = {
        "notices": "/",
        "search": "/?q=a&status=closed",
        "tender": f"/notices/{tender['ocid']}",
        "contract": f"/portal/contracts/{contract['id']}",
        "buyer": f"/portal/buyers/{market['parties']['agencies'][0]['id']}",
        "supplier": f"/portal/suppliers/{lot['winner']['id']}",
        "savings": "/portal/savings",
        "verify": "/portal/verify",
    }
    weights = {}
    for scripting in (True, False):
        context = await browser.new_context(viewport=PHONE, java_script_enabled=scripting)
        page = await context.new_page()
        for name, path in paths.items():
            answer = await page.goto(stack.api_url + path)
            assert answer is not None
            assert answer.status == 200, path
            if scripting:
                measured = await weight(page)
                weights[name] = measured["bytes"]
                assert measured["bytes"] < MOST_BYTES, (path, measured)
                assert measured["fits"], (path, measured)
            else:
                assert await page.locator("h1").count() == 1
                await screenshot(page, f"no-javascript-{name}")
        await context.close()
    print("page weights in bytes:", weights)  # shown with pytest -s
