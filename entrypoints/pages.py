"""Public pages: server-rendered HTML that works without JavaScript and stays small."""

from html import escape
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from entrypoints import reads

router = APIRouter(include_in_schema=False)

STYLE = """
body{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:auto;padding:1rem;color:#111}
a{color:#0645ad}table{border-collapse:collapse;width:100%}td,th{padding:.4rem;border-bottom:1px solid #ddd;
text-align:left;vertical-align:top}.status{font-weight:600}form{margin:1rem 0}input,select{font:inherit}
"""


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    html = (
        f'<!doctype html><html lang="en"><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style>"
        f'<header><a href="/">Public tenders</a> · <a href="/docs">API</a></header>'
        f"<main><h1>{escape(title)}</h1>{body}</main></html>"
    )
    return HTMLResponse(html, status)


def _value(tender: dict[str, Any]) -> str:
    value = tender["estimated_value"]
    return f"{escape(value['amount'])} {escape(value['currency'])}"


@router.get("/", response_class=HTMLResponse)
async def latest_notices(
    request: Request, status: str | None = None, cpv: str | None = None, buyer: str | None = None
) -> HTMLResponse:
    where = reads.TenderFilter(status=status or None, buyer=buyer or None, cpv=cpv or None)
    page = await reads.tenders(request.app.state.pool, where, limit=50)
    rows = "".join(
        f'<tr><td><a href="/notices/{escape(t["ocid"])}">{escape(t["title"])}</a><br>'
        f"<small>{escape(t['ocid'])}</small></td><td>{escape(t['buyer_name'] or t['buyer_id'])}</td>"
        f'<td class="status">{escape(t["status"])}</td><td>{_value(t)}</td>'
        f"<td>{escape(t['submission_deadline'])}</td></tr>"
        for t in page.items
    )
    form = (
        '<form><label>Status <select name="status"><option value="">any</option>'
        + "".join(
            f"<option{' selected' if status == s else ''}>{s}</option>"
            for s in ("active", "closed", "cancelled")
        )
        + f'</select></label> <label>CPV <input name="cpv" size="10" value="{escape(cpv or "")}"></label>'
        f' <label>Buyer <input name="buyer" size="24" value="{escape(buyer or "")}"></label>'
        " <button>Search</button></form>"
    )
    table = "<table><tr><th>Tender</th><th>Buyer</th><th>Status</th><th>Estimated value</th><th>Deadline</th></tr>"
    return _page("Public tenders", form + table + rows + "</table>")


@router.get("/notices/{ocid}", response_class=HTMLResponse)
async def notice(request: Request, ocid: str) -> HTMLResponse:
    tender = await reads.tender(request.app.state.pool, ocid)
    if tender is None:
        return _page(
            "Not found", f"<p>There is no published tender {escape(ocid)}.</p>", status=404
        )
    lots = "".join(
        f"<li>{escape(lot['title'])}: {escape(lot['value']['amount'])} {escape(lot['value']['currency'])}<ul>"
        + "".join(
            f"<li>{escape(i['description'])}, {escape(i['quantity'])} {escape(i['unit'])} (CPV {escape(i['cpv'])})</li>"
            for i in lot["items"]
        )
        + "</ul></li>"
        for lot in tender["lots"]
    )
    amendments = "".join(
        f"<li>{escape(a['date'])}: {escape(a['type'])}, {escape(a['reason'])}</li>"
        for a in tender["amendments"]
    )
    facts = [
        ("Buyer", tender["buyer_name"] or tender["buyer_id"]),
        ("Status", tender["status"]),
        ("Procedure", tender["procedure_type"].replace("_", " ")),
        ("Main CPV", tender["cpv"]),
        ("Award criteria", tender["award_criteria"]),
        ("Submission deadline", tender["submission_deadline"]),
        ("Published", tender["published_at"]),
    ]
    body = (
        "<table>"
        + "".join(f"<tr><th>{k}</th><td>{escape(str(v))}</td></tr>" for k, v in facts)
        + f"<tr><th>Estimated value</th><td>{_value(tender)}</td></tr></table>"
        f"<p>{escape(tender['description'])}</p><h2>Lots</h2><ul>{lots}</ul>"
        + (f"<h2>Amendments</h2><ul>{amendments}</ul>" if amendments else "")
        + (
            f"<h2>Cancelled</h2><p>{escape(tender['cancellation']['reason'])}</p>"
            if tender.get("cancellation")
            else ""
        )
        + _sealed_bids(tender.get("bids"))
    )
    return _page(tender["title"], body)


def _sealed_bids(bids: dict[str, Any] | None) -> str:
    """Counts and commitments only: nobody can read a bid before the committee opens it."""
    if not bids:
        return ""
    rows = [("Bids received", bids["received"]), ("Entries in the bid log", bids["log_entries"])]
    if bids["root"]:
        rows += [("Sealed at", bids["sealed_at"]), ("Merkle root of the sealed bids", bids["root"])]
    if bids["opened_at"]:
        rows += [
            ("Opened at", bids["opened_at"]),
            ("Opened by", ", ".join(bids["opening_committee"] or [])),
            ("Opened / rejected", f"{bids['opened']} / {bids['rejected']}"),
        ]
    table = "".join(f"<tr><th>{k}</th><td>{escape(str(v))}</td></tr>" for k, v in rows)
    return f"<h2>Sealed bids</h2><table>{table}</table>"
