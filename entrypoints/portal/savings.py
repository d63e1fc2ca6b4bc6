"""The savings dashboard, ``/portal/savings``, and its numbers as CSV, ``/portal/savings.csv``.

The same sums as ``GET /savings`` (``publication.savings.summarise`` over the savings read
model), per currency: estimated against awarded value overall and by buyer, CPV division,
procedure type (with or without an auction) and month, as bar charts with their numbers."""

import csv
import io
from collections.abc import Callable, Sequence
from decimal import Decimal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from entrypoints.portal import reads as portal_reads
from entrypoints.portal.charts import Bar, bar_chart
from entrypoints.portal.html import facts, link, money, page, segment, table, text
from publication import savings
from readmodels import savings_view

router = APIRouter(include_in_schema=False)

MOST_BARS = 12  # a chart stays readable at a glance; the table and the CSV have every group
MOST_ROWS = 30
PROCEDURES = {
    "open": "open, no auction",
    "open_with_auction": "open with auction",
    "direct_purchase": "direct purchase from the catalogue",
    "price_quotation": "price quotation, catalogue suppliers",
}


async def _summaries(request: Request) -> dict[str, savings.Summary]:
    by_currency: dict[str, list[savings.AwardedLot]] = {}
    for lot in await savings_view.awarded_lots(request.app.state.pool):
        by_currency.setdefault(lot.currency, []).append(lot)
    return {currency: savings.summarise(lots) for currency, lots in sorted(by_currency.items())}


def percent(ratio: Decimal | None) -> str:
    return "-" if ratio is None else f"{ratio * 100:.2f}%"


@router.get("/portal/savings", response_class=HTMLResponse)
async def dashboard(request: Request) -> HTMLResponse:
    summaries = await _summaries(request)
    buyers = {g.key for s in summaries.values() for g in s.by_buyer}
    names = await portal_reads.party_names(request.app.state.pool, buyers)
    body = (
        "<p>What each awarded lot was expected to cost (the estimated value) against what it was"
        " awarded for. Saving = estimated - awarded; its share is weighted by value. Numbers: "
        f"{link('/portal/savings.csv', 'CSV')}, {link('/savings', 'JSON')}.</p>"
    )
    if not summaries:
        body += '<p class="muted">No lot is awarded yet.</p>'
    for currency, summary in summaries.items():
        body += _currency(currency, summary, names)
    return page("Savings", body)


def _currency(currency: str, summary: savings.Summary, names: dict[str, str]) -> str:
    total = summary.total
    overview = facts(
        [
            ("Estimated", money(total.estimated, currency)),
            ("Awarded", money(total.awarded, currency)),
            (
                "Saving",
                f"<strong>{money(total.saving, currency)} ({percent(total.relative_saving)})</strong>",
            ),
            (
                "Of it, added by auctions",
                f"{money(total.auction_saving, currency)} ({percent(total.auction_share)})",
            ),
            ("Tenders, lots awarded", f"{summary.tenders}, {total.lots}"),
            ("Bidders per tender", text(summary.average_bidders)),
            (
                "Won by SMEs",
                f"{percent(summary.sme_contract_share)} of the lots, {percent(summary.sme_value_share)} of the value",
            ),
        ]
    )
    months = list(summary.by_month)[-MOST_BARS:]  # the latest, in order
    return (
        f'<h2 id="{text(currency)}">In {text(currency)}</h2>{overview}'
        + _grouping(
            "By buyer", currency, summary.by_buyer, lambda k: names.get(k, k), buyer_links=True
        )
        + _grouping("By CPV division", currency, summary.by_cpv_division, lambda k: f"CPV {k}")
        + _grouping(
            "By procedure type", currency, summary.by_procedure_type, lambda k: PROCEDURES.get(k, k)
        )
        + _grouping("By month of the award", currency, summary.by_month, str, chart=months)
    )


def _grouping(
    title: str,
    currency: str,
    groups: Sequence[savings.GroupTotals],
    label: Callable[[str], str],
    chart: Sequence[savings.GroupTotals] | None = None,
    buyer_links: bool = False,
) -> str:
    largest = sorted(groups, key=lambda g: (-g.estimated, g.key))
    shown = chart if chart is not None else largest[:MOST_BARS]
    bars = [Bar(label(g.key), g.estimated, g.awarded, percent(g.relative_saving)) for g in shown]

    def name(key: str) -> str:
        return (
            link(f"/portal/buyers/{segment(key)}", label(key)) if buyer_links else text(label(key))
        )

    rows = [
        [
            name(g.key),
            text(g.lots),
            text(g.estimated),
            text(g.awarded),
            text(g.saving),
            percent(g.relative_saving),
            percent(g.auction_share),
        ]
        for g in (largest if chart is None else groups)[:MOST_ROWS]
    ]
    more = (
        f"<p><small>{len(groups) - MOST_ROWS} more in the CSV.</small></p>"
        if len(groups) > MOST_ROWS
        else ""
    )
    headers = ["", "Lots", f"Estimated ({currency})", "Awarded", "Saving", "Saving %", "By auction"]
    return (
        f"<h3>{text(title)}</h3>"
        + bar_chart(f"{title}: estimated and awarded value in {currency}", bars)
        + table(headers, rows, frozenset({1, 2, 3, 4, 5, 6}))
        + more
    )


CSV_HEADER = [
    "currency", "grouping", "key", "lots", "tenders", "estimated", "awarded", "saving",
    "relative_saving", "auction_saving", "auction_share",
]  # fmt: skip


@router.get("/portal/savings.csv")
async def savings_csv(request: Request) -> Response:
    """Every total of the dashboard, one row per group, then one row per awarded lot."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for currency, summary in (await _summaries(request)).items():
        for grouping, groups in (
            ("total", (summary.total,)),
            ("buyer", summary.by_buyer),
            ("cpv_division", summary.by_cpv_division),
            ("procedure_type", summary.by_procedure_type),
            ("month", summary.by_month),
        ):
            for g in groups:
                writer.writerow(
                    [currency, grouping, g.key, g.lots, g.tenders, g.estimated, g.awarded, g.saving,
                     _blank(g.relative_saving), g.auction_saving, _blank(g.auction_share)]
                )  # fmt: skip
        for lot in summary.lots:
            writer.writerow(
                [currency, "lot", f"{lot.ocid}/{lot.lot_id}", 1, 1, lot.estimated, lot.awarded,
                 lot.saving, lot.relative_saving, lot.auction_saving, _blank(lot.auction_share)]
            )  # fmt: skip
    headers = {"Content-Disposition": 'attachment; filename="savings.csv"'}
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)


def _blank(ratio: Decimal | None) -> str:
    return "" if ratio is None else str(ratio)
