"""A page per buyer (``/portal/buyers/{agency_id}``) and per supplier
(``/portal/suppliers/{supplier_id}``): their tenders, awards and contracts, each list a page
at a time with links to its newer and older pages (``?tenders=…&awards=…&contracts=…``,
``?bids=…`` for the tenders a supplier bid in)."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from entrypoints.portal import paging as portal_paging
from entrypoints.portal import reads as portal_reads
from entrypoints.portal.html import (
    bad_request,
    facts,
    link,
    money,
    not_found,
    page,
    segment,
    table,
    text,
)
from entrypoints.portal.paging import Cursor, pager
from readmodels import reads
from schemas.values import Identifier

router = APIRouter(include_in_schema=False)

# The lists of the party pages, by the query parameter that holds each one's cursor.
ORDERS = {
    "tenders": portal_reads.TENDERS_ORDER,
    "awards": portal_reads.AWARDS_ORDER,
    "contracts": portal_reads.CONTRACTS_ORDER,
    "bids": portal_reads.TENDERS_ORDER,
}


def _cursors(request: Request, names: tuple[str, ...]) -> dict[str, Cursor | None]:
    return {
        name: portal_paging.decode(request.query_params.get(name), ORDERS[name]) for name in names
    }


def _links(request: Request, names: tuple[str, ...]) -> dict[str, str | None]:
    """The cursors of the lists as they are, so that paging one list keeps the others."""
    return {name: request.query_params.get(name) for name in names}


@router.get("/portal/buyers/{agency_id}", response_class=HTMLResponse)
async def buyer_page(request: Request, agency_id: Identifier) -> HTMLResponse:
    pool = request.app.state.pool
    path, lists = f"/portal/buyers/{segment(agency_id)}", ("tenders", "awards", "contracts")
    try:
        cursors = _cursors(request, lists)
    except portal_paging.BadCursor as error:
        return bad_request(str(error), path)
    agency = await portal_reads.agency(pool, agency_id)
    if agency is None:
        return not_found(f"registered buyer {agency_id}")
    size = portal_paging.PAGE_SIZE
    tenders = await portal_reads.search(
        pool, reads.TenderFilter(buyer=agency_id), None, None, cursors["tenders"], size
    )
    awards = await portal_reads.party_awards(pool, "buyer_id", agency_id, cursors["awards"], size)
    contracts = await portal_reads.contracts(
        pool, "buyer_id", agency_id, cursors["contracts"], size
    )
    names = await portal_reads.party_names(
        pool, {a["bidder_id"] for a in awards.rows} | {c["supplier_id"] for c in contracts.rows}
    )
    links = _links(request, lists)
    tender_rows = [
        [
            link(f"/notices/{segment(t['ocid'])}", t["title"]),
            text(t["status"]),
            money(t["estimated_value"]["amount"], t["estimated_value"]["currency"]),
            text(t["submission_deadline"]),
        ]
        for t in tenders.rows
    ]
    body = (
        facts(
            [
                ("National identifier", text(agency["identifier"])),
                ("Registered", text(agency["registered_at"].date())),
            ]
        )
        + f"<p>{link(f'/?buyer={segment(agency_id)}', 'Search the notices of this buyer')}</p>"
        + '<h2 id="tenders">Tenders</h2>'
        + table(["Tender", "Status", "Estimated value", "Deadline"], tender_rows, frozenset({2}))
        + pager(tenders, path, links, "tenders", fragment="tenders")
        + '<h2 id="awards">Awards</h2>'
        + _awards(awards.rows, names, "Winner", "bidder_id")
        + pager(awards, path, links, "awards", fragment="awards")
        + '<h2 id="contracts">Contracts</h2>'
        + _contracts(contracts.rows, names, "Supplier", "supplier_id")
        + pager(contracts, path, links, "contracts", fragment="contracts")
    )
    return page(agency["name"], body)


@router.get("/portal/suppliers/{supplier_id}", response_class=HTMLResponse)
async def supplier_page(request: Request, supplier_id: Identifier) -> HTMLResponse:
    pool = request.app.state.pool
    path, lists = f"/portal/suppliers/{segment(supplier_id)}", ("awards", "contracts", "bids")
    try:
        cursors = _cursors(request, lists)
    except portal_paging.BadCursor as error:
        return bad_request(str(error), path)
    supplier = await portal_reads.supplier(pool, supplier_id)
    if supplier is None:
        return not_found(f"registered supplier {supplier_id}")
    size = portal_paging.PAGE_SIZE
    awards = await portal_reads.party_awards(
        pool, "bidder_id", supplier_id, cursors["awards"], size
    )
    contracts = await portal_reads.contracts(
        pool, "supplier_id", supplier_id, cursors["contracts"], size
    )
    bid_in = await portal_reads.tenders_bid_in(pool, supplier_id, cursors["bids"], size)
    names = await portal_reads.party_names(
        pool, {a["buyer_id"] for a in awards.rows} | {c["buyer_id"] for c in contracts.rows}
    )
    links = _links(request, lists)
    body = (
        facts(
            [
                ("National identifier", text(supplier["identifier"])),
                ("Small or medium enterprise", "yes" if supplier["is_sme"] else "no"),
            ]
        )
        + '<h2 id="awards">Awards won</h2>'
        + _awards(awards.rows, names, "Buyer", "buyer_id")
        + pager(awards, path, links, "awards", fragment="awards")
        + '<h2 id="contracts">Contracts</h2>'
        + _contracts(contracts.rows, names, "Buyer", "buyer_id")
        + pager(contracts, path, links, "contracts", fragment="contracts")
        + '<h2 id="bids">Tenders it bid in</h2><p><small>Shown once the bids are opened.</small></p>'
        + table(
            ["Tender", "Status"],
            [
                [link(f"/notices/{segment(t['ocid'])}", t["title"]), text(t["status"])]
                for t in bid_in.rows
            ],
        )
        + pager(bid_in, path, links, "bids", fragment="bids")
    )
    return page(supplier["name"], body)


def _party(names: dict[str, str], party_id: str, column: str) -> str:
    kind = "suppliers" if column in {"bidder_id", "supplier_id"} else "buyers"
    return link(f"/portal/{kind}/{segment(party_id)}", names.get(party_id, party_id))


def _awards(awards: list[dict[str, Any]], names: dict[str, str], header: str, column: str) -> str:
    rows = [
        [
            link(
                f"/notices/{segment(a['ocid'])}#{segment(a['lot_id'])}",
                f"{a['title']}, {a['lot_id']}",
            ),
            _party(names, a[column], column),
            money(a["amount"], a["currency"]),
            text(a["decided_at"].date()),
            text(a["status"]),
        ]
        for a in awards
    ]
    return table(["Lot", header, "Price", "Decided", "Status"], rows, frozenset({2}))


def _contracts(
    contracts: list[dict[str, Any]], names: dict[str, str], header: str, column: str
) -> str:
    rows = [
        [
            link(f"/portal/contracts/{segment(c['contract_id'])}", c["contract_id"]),
            _party(names, c[column], column),
            money(c["amount"], c["currency"]),
            money(c["paid"], c["currency"]),
            text(c["status"]),
        ]
        for c in contracts
    ]
    return table(["Contract", header, "Value", "Paid", "Status"], rows, frozenset({2, 3}))
