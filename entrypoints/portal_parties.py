"""A page per buyer (``/portal/buyers/{agency_id}``) and per supplier
(``/portal/suppliers/{supplier_id}``): their tenders, awards and contracts."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from entrypoints import portal_reads, reads
from entrypoints.portal_html import facts, link, money, not_found, page, segment, table, text

router = APIRouter(include_in_schema=False)


@router.get("/portal/buyers/{agency_id}", response_class=HTMLResponse)
async def buyer_page(request: Request, agency_id: str) -> HTMLResponse:
    pool = request.app.state.pool
    agency = await portal_reads.agency(pool, agency_id)
    if agency is None:
        return not_found(f"registered buyer {agency_id}")
    tenders = await reads.tenders(pool, reads.TenderFilter(buyer=agency_id), limit=100)
    awards = await portal_reads.awards(pool, "buyer_id", agency_id)
    contracts = await portal_reads.contracts(pool, "buyer_id", agency_id)
    names = await portal_reads.party_names(
        pool, {a["bidder_id"] for a in awards} | {c["supplier_id"] for c in contracts}
    )
    tender_rows = [
        [
            link(f"/notices/{segment(t['ocid'])}", t["title"]),
            text(t["status"]),
            money(t["estimated_value"]["amount"], t["estimated_value"]["currency"]),
            text(t["submission_deadline"]),
        ]
        for t in tenders.items
    ]
    body = (
        facts(
            [
                ("National identifier", text(agency["identifier"])),
                ("Registered", text(agency["registered_at"].date())),
            ]
        )
        + f"<p>{link(f'/?buyer={segment(agency_id)}', 'Search the notices of this buyer')}</p>"
        + "<h2>Tenders</h2>"
        + table(["Tender", "Status", "Estimated value", "Deadline"], tender_rows, frozenset({2}))
        + "<h2>Awards</h2>"
        + _awards(awards, names, "Winner", "bidder_id")
        + "<h2>Contracts</h2>"
        + _contracts(contracts, names, "Supplier", "supplier_id")
    )
    return page(agency["name"], body)


@router.get("/portal/suppliers/{supplier_id}", response_class=HTMLResponse)
async def supplier_page(request: Request, supplier_id: str) -> HTMLResponse:
    pool = request.app.state.pool
    supplier = await portal_reads.supplier(pool, supplier_id)
    if supplier is None:
        return not_found(f"registered supplier {supplier_id}")
    awards = await portal_reads.awards(pool, "bidder_id", supplier_id)
    contracts = await portal_reads.contracts(pool, "supplier_id", supplier_id)
    bid_in = await portal_reads.tenders_bid_in(pool, supplier_id)
    names = await portal_reads.party_names(
        pool, {a["buyer_id"] for a in awards} | {c["buyer_id"] for c in contracts}
    )
    body = (
        facts(
            [
                ("National identifier", text(supplier["identifier"])),
                ("Small or medium enterprise", "yes" if supplier["is_sme"] else "no"),
            ]
        )
        + "<h2>Awards won</h2>"
        + _awards(awards, names, "Buyer", "buyer_id")
        + "<h2>Contracts</h2>"
        + _contracts(contracts, names, "Buyer", "buyer_id")
        + "<h2>Tenders it bid in</h2><p><small>Shown once the bids are opened.</small></p>"
        + table(
            ["Tender", "Status"],
            [
                [link(f"/notices/{segment(t['ocid'])}", t["title"]), text(t["status"])]
                for t in bid_in
            ],
        )
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
