"""The figures every benchmark prints, as pure functions: rates and CPU cost per unit of work.

A rate depends on how busy the machine was; the CPU a unit of work costs depends much less,
so each benchmark reports, beside its rates, the CPU milliseconds one unit (a command, a
bid, a price, an event, a read) cost the platform, summed over its components (the API,
the stream workers, PostgreSQL and the broker; the benchmark's own client apart), and the
same cost of the raw baselines of the same run. Nothing here divides by a count or a
duration that may be zero: a phase that accepted nothing says so instead.
"""

import math
from collections.abc import Mapping, Sequence
from typing import Any

from rich.table import Table

PLATFORM = ("API", "stream workers", "PostgreSQL", "broker")

CpuSample = Mapping[str, Mapping[int, float]]  # component -> pid -> CPU seconds so far


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def per(amount: float, over: float) -> float:
    """``amount / over``, or NaN when ``over`` is zero, negative or not a number."""
    if not math.isfinite(over) or over <= 0:
        return math.nan
    return amount / over


def cpu_used(before: CpuSample, after: CpuSample) -> dict[str, float]:
    """CPU seconds each component used between two samples; a process born in between
    counts from zero, one that ended in between is not counted."""
    return {
        name: sum(max(0.0, t - before.get(name, {}).get(pid, 0.0)) for pid, t in pids.items())
        for name, pids in after.items()
    }


def why_nothing(failed: Mapping[str, int], sent: int | None = None) -> str:
    """Why a phase accepted nothing, from its failures counted by kind."""
    if failed:
        return ", ".join(f"{count} {kind}" for kind, count in failed.items())
    if sent == 0:
        return "nothing was sent"
    return "no answer was an acceptance"


def nothing_accepted(units: int, why: str) -> str | None:
    """``"accepted nothing: <why>"`` when ``units`` is zero, else None."""
    return None if units > 0 else f"accepted nothing: {why.removeprefix('accepted nothing: ')}"


def cpu_cost(
    used: Mapping[str, float],
    units: int,
    unit: str,
    why: str = "",
    baselines_ms: Mapping[str, float] | None = None,
    idle: Mapping[str, float] | None = None,
    seconds: float = math.nan,
) -> dict[str, Any]:
    """CPU ms per ``unit`` for each component and for the platform's components together.

    Idle, the platform keeps some CPU busy (consumers polling the broker, timers); given the
    cores each component used ``idle`` and the phase's ``seconds``, that background (at most
    what the component used) is taken out of the net figure, which then depends little on
    how long the phase took on a busy machine. The net figure over each baseline's ms per row or message says how many
    raw writes one unit costs. With no units, every figure is NaN and ``accepted_nothing``
    says why."""
    platform_s = sum(used.get(name, 0.0) for name in PLATFORM)
    # Each component's background is capped at what it used: a starved polling loop polls
    # less, and must not offset another component's work.
    background_s = (
        sum(min(used.get(name, 0.0), idle.get(name, 0.0) * seconds) for name in PLATFORM)
        if idle and math.isfinite(seconds)
        else 0.0
    )
    net_ms = per(max(0.0, platform_s - background_s) * 1000, units)
    return {
        "unit": unit,
        "units": units,
        "seconds": seconds,
        "cpu_s": dict(used),
        "idle_cores": dict(idle or {}),
        "ms_per_unit": {name: per(cpu_s * 1000, units) for name, cpu_s in used.items()},
        "platform_ms_per_unit": per(platform_s * 1000, units),
        "background_ms_per_unit": per(background_s * 1000, units),
        "net_platform_ms_per_unit": net_ms,
        "over_baselines": {name: per(net_ms, ms) for name, ms in (baselines_ms or {}).items()},
        "accepted_nothing": nothing_accepted(units, why or f"no {unit} was accepted"),
    }


def baseline_cost(
    rows: int, seconds: float, server_cpu_s: float, unit: str, idle_cores: float = 0.0
) -> dict[str, Any]:
    """A raw baseline's rate and the CPU ms its server spent per row or message, net of
    what the server uses idle (``idle_cores``) over the same time."""
    net_s = max(0.0, server_cpu_s - idle_cores * seconds)
    return {
        "unit": unit,
        "count": rows,
        "seconds": seconds,
        "per_s": per(rows, seconds),
        "server_cpu_s": server_cpu_s,
        "server_idle_cores": idle_cores,
        "server_ms_per_unit": per(net_s * 1000, rows),
    }


def baseline_ms(baselines: Mapping[str, Mapping[str, Any]]) -> dict[str, float]:
    """Each baseline's server CPU ms per row or message, by name, for ``cpu_cost``."""
    return {name: float(figures["server_ms_per_unit"]) for name, figures in baselines.items()}


def fmt(value: float, digits: int = 2) -> str:
    """A figure for a table: ``-`` for NaN, so that a phase with nothing shows no number."""
    if not math.isfinite(value):
        return "-"
    return f"{value:,.{digits}f}"


def cost_table(title: str, cost: Mapping[str, Any], seconds: float | None = None) -> Table:
    """The CPU a unit of work cost, by component, with the platform's sum and its ratio to
    the baselines; cores used too when the phase's duration is given."""
    unit = cost["unit"]
    table = Table(title=title)
    table.add_column("component")
    if seconds is not None:
        table.add_column("CPU cores used", justify="right")
    table.add_column(f"CPU ms / {unit}", justify="right")

    def row(name: str, cpu_s: float, ms: float) -> None:
        cores = [fmt(per(cpu_s, seconds))] if seconds is not None else []
        table.add_row(name, *cores, fmt(ms))

    for name, cpu_s in cost["cpu_s"].items():
        if name in PLATFORM:
            row(name, cpu_s, cost["ms_per_unit"][name])
    platform_s = sum(cost["cpu_s"].get(name, 0.0) for name in PLATFORM)
    row("platform (sum of the above)", platform_s, cost["platform_ms_per_unit"])
    if cost["idle_cores"]:
        background_ms = cost["background_ms_per_unit"]
        background_s = background_ms * cost["units"] / 1000
        row("  of which the idle platform's background", background_s, background_ms)
        net_s = platform_s - background_s
        row("platform net of that background", net_s, cost["net_platform_ms_per_unit"])
    for name, cpu_s in cost["cpu_s"].items():
        if name not in PLATFORM:
            row(f"{name} (not in the sum)", cpu_s, cost["ms_per_unit"][name])
    for name, ratio in cost["over_baselines"].items():
        table.add_row(
            f"platform over {name} (its server's CPU per write)",
            *[""] * (seconds is not None),
            fmt(ratio, 1),
        )
    if cost["accepted_nothing"]:
        table.caption = cost["accepted_nothing"]
    return table


def cost_line(cost: Mapping[str, Any]) -> str:
    """One line: the platform's CPU ms per unit, or why there is none."""
    if cost["accepted_nothing"]:
        return str(cost["accepted_nothing"])
    ratios = ", ".join(f"{fmt(ratio, 1)}x {name}" for name, ratio in cost["over_baselines"].items())
    net = cost["net_platform_ms_per_unit"]
    return (
        f"platform CPU {fmt(cost['platform_ms_per_unit'])} ms per {cost['unit']}"
        + (f", {fmt(net)} net of idle" if cost["idle_cores"] else "")
        + f" ({cost['units']:,} {cost['unit']}s)"
        + (f"; {ratios}" if ratios else "")
    )


BASELINE_KINDS = {
    "raw asyncpg": "one transaction per 1 KiB row",
    "raw aiokafka": "acks=all, each 1 KiB send awaited",
}


def baseline_rows(
    baselines: Mapping[str, Mapping[str, Any]], rate: float, unit: str
) -> list[tuple[str, str, str]]:
    """Table rows for each baseline: its rate, its server's CPU per row or message, and the
    platform's ``rate`` of ``unit`` over the baseline's rate."""
    rows = []
    for name, figures in baselines.items():
        raw = figures["unit"]
        kind = BASELINE_KINDS.get(name, "")
        failed = f" (failed: {figures['error']})" if figures.get("error") else ""
        rows += [
            (f"{name} {raw}s/s, {kind}{failed}", fmt(figures["per_s"], 0), ""),
            (f"  its server's CPU ms / {raw}", fmt(figures["server_ms_per_unit"], 3), ""),
            (f"  platform {unit}s/s over {raw}s/s", fmt(per(rate, figures["per_s"]), 3), ""),
        ]
    return rows
