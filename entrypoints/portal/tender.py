"""A tender's public page, ``/notices/{ocid}``: the notice, its lots and deadline, the sealed
bids (how many, and the Merkle root once sealed), the awards with winners and prices, every
tenderer's price for each awarded lot, the auctions' results, the contracts, and the
timeline of every public event."""

from html import escape
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from entrypoints.http.public_url import link_base
from entrypoints.portal import reads as portal_reads
from entrypoints.portal import timeline as portal_timeline
from entrypoints.portal.html import (
    facts,
    feed_links,
    link,
    money,
    not_found,
    page,
    segment,
    table,
    text,
)
from entrypoints.portal.notice_cache import NoticeCache
from readmodels import reads
from schemas.values import Identifier

router = APIRouter(include_in_schema=False)


@router.get("/notices/{ocid}", response_class=HTMLResponse)
async def notice(request: Request, ocid: Identifier) -> HTMLResponse:
    app = request.app
    if not hasattr(app.state, "notice_cache"):
        app.state.notice_cache = NoticeCache()
    cache: NoticeCache = app.state.notice_cache
    async with app.state.pool.acquire() as connection:  # one for all the page's reads
        activity = await portal_reads.tender_activity(connection, ocid)
        body = cache.kept(ocid, activity.fingerprint)
        if body is None:
            body = await _render(connection, ocid, activity, link_base(request))
            if body is not None:
                cache.keep(ocid, activity.fingerprint, body)
    return not_found(f"published tender {ocid}") if body is None else HTMLResponse(body)


async def _render(
    pool: Any, ocid: str, activity: portal_reads.TenderActivity, base: str
) -> bytes | None:
    """The page; ``base`` (the same for every request of a process) starts its own links in
    the head, so that the cached page suits every request."""
    tender = await reads.tender(pool, ocid)
    if tender is None:
        return None
    awards = await portal_reads.awards(pool, ocid)
    history = activity.timeline
    names = await portal_reads.party_names(
        pool, portal_timeline.party_ids(history) | {a["bidder_id"] for a in awards}
    )
    body = (
        _summary(tender)
        + f"<p>{text(tender['description'])}</p>"
        + _lots(tender)
        + _amendments(tender)
        + _sealed_bids(ocid, tender.get("bids"))
        + _awards(awards, names)
        + _offers(activity.offers)
        + _auctions(activity.auctions, awards)
        + "<h2>Timeline</h2>"
        + portal_timeline.timeline(history, names)
        + f'<p><small>As data: <a href="/tenders/{segment(ocid)}">JSON</a></small></p>'
    )
    return bytes(page(tender["title"], body, head=_head_links(base, ocid)).body)


def _head_links(base: str, ocid: str) -> str:
    """The notice's own address, and the same procedure as OCDS data."""
    here = escape(f"{base}notices/{segment(ocid)}")
    record = escape(f"{base}ocds/records/{segment(ocid)}")
    return (
        f'<link rel="canonical" href="{here}">'
        f'<link rel="alternate" type="application/json" title="OCDS record" href="{record}">'
        + feed_links(base)
    )


def _summary(tender: dict[str, Any]) -> str:
    buyer = link(
        f"/portal/buyers/{segment(tender['buyer_id'])}", tender["buyer_name"] or tender["buyer_id"]
    )
    value = tender["estimated_value"]
    return facts(
        [
            ("Buyer", buyer),
            ("Status", f"<strong>{text(tender['status'])}</strong>"),
            ("Procedure", text(tender["procedure_type"].replace("_", " "))),
            ("Main CPV", text(tender["cpv"])),
            ("Award criteria", text(tender["award_criteria"])),
            ("Submission deadline", text(tender["submission_deadline"])),
            ("Published", text(tender["published_at"])),
            ("Estimated value", money(value["amount"], value["currency"])),
            ("Identifier", text(tender["ocid"])),
        ]
    )


def _lots(tender: dict[str, Any]) -> str:
    lots = "".join(
        f'<li id="{text(lot["id"])}">{text(lot["title"])}: '
        f"{money(lot['value']['amount'], lot['value']['currency'])}<ul>"
        + "".join(
            f"<li>{text(i['description'])}, {text(i['quantity'])} {text(i['unit'])} (CPV {text(i['cpv'])})</li>"
            for i in lot["items"]
        )
        + "</ul></li>"
        for lot in tender["lots"]
    )
    return f"<h2>Lots</h2><ul>{lots}</ul>"


def _amendments(tender: dict[str, Any]) -> str:
    amendments = "".join(
        f"<li>{text(a['date'])}: {text(a['type'])}, {text(a['reason'])}</li>"
        for a in tender["amendments"]
    )
    cancelled = tender.get("cancellation")
    return (f"<h2>Amendments</h2><ul>{amendments}</ul>" if amendments else "") + (
        f"<h2>Cancelled</h2><p>{text(cancelled['reason'])}</p>" if cancelled else ""
    )


def _sealed_bids(ocid: str, bids: dict[str, Any] | None) -> str:
    """Counts and commitments only: nobody can read a bid before the committee opens it."""
    if not bids:
        return ""
    rows = [
        ("Bids received", text(bids["received"])),
        ("Entries in the bid log", text(bids["log_entries"])),
    ]
    if bids["root"]:
        rows += [
            ("Sealed at", text(bids["sealed_at"])),
            ("Entries under the root", text(bids["tree_size"])),
            (
                "Merkle root of the sealed bids",
                f'<span class="hash" id="root">{text(bids["root"])}</span>',
            ),
        ]
    else:
        rows.append(("Merkle root", "published when the deadline passes and the log is sealed"))
    if bids["opened_at"]:
        rows += [
            ("Opened at", text(bids["opened_at"])),
            ("Opened by", text(", ".join(bids["opening_committee"] or []))),
            ("Opened / rejected", f"{text(bids['opened'])} / {text(bids['rejected'])}"),
        ]
    check = link(f"/portal/verify?ocid={segment(ocid)}", "Check a bid receipt against this root")
    return f"<h2>Sealed bids</h2>{facts(rows)}<p>{check}</p>"


def _awards(awards: list[dict[str, Any]], names: dict[str, str]) -> str:
    if not awards:
        return ""
    rows = [
        [
            text(a["lot_id"]),
            link(
                f"/portal/suppliers/{segment(a['bidder_id'])}",
                names.get(a["bidder_id"], a["bidder_id"]),
            ),
            money(a["amount"], a["currency"]),
            money(a["estimated"], a["currency"]) if a["estimated"] else "-",
            text(a["status"]),
            text(a["standstill_ends"].isoformat(timespec="seconds")),
            link(f"/portal/contracts/{segment(a['contract_id'])}", a["contract_id"])
            if a["contract_id"]
            else "-",
        ]
        for a in awards
    ]
    headers = ["Lot", "Winner", "Price", "Estimated", "Status", "Standstill ends", "Contract"]
    return "<h2>Awards</h2>" + table(headers, rows, numeric=frozenset({2, 3}))


_VERDICTS = {
    "valid": "admissible",
    "disqualified": "disqualified",
    "pending": "not decided yet",
}


def _offers(offers: list[dict[str, Any]]) -> str:
    """Every tenderer's price for each awarded lot, lowest first: the award's evidence."""
    rows = [
        [
            text(o["lot_id"] or "-"),
            link(f"/portal/suppliers/{segment(o['bidder_id'])}", o["name"] or o["bidder_id"]),
            money(o["amount"], o["currency"]) if o["amount"] is not None else "could not be opened",
            text(_VERDICTS.get(o["status"], o["status"])),
        ]
        for o in offers
    ]
    if not rows:
        return ""
    note = (
        "<p><small>Published with each lot's award; after an electronic auction, the price"
        " is the tenderer's final one.</small></p>"
    )
    headers = ["Lot", "Tenderer", "Price offered", "Bid"]
    return "<h2>Bids and prices</h2>" + note + table(headers, rows, numeric=frozenset({2}))


def _auctions(auctions: list[dict[str, Any]], awards: list[dict[str, Any]]) -> str:
    """Each auction's outcome; the best price before and after it once the lot is awarded."""
    if not auctions:
        return ""
    prices = {a["lot_id"]: a for a in awards}
    rows = []
    for auction in auctions:
        award = prices.get(auction["lot_id"], {})
        before, after = award.get("best_initial"), award.get("final_after_auction")
        rows.append(
            [
                text(auction["lot_id"]),
                text(auction["status"]),
                text(auction["participants"]),
                text(auction["prices_accepted"]),
                money(before, auction["currency"]) if before else "-",
                money(after, auction["currency"]) if after else "-",
                text(auction["closed_at"] or auction["starts_at"]),
            ]
        )
    headers = [
        "Lot",
        "Status",
        "Bidders",
        "Prices",
        "Best before",
        "Best after",
        "Closed (or starts)",
    ]
    return "<h2>Electronic auctions</h2>" + table(headers, rows, numeric=frozenset({2, 3, 4, 5}))
