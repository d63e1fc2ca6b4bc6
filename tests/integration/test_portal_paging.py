"""The portal's long lists a page at a time, on the real stack: following the "Older" links
from the first page reaches every notice, award, contract and tender bid in exactly once,
in order, "Newer" leads back the same way, a search keeps its words and filters from page
to page, and a page link the portal did not give out is a 400 page, never an error.

Pages hold three rows here, so that a few tenders make several pages."""

import base64
import html
import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from entrypoints.portal import paging as portal_paging
from tests.integration.conftest import register_officer, tender_body
from tests.integration.market import register_supplier
from tests.integration.stack import Stack, eventually

SIZE = 3


@pytest.fixture(autouse=True)
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """The API runs in the test's process: its pages shrink with the constant."""
    monkeypatch.setattr(portal_paging, "PAGE_SIZE", SIZE)


async def publish(stack: Stack, token: str, bodies: list[dict[str, Any]]) -> list[str]:
    async with stack.client(token) as client:
        answers = [await client.post("/tenders", json=body) for body in bodies]
    assert all(a.status_code == 201 for a in answers), [a.text for a in answers]
    return [a.json()["id"] for a in answers]


async def cancel(stack: Stack, token: str, ocid: str) -> None:
    async with stack.client(token) as client:
        answer = await client.post(f"/tenders/{ocid}/cancellation", json={"reason": "No budget"})
    assert answer.status_code == 200, answer.text


async def until_projected(stack: Stack, ocids: list[str], cancelled: set[str]) -> None:
    async def projected() -> bool:
        rows = await stack.pool.fetch(
            "SELECT ocid, status FROM tenders WHERE ocid = ANY($1)", ocids
        )
        statuses = {row["ocid"]: row["status"] for row in rows}
        return len(statuses) == len(ocids) and all(
            (statuses[o] == "cancelled") == (o in cancelled) for o in ocids
        )

    await eventually(projected)


async def newest_first(stack: Stack, ocids: list[str]) -> list[str]:
    rows = await stack.pool.fetch(
        "SELECT ocid FROM tenders WHERE ocid = ANY($1) ORDER BY published_at DESC, ocid DESC",
        ocids,
    )
    return [row["ocid"] for row in rows]


def pager_link(page: str, label: str) -> str | None:
    """The target of the "Newer" or "Older" link of a page's only list (or of ``page`` cut
    to one list's section)."""
    found = re.search(rf'<a href="([^"]+)">[^<]*{label}[^<]*</a>', page)
    return html.unescape(found[1]) if found else None


def head_link(page: str, rel: str) -> str | None:
    found = re.search(rf'<link rel="{rel}" href="([^"]+)">', page)
    return html.unescape(found[1]) if found else None


def section(page: str, anchor: str) -> str:
    """One list of a party page: from its heading to the next one."""
    start = page.index(f'<h2 id="{anchor}">')
    end = page.find("<h2", start + 1)
    return page[start : end if end > 0 else len(page)]


async def walk(
    public: httpx.AsyncClient, first: str, label: str, rows: str, anchor: str | None = None
) -> list[list[str]]:
    """The rows (the first group of the ``rows`` pattern) of each page, following the link
    ``label`` of the list (of the section ``anchor``) from ``first`` until there is none."""
    pages: list[list[str]] = []
    url: str | None = first
    while url is not None:
        answer = await public.get(url)
        assert answer.status_code == 200, (url, answer.text)
        assert len(answer.content) < 100_000
        part = section(answer.text, anchor) if anchor else answer.text.split("<main>")[1]
        pages.append(re.findall(rows, part))
        assert len(pages[-1]) <= SIZE
        url = pager_link(part, label)
        assert len(pages) <= 20, "the links go round in circles"
    return pages


NOTICE = r'<a href="/notices/([^"#]+)">'


async def test_older_links_reach_every_notice_once_and_newer_links_lead_back(
    stack: Stack,
) -> None:
    """Eight notices of a buyer make three pages; the older links visit each once, newest
    first, the head names the same pages as prev and next, and the newer links from the last
    page come back through the same pages."""
    officer = await register_officer(stack)
    ocids = await publish(stack, officer["token"], [tender_body() for _ in range(8)])
    await until_projected(stack, ocids, set())
    first = f"/?buyer={officer['agency_id']}"
    async with stack.client() as public:
        forward = await walk(public, first, "Older", NOTICE)
        assert [o for page in forward for o in page] == await newest_first(stack, ocids)
        assert [len(page) for page in forward] == [3, 3, 2]

        home = (await public.get(first)).text
        assert head_link(home, "prev") is None
        assert pager_link(home, "Newer") is None
        second = pager_link(home, "Older")
        assert second is not None
        assert head_link(home, "next") == second
        assert f"buyer={officer['agency_id']}" in second
        middle = (await public.get(second)).text
        assert head_link(middle, "next") == pager_link(middle, "Older")
        assert pager_link(middle, "Newer") is not None
        assert head_link(middle, "prev") == pager_link(middle, "Newer")

        last = pager_link(middle, "Older")
        assert last is not None
        backward = await walk(public, last, "Newer", NOTICE)
    assert backward == forward[::-1]


async def test_a_search_keeps_its_words_and_filters_from_page_to_page(stack: Stack) -> None:
    """A search by words (with an ampersand and spaces), status, CPV and buyer name, paged
    three at a time, lists exactly the matching notices: the other notices, each failing one
    filter, never show, so every link carried every filter."""
    officer, other_buyer = await register_officer(stack), await register_officer(stack)
    words = f"Paper {uuid.uuid4().hex[:8]} & co"

    def body(title: str, cpv: str) -> dict[str, Any]:
        return tender_body(cpv=cpv) | {"title": title}

    matching = await publish(stack, officer["token"], [body(words, "45000000-7")] * 7)
    other_words = await publish(stack, officer["token"], [body("Paper & co", "45000000-7")] * 2)
    other_cpv = await publish(stack, officer["token"], [body(words, "30197630-1")] * 2)
    cancelled = await publish(stack, officer["token"], [body(words, "45000000-7")] * 2)
    for ocid in cancelled:
        await cancel(stack, officer["token"], ocid)
    elsewhere = await publish(stack, other_buyer["token"], [body(words, "45000000-7")] * 2)
    everything = matching + other_words + other_cpv + cancelled + elsewhere
    await until_projected(stack, everything, set(cancelled))
    buyer_name = officer["agency_id"].removeprefix("agency-")  # the agency is named after it
    search = httpx.URL(
        "/",
        params={"q": words, "status": "active", "cpv": "45", "buyer": buyer_name},
    )
    async with stack.client() as public:
        pages = await walk(public, str(search), "Older", NOTICE)
        first = (await public.get(str(search))).text
    assert [o for page in pages for o in page] == await newest_first(stack, matching)
    older = pager_link(first, "Older")
    assert older is not None
    assert "q=Paper+" in older
    assert "+%26+co" in older  # the ampersand stays part of the words
    assert 'value="' + html.escape(words) + '"' in first  # the form shows the search


async def test_party_pages_page_each_list_on_its_own(stack: Stack) -> None:
    """A buyer's tenders, awards and contracts and a supplier's awards, contracts and the
    tenders it bid in each page on their own, every row once, newest first (awards decided
    at the same moment in the order of their tender and lot); paging one list keeps the
    page the others were at. The awards, contracts and opened bid logs are written into the
    read models directly, as the projections would."""
    officer = await register_officer(stack)
    supplier = await register_supplier(stack, "Paginată SRL")
    ocids = await publish(stack, officer["token"], [tender_body() for _ in range(5)])
    await until_projected(stack, ocids, set())
    decided = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    lots = [(ocid, lot) for ocid in ocids for lot in ("lot-1", "lot-2")]
    for ocid, lot in lots:
        await stack.pool.execute(
            "INSERT INTO awards (ocid, lot_id, bid_id, bidder_id, amount, currency, decided_at,"
            " standstill_ends, status) VALUES ($1, $2, $3, $4, 900, 'RON', $5, $5, 'awarded')",
            ocid,
            lot,
            f"bid-{ocid}-{lot}",
            supplier.id,
            decided,
        )
        await stack.pool.execute(
            "INSERT INTO contracts (contract_id, ocid, lot_id, buyer_id, supplier_id, amount,"
            " currency, status, updated_at) VALUES ($1, $2, $3, $4, $5, 900, 'RON', 'active', now())",
            f"{ocid}:contract:{lot}",
            ocid,
            lot,
            officer["agency_id"],
            supplier.id,
        )
    for ocid in ocids:
        await stack.pool.execute(
            "INSERT INTO public_bid_logs (ocid, opened_at) VALUES ($1, now())", ocid
        )
        await stack.pool.execute(
            "INSERT INTO public_bidders (ocid, bidder_id, has_bid) VALUES ($1, $2, true)",
            ocid,
            supplier.id,
        )
    awards = [f"{o}#{lot}" for o, lot in sorted(lots, reverse=True)]
    contracts = sorted((f"{o}:contract:{lot}" for o, lot in lots), reverse=True)
    contract = r'<a href="/portal/contracts/([^"]+)">'
    award = r'<a href="/notices/([^"]+#[^"]+)">'
    buyer = f"/portal/buyers/{officer['agency_id']}"
    seller = f"/portal/suppliers/{supplier.id}"
    async with stack.client() as public:

        async def listed(path: str, anchor: str, rows: str) -> list[str]:
            pages = await walk(public, path, "Older", rows, anchor)
            assert len(pages) > 1
            return [row for page in pages for row in page]

        assert await listed(buyer, "tenders", NOTICE) == await newest_first(stack, ocids)
        assert await listed(buyer, "awards", award) == awards
        assert await listed(buyer, "contracts", contract) == contracts
        assert await listed(seller, "awards", award) == awards
        assert await listed(seller, "contracts", contract) == contracts
        assert await listed(seller, "bids", NOTICE) == await newest_first(stack, ocids)

        first = (await public.get(buyer)).text
        tenders_two = pager_link(section(first, "tenders"), "Older")
        assert tenders_two is not None
        second = (await public.get(tenders_two)).text
        awards_two = pager_link(section(second, "awards"), "Older")
        assert awards_two is not None
        assert awards_two.endswith("#awards")
        both = (await public.get(awards_two)).text
    assert ocids_shown(both) == ocids_shown(second) == (await newest_first(stack, ocids))[SIZE:]
    assert re.findall(award, section(both, "awards")) == awards[SIZE : 2 * SIZE]
    assert "awards=" in (pager_link(section(both, "tenders"), "Newer") or "")


def ocids_shown(page: str) -> list[str]:
    return re.findall(NOTICE, section(page, "tenders"))


def token(*values: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode()


# Not a cursor of any list.
NOT_CURSORS = [
    "not-a-cursor",
    "é",
    "A" * 2000,
    base64.urlsafe_b64encode(b"\xff\xfe[").decode(),
    base64.urlsafe_b64encode(b"7").decode(),
    token("sideways", "ocds-x"),
]
# Not a cursor of a list of tenders, newest first.
NOT_TENDER_CURSORS = [
    token("older", "2026-01-01T00:00:00+00:00"),  # a contract's key
    token("older", "2026-01-01T00:00:00+00:00", "ocds-x", "lot-1"),  # an award's key
    token("older", "2026-01-01T00:00:00", "ocds-x"),  # a time without its offset
    token("older", "0001-01-01T00:00:00+14:00", "ocds-x"),  # before the calendar starts
    token("older", "2026-13-01T00:00:00+00:00", "ocds-x"),
    token("older", "2026-01-01T00:00:00+00:00", "ocds-\x00"),
    token("older", "2026-01-01T00:00:00+00:00", "\ud800"),
    token("older", "2026-01-01T00:00:00+00:00", 7),
    token("older", "2026-01-01T00:00:00+00:00", "x" * 500),
]


async def test_a_page_link_the_portal_did_not_give_out_is_a_400_page(stack: Stack) -> None:
    """Whatever stands in a cursor's place on the notices page, the buyer page or the
    supplier page, the answer is a plain 400 page that leads back to the first page."""
    officer = await register_officer(stack)
    supplier = await register_supplier(stack)
    buyer, seller = f"/portal/buyers/{officer['agency_id']}", f"/portal/suppliers/{supplier.id}"
    tender_lists = [("/", "page"), (buyer, "tenders"), (seller, "bids")]
    other_lists = [(buyer, "awards"), (buyer, "contracts"), (seller, "awards")]
    tries = [(path, name, bad) for path, name in tender_lists for bad in NOT_TENDER_CURSORS]
    tries += [(path, name, bad) for path, name in tender_lists + other_lists for bad in NOT_CURSORS]
    async with stack.client() as public:
        for path, name, bad in tries:
            answer = await public.get(path, params={name: bad, "q": "paper"})
            assert answer.status_code == 400, (path, name, bad, answer.text)
            assert answer.headers["content-type"].startswith("text/html")
            assert "<h1>Bad request</h1>" in answer.text
            assert f'href="{path}' in answer.text
            assert "<script" not in answer.text
        nothing_older = token("older", "2000-01-01T00:00:00+00:00", "ocds-x")
        empty = await public.get("/", params={"page": nothing_older})
    assert empty.status_code == 200
    assert "None yet." in empty.text
    assert pager_link(empty.text, "Newer") == "/"


async def test_the_tender_list_has_its_index_and_no_index_nobody_reads(stack: Stack) -> None:
    """Every index on ``tenders`` costs each write of a tender, so each serves a read: the
    newest-first pages (both keys descending; the portal walks back up the same index), the
    status, buyer and CPV filters, and the deadline service's due tenders."""
    names = {
        row["indexname"]
        for row in await stack.pool.fetch(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'tenders'"
        )
    }
    assert names == {
        "tenders_pkey",
        "tenders_newest",
        "tenders_by_status",
        "tenders_by_buyer",
        "tenders_by_cpv",
        "tenders_due",
    }
    async with stack.pool.acquire() as connection, connection.transaction():
        await connection.execute("SET LOCAL enable_seqscan = off")
        plan = await connection.fetch(
            "EXPLAIN SELECT ocid FROM tenders ORDER BY published_at DESC, ocid DESC LIMIT 20"
        )
    assert any("tenders_newest" in row[0] for row in plan), plan
