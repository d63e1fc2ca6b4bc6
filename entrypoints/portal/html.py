"""The public portal's page shell and the small HTML pieces every page shares.

Every value that comes from the data passes through ``escape`` (or ``text``) before it
reaches the page. Pages carry their style inline, so that one request shows them on a slow
connection, and work without JavaScript.
"""

from collections.abc import Iterable, Sequence
from html import escape
from typing import Any
from urllib.parse import quote

from fastapi.responses import HTMLResponse

STYLE = """
body{font:16px/1.5 system-ui,sans-serif;max-width:62rem;margin:auto;padding:0 .8rem 2rem;color:#111}
a{color:#0645ad}header{padding:.6rem 0;border-bottom:1px solid #ddd}header a{margin-right:.8rem}
h1{font-size:1.5rem;line-height:1.25;overflow-wrap:anywhere}h2{font-size:1.2rem;margin-top:1.6rem}
.scroll{overflow-x:auto}table{border-collapse:collapse;width:100%}
td,th{padding:.35rem .5rem;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}
td.n,th.n{text-align:right;white-space:nowrap}.hash{font-family:monospace;overflow-wrap:anywhere}
small,.muted{color:#555}form{margin:1rem 0}input,select,button,textarea{font:inherit;max-width:100%}
ol.timeline{padding-left:1.2rem}ol.timeline li{margin:.3rem 0}svg{max-width:100%;height:auto}
.pages a{margin-right:1.2rem}.ok{color:#0a6b2d;font-weight:700}.bad{color:#a40000;font-weight:700}#steps,#verdict,.facts td{overflow-wrap:anywhere}
"""

NAVIGATION = (
    ("/", "Notices"),
    ("/portal/savings", "Savings"),
    ("/portal/verify", "Check a bid receipt"),
    ("/docs", "API"),
)


def text(value: Any) -> str:
    """A value from the data, escaped; ``-`` for nothing."""
    return "-" if value is None or value == "" else escape(str(value))


def link(path: str, label: Any) -> str:
    return f'<a href="{escape(path)}">{text(label)}</a>'


def segment(value: str) -> str:
    """One path segment of a URL: percent-encoded but for the characters a segment may
    hold as they are (RFC 3986 pchar), so that ids such as ``<ocid>:contract:lot-1`` read."""
    return quote(value, safe=":@!$&'()*+,;=")


def money(amount: Any, currency: Any) -> str:
    return f"{text(amount)} {text(currency)}"


def facts(rows: Iterable[tuple[str, str]]) -> str:
    """A two-column table of labels and HTML values (already escaped)."""
    body = "".join(f"<tr><th>{escape(label)}</th><td>{value}</td></tr>" for label, value in rows)
    return f'<div class="scroll"><table class="facts">{body}</table></div>'


def table(
    headers: Sequence[str], rows: Iterable[Sequence[str]], numeric: frozenset[int] = frozenset()
) -> str:
    """A table of HTML cells (already escaped); the columns in ``numeric`` align right."""

    def cls(index: int) -> str:
        return ' class="n"' if index in numeric else ""

    head = "".join(f"<th{cls(i)}>{escape(h)}</th>" for i, h in enumerate(headers))
    body = "".join(
        "<tr>" + "".join(f"<td{cls(i)}>{cell}</td>" for i, cell in enumerate(row)) + "</tr>"
        for row in rows
    )
    if not body:
        return '<p class="muted">None yet.</p>'
    return f'<div class="scroll"><table><tr>{head}</tr>{body}</table></div>'


def page(title: str, body: str, status: int = 200, head: str = "") -> HTMLResponse:
    """A whole page; ``head`` is more of the head, already escaped, such as links."""
    navigation = "".join(f'<a href="{path}">{label}</a>' for path, label in NAVIGATION)
    html = (
        '<!doctype html><html lang="en"><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style>{head}"
        f"<header>{navigation}</header><main><h1>{escape(title)}</h1>{body}</main></html>"
    )
    return HTMLResponse(html, status)


def feed_links(base: str) -> str:
    """The head's links to the notices' Atom feed and the OCDS releases, from ``base``."""
    return (
        f'<link rel="alternate" type="application/atom+xml" title="Notices"'
        f' href="{escape(base)}ocds/releases.atom">'
    )


def not_found(what: str) -> HTMLResponse:
    return page("Not found", f"<p>There is no {escape(what)}.</p>", status=404)


def bad_request(problem: str, first_page: str) -> HTMLResponse:
    body = f"<p>{escape(problem)}.</p><p>{link(first_page, 'Start again from the first page')}</p>"
    return page("Bad request", body, status=400)
