"""The public portal: server-rendered HTML that works without JavaScript and stays small.

``/`` lists the latest notices and searches them; the other pages live in the
``portal_*`` modules, gathered into one router here:

| URL | page |
| --- | --- |
| ``/``, ``/?q=paper&status=active&cpv=30&buyer=agency-…`` | latest notices, search |
| ``…&page=…`` | the next page of either: every list links to its newer and older pages |
| ``/notices/{ocid}`` | a tender: lots, sealed bids and root, awards, auctions, timeline |
| ``/portal/contracts/{id}`` | an award and the contract drawn from it |
| ``/portal/buyers/{id}``, ``/portal/suppliers/{id}`` | a party's tenders, awards, contracts |
| ``/portal/savings``, ``/portal/savings.csv`` | the savings dashboard and its numbers |
| ``/portal/verify`` | check a bid receipt and its inclusion proof in the browser |
"""

from html import escape
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from entrypoints.http.public_url import link_base
from entrypoints.portal import contracts as portal_contracts
from entrypoints.portal import paging as portal_paging
from entrypoints.portal import parties as portal_parties
from entrypoints.portal import reads as portal_reads
from entrypoints.portal import savings as portal_savings
from entrypoints.portal import tender as portal_tender
from entrypoints.portal import verify as portal_verify
from entrypoints.portal.html import bad_request, feed_links, link, money, segment, table, text
from entrypoints.portal.html import page as html_page
from readmodels import reads
from schemas.text import OneLine

router = APIRouter(include_in_schema=False)
for _module in (portal_tender, portal_contracts, portal_parties, portal_savings, portal_verify):
    router.include_router(_module.router)

STATUSES = ("active", "closed", "cancelled", "unsuccessful")
# What a search box may send: any one line of text, cut to length below, never NUL.
QueryText = Annotated[str, OneLine]


@router.get("/", response_class=HTMLResponse)
async def latest_notices(
    request: Request,
    q: QueryText | None = None,
    status: str | None = None,
    cpv: QueryText | None = None,
    buyer: QueryText | None = None,
    page: str | None = None,
) -> HTMLResponse:
    keyword = (q or "").strip()[:200] or None
    buyer = (buyer or "").strip()[:200] or None
    where = reads.TenderFilter(
        status=status if status in STATUSES else None, cpv=(cpv or "").strip()[:20] or None
    )
    search = {"q": keyword, "status": where.status, "cpv": where.cpv, "buyer": buyer}
    try:
        cursor = portal_paging.decode(page, portal_reads.TENDERS_ORDER)
    except portal_paging.BadCursor as error:
        return bad_request(str(error), portal_paging.href("/", search))
    found = await portal_reads.search(
        request.app.state.pool, where, keyword, buyer, cursor, portal_paging.PAGE_SIZE
    )
    rows = [
        [
            link(f"/notices/{segment(t['ocid'])}", t["title"])
            + f"<br><small>{text(t['ocid'])}</small>",
            link(f"/portal/buyers/{segment(t['buyer_id'])}", t["buyer_name"] or t["buyer_id"]),
            f"<strong>{text(t['status'])}</strong>",
            money(t["estimated_value"]["amount"], t["estimated_value"]["currency"]),
            text(t["submission_deadline"]),
        ]
        for t in found.rows
    ]
    heading = "<h2>Found, newest first</h2>" if any(search.values()) else "<h2>Latest notices</h2>"
    if any(search.values()) and cursor is None and found.older is None:
        heading = f"<h2>{len(rows)} found</h2>"  # the whole result is on this page
    headers = ["Tender", "Buyer", "Status", "Estimated value", "Deadline"]
    body = (
        _form(keyword, where, buyer)
        + heading
        + table(headers, rows, frozenset({3}))
        + portal_paging.pager(found, "/", search, "page")
    )
    head = portal_paging.head_links(found, "/", search, "page") + feed_links(link_base(request))
    return html_page("Public tenders", body, head=head)


def _form(keyword: str | None, where: reads.TenderFilter, buyer: str | None) -> str:
    options = "".join(
        f"<option{' selected' if where.status == s else ''}>{s}</option>" for s in STATUSES
    )
    return (
        '<form role="search"><label>Words <input name="q" type="search" size="18"'
        f' value="{escape(keyword or "")}" placeholder="title or description"></label>'
        f' <label>Status <select name="status"><option value="">any</option>{options}</select></label>'
        f' <label>CPV <input name="cpv" size="10" value="{escape(where.cpv or "")}" placeholder="e.g. 30"></label>'
        f' <label>Buyer <input name="buyer" size="20" value="{escape(buyer or "")}"'
        ' placeholder="name or id"></label>'
        " <button>Search</button></form>"
    )
