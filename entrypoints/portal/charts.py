"""Horizontal bar charts drawn on the server as inline SVG: no script, a few hundred bytes
a bar, and they scale to a phone's width.

Each group gets its name and saving in percent on one line, and under it two bars on one
scale, the estimated value (grey) and the awarded value (blue), to compare at a glance."""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape

WIDTH = 360  # a phone's width, so that the text keeps its size there
ROW = 44  # a group: its name and saving on one line, the two bars under it
BAR = 10


@dataclass(frozen=True)
class Bar:
    label: str
    estimated: Decimal
    awarded: Decimal
    saving_percent: str  # already formatted, such as "12.50%"


def _short(label: str, most: int = 40) -> str:
    return label if len(label) <= most else label[: most - 1] + "…"


def bar_chart(title: str, bars: Sequence[Bar]) -> str:
    """An SVG of estimated against awarded value per group, on one scale."""
    top = max((max(b.estimated, b.awarded) for b in bars), default=Decimal(0))

    def length(amount: Decimal) -> int:
        return 0 if top <= 0 else max(1, round(float(amount / top) * WIDTH))

    height = ROW * len(bars) + 22
    rows = []
    for index, bar in enumerate(bars):
        y = 22 + index * ROW
        rows.append(
            f'<text x="0" y="{y + 12}">{escape(_short(bar.label))}</text>'
            f'<text x="{WIDTH}" y="{y + 12}" text-anchor="end">{escape(bar.saving_percent)}</text>'
            f'<rect x="0" y="{y + 16}" width="{length(bar.estimated)}" height="{BAR}" fill="#b8b8b8"/>'
            f'<rect x="0" y="{y + 16 + BAR + 2}" width="{length(bar.awarded)}" height="{BAR}" fill="#2b6cb0"/>'
        )
    legend = (
        '<rect x="0" y="4" width="10" height="10" fill="#b8b8b8"/>'
        '<text x="14" y="13">estimated</text>'
        '<rect x="90" y="4" width="10" height="10" fill="#2b6cb0"/>'
        '<text x="104" y="13">awarded</text>'
        f'<text x="{WIDTH}" y="13" text-anchor="end">saving</text>'
    )
    return (
        f'<svg role="img" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}"'
        f' font-size="13" font-family="system-ui,sans-serif"><title>{escape(title)}</title>'
        f"{legend}{''.join(rows)}</svg>"
    )
