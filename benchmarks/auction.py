"""The electronic reverse auction live, on the embedded default, with figures to compare.

Run from the repository root::

    ./dev bench auction [--bidders N] [--interval S] [--seconds D] [--workers W]

What it does, in one run on one machine (the platform is started as ``benchmarks.publish``
starts it, with a minimum tender period of 0 and an auction notice of 1 s):

1. Sets up what an auction needs, untimed: ``N`` suppliers with their own keys, a committee
   of 3 (threshold 2), a tender with an auction (fixed time, ``D`` seconds, decrement
   0.5 %), one sealed bid per supplier, the deadline, the opening with 2 shares, every bid
   qualified, the lot completed and the auction scheduled.
2. Every bidder follows its own view over Server-Sent Events
   (``GET /tenders/{ocid}/auctions/{lot}/live``), each on a raw connection of its own.
3. Once the auction is open, every bidder sends a new price every ``S`` seconds (phases
   spread evenly), the most it may offer (``your_next_price_at_most``), on a keep-alive
   connection of its own, until 2 s before the close.
4. For every accepted price (the event's sequence is the auction version its view carries):
   the answer's round trip, and the time from sending it until *every* bidder has received
   a view of that version or later ("every bidder's updated rank"), p50/p99/max. Views are
   coalesced under load: a bidder that is behind gets the latest, so a view can cover
   several prices. Rank updates per second are the views the bidders received per second.
   With one API process the views come from the process that recorded the price; beside
   them, the stream's path is timed too: from sending a price until the faust projection
   of the auction topic has the new views in PostgreSQL and announces them (a LISTEN on
   ``auction_views``), which is how a bidder connected to another API process learns it.
5. Baselines on the same services: ``raw_postgres`` and ``raw_kafka`` of
   ``benchmarks.publish``, and the accepted prices per second as a fraction of each.

It prints a table and writes the figures as JSON to ``--out``. It asserts nothing.
"""

import argparse
import asyncio
import bisect
import json
import math
import signal
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil
from rich.table import Table

from benchmarks.baselines import measure_baselines
from benchmarks.bids import BASELINE_CONCURRENCY, SEALED_WITHIN
from benchmarks.connections import api_client, event_lines
from benchmarks.figures import (
    baseline_ms,
    baseline_rows,
    cost_table,
    cpu_cost,
    fmt,
    per,
)
from benchmarks.harness import Running, console, register_officer, run_with_short_periods, until
from benchmarks.raw_http import connect, failures, http_request, latency_ms, send_all
from benchmarks.sealed_parties import (
    Party,
    bearer,
    bid_request,
    committee_of,
    hand_in,
    register_suppliers,
    seal_bids,
    sealed_tender,
)
from benchmarks.usage import CpuMeter, idle_cores

LOT = "lot-1"
DECREMENT = Decimal("0.50")
TARGETS = {"p99_every_rank_ms": 50.0}


@dataclass
class Sent:
    bidder: str
    sent: float
    answered: float
    status: int
    version: int | None  # the auction version of the accepted price
    refusal: str | None = None  # the problem's code when refused


@dataclass
class Follower:
    """One bidder's live stream: when each view arrived, and its version."""

    bidder: str
    received: list[tuple[float, int]] = field(default_factory=list)
    until: float = math.inf  # wall clock: the auction's close, once known


async def follow(url: str, path: str, bidder: Party, follower: Follower) -> None:
    """Read the bidder's Server-Sent Events on a raw connection until the stream ends at
    the auction's close; a stream closed before it is opened again."""
    request = (
        f"GET {path}/live HTTP/1.1\r\nHost: {httpx.URL(url).host}\r\n"
        f"Authorization: Bearer {bidder.token}\r\nAccept: text/event-stream\r\n\r\n".encode()
    )
    async for data in event_lines(url, request, lambda: time.time() < follower.until):
        follower.received.append((time.monotonic(), json.loads(data)["version"]))


async def bid_prices(
    url: str, path: str, bidder: Party, start_price: Decimal, until_time: float, interval: float
) -> list[Sent]:
    """Send the most the bidder may offer every ``interval`` seconds until ``until_time``."""
    connection = await connect(url)
    price, sent = start_price, []
    try:
        next_at = time.monotonic()
        while next_at < until_time:
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            next_at = max(next_at + interval, time.monotonic())  # behind: skip, never rush
            body = json.dumps({"price": str(price)}).encode()
            connection.request = http_request(url, f"{path}/prices", body, bidder.token)
            started = time.monotonic()
            version, refusal = None, None
            try:
                status, answer = await connection.send()
                reply = json.loads(answer)
            except (OSError, EOFError, TimeoutError, ValueError) as error:
                sent.append(Sent(bidder.id, started, time.monotonic(), 0, None, repr(error)))
                continue
            if status == 201:
                version = reply["events"][0]["sequence"]
                price = Decimal(reply["view"]["your_next_price_at_most"])
            else:
                refusal = f"{status} {reply.get('code')}"
            sent.append(Sent(bidder.id, started, time.monotonic(), status, version, refusal))
    finally:
        await connection.close()
    return sent


def every_rank_latency(prices: Sequence[Sent], followers: Sequence[Follower]) -> list[float]:
    """Per accepted price: ms from sending it until every follower had a view that recent."""
    seen_by = [_first_seen(follower) for follower in followers]
    latencies = []
    for price in prices:
        if price.version is None:
            continue
        arrivals = [_first_at_or_after(seen, price.version) for seen in seen_by]
        if all(at is not None for at in arrivals):
            latencies.append((max(at for at in arrivals if at is not None) - price.sent) * 1000)
    return latencies


def _first_seen(follower: Follower) -> tuple[list[int], list[float]]:
    """The versions the follower received, ascending, each with the earliest time it had
    that version or a later one."""
    by_version: dict[int, float] = {}
    for at, version in follower.received:
        by_version[version] = min(at, by_version.get(version, math.inf))
    versions = sorted(by_version)
    earliest, running = [0.0] * len(versions), math.inf
    for index in range(len(versions) - 1, -1, -1):
        running = min(running, by_version[versions[index]])
        earliest[index] = running
    return versions, earliest


def _first_at_or_after(seen: tuple[list[int], list[float]], version: int) -> float | None:
    versions, earliest = seen
    index = bisect.bisect_left(versions, version)
    return earliest[index] if index < len(versions) else None


async def prepare(run: Running, client: httpx.AsyncClient, args: argparse.Namespace) -> Any:
    operator = run.platform.settings.admin_token or ""
    officer = await register_officer(client, operator)
    agency_id = (await client.get("/me", headers=bearer(officer))).json()["agency_id"]
    members = await committee_of(client, operator, agency_id)
    suppliers, _ = await register_suppliers(run.api_url, args.bidders)
    rules = {
        "minimum_decrement": str(DECREMENT),
        "ends": "fixed_time",
        "duration_seconds": args.seconds,
    }
    tender = await sealed_tender(client, officer, members, timedelta(seconds=8), auction=rules)
    sealed, _ = seal_bids(tender, suppliers, 1)
    answers = await send_all(
        run.api_url,
        [bid_request(run.api_url, mine[0], p) for mine, p in zip(sealed, suppliers, strict=True)],
        32,
    )
    console.print(f"{len(suppliers)} sealed bids in, {failures(answers) or 'no failures'}")
    await asyncio.sleep(max(0.0, (tender.deadline - datetime.now(UTC)).total_seconds()))
    connection = await asyncpg.connect(run.database_url)
    try:

        async def log_sealed() -> bool:
            query = "SELECT status FROM bid_logs WHERE ocid = $1"
            return bool(await connection.fetchval(query, tender.ocid) == "sealed")

        await until(log_sealed, SEALED_WITHIN, f"the bid log of {tender.ocid} being sealed")
        for member in members[:2]:
            (await hand_in(client, member, tender.ocid)).raise_for_status()
        bid_ids = [
            row["bid_id"]
            for row in await connection.fetch(
                "SELECT bid_id FROM opened_bids WHERE ocid = $1 AND outcome = 'opened'",
                tender.ocid,
            )
        ]
    finally:
        await connection.close()
    evaluation = f"/tenders/{tender.ocid}/evaluation"
    for bid_id in bid_ids:
        (
            await client.post(
                f"{evaluation}/qualifications",
                json={"bid_id": bid_id},
                headers=bearer(members[0].token),
            )
        ).raise_for_status()
    (
        await client.post(
            f"{evaluation}/lot-completions", json={"lot_id": LOT}, headers=bearer(officer)
        )
    ).raise_for_status()
    return tender, officer, suppliers


async def measure(run: Running, args: argparse.Namespace) -> dict[str, Any]:
    main_task = asyncio.current_task()
    assert main_task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main_task.cancel)
    async with api_client(run.api_url, timeout=600) as client:
        await run.until_answering(client)
        tender, officer, suppliers = await prepare(run, client, args)
        console.print("the idle platform's CPU")
        idle = await idle_cores(run.components)
        starts_at = datetime.now(UTC) + timedelta(seconds=3)
        scheduled = await client.post(
            f"/tenders/{tender.ocid}/auctions",
            json={"lot_id": LOT, "starts_at": starts_at.isoformat()},
            headers=bearer(officer),
        )
        scheduled.raise_for_status()
        path = f"/tenders/{tender.ocid}/auctions/{LOT}"

        async def projected() -> bool:
            return (await client.get(path)).status_code == 200

        await until(projected, 30, "the auction's read model")
        followers = [Follower(s.id) for s in suppliers]
        streams = [
            asyncio.create_task(follow(run.api_url, path, s, f))
            for s, f in zip(suppliers, followers, strict=True)
        ]

        async def is_open() -> bool:
            return bool((await client.get(path)).json()["status"] == "open")

        await until(is_open, 30, "the auction opening")
        document = (await client.get(path)).json()
        closes = datetime.fromisoformat(document["closes_at"])
        for follower in followers:
            follower.until = closes.timestamp() + 1.0
        stop_at = time.monotonic() + (closes - datetime.now(UTC)).total_seconds() - 2
        views = {
            s.id: (await client.get(path, headers=bearer(s.token))).json()["view"]
            for s in suppliers
        }
        console.print(
            f"auction open: {len(suppliers)} bidders, a price each every {args.interval}s"
            f" for {stop_at - time.monotonic():.0f}s"
        )
        announced: list[tuple[float, int]] = []
        listener = await asyncpg.connect(run.database_url)
        await listener.add_listener(
            "auction_views",
            lambda *args: announced.append((time.monotonic(), json.loads(args[3])["version"])),
        )
        client_process = {"benchmark client": [psutil.Process()]}
        meter = CpuMeter(lambda: run.components() | client_process).start()
        started = time.monotonic()

        async def bidder(number: int, supplier: Party) -> list[Sent]:
            await asyncio.sleep(args.interval * number / len(suppliers))  # spread the phases
            first = Decimal(views[supplier.id]["your_next_price_at_most"])
            return await bid_prices(run.api_url, path, supplier, first, stop_at, args.interval)

        sent_lists = await asyncio.gather(*(bidder(n, s) for n, s in enumerate(suppliers)))
        seconds = time.monotonic() - started
        used = meter.stop()
        console.print("prices sent; waiting for the close")
        try:
            await asyncio.wait_for(asyncio.gather(*streams), timeout=args.seconds + 60)
        except TimeoutError:
            console.print("some bidders' streams did not end at the close; stopped them")
        await listener.close()

    prices = [p for sent in sent_lists for p in sent]
    accepted = [p for p in prices if p.version is not None]
    every_rank = every_rank_latency(accepted, followers)
    stream = Follower("the stream's read model", received=announced)
    through_stream = every_rank_latency(accepted, [stream])
    views_received = sum(len(f.received) for f in followers)
    baselines = await measure_baselines(
        run.database_url,
        run.bootstrap,
        args.baseline_count,
        BASELINE_CONCURRENCY,
        run.components,
        idle,
    )
    refused = Counter(p.refusal for p in prices if p.refusal is not None)
    why = ", ".join(f"{n} {k}" for k, n in refused.items())
    why = why or "no price sent"
    per_row = baseline_ms(baselines)
    cost = cpu_cost(used, len(accepted), "price", why, per_row, idle=idle, seconds=seconds)
    accepted_per_s = per(len(accepted), seconds)
    return {
        "config": {
            "bidders": len(suppliers),
            "interval_s": args.interval,
            "auction_seconds": args.seconds,
            "workers": args.workers,
            "cores": psutil.cpu_count(),
            "client": "raw keep-alive HTTP/1.1 and raw SSE connections, in one process",
        },
        "seconds": seconds,
        "prices_sent": len(prices),
        "prices_accepted": len(accepted),
        "refused": dict(Counter(p.refusal for p in prices if p.refusal is not None)),
        "prices_per_s": accepted_per_s,
        "answer_ms": latency_ms([(p.answered - p.sent) * 1000 for p in prices]),
        "every_rank_ms": latency_ms(every_rank),
        "through_stream_ms": latency_ms(through_stream),
        "prices_measured": len(every_rank),
        "views_received": views_received,
        "rank_updates_per_s": per(views_received, seconds),
        "cpu_during_auction": cost,
        "baselines": baselines,
        "targets": TARGETS,
    }


def report(results: dict[str, Any]) -> None:
    config, base = results["config"], results["baselines"]
    cost = results["cpu_during_auction"]
    table = Table(title=f"Reverse auction, {config['bidders']} bidders, embedded default")
    for column in ("figure", "measured", "target"):
        table.add_column(column, justify="left" if column == "figure" else "right")
    every, answer = results["every_rank_ms"], results["answer_ms"]
    stream = results["through_stream_ms"]
    rows = [
        (
            "prices sent / accepted",
            f"{results['prices_sent']:,} / {results['prices_accepted']:,}",
            "",
        ),
        ("refused", ", ".join(f"{k}: {v}" for k, v in results["refused"].items()) or "none", ""),
        ("accepted prices/s", fmt(results["prices_per_s"], 0), ""),
        (
            "rank updates/s (views received by all bidders)",
            fmt(results["rank_updates_per_s"], 0),
            "",
        ),
        (
            "platform CPU ms / price, all / net of idle",
            f"{fmt(cost['platform_ms_per_unit'])} / {fmt(cost['net_platform_ms_per_unit'])}",
            "",
        ),
        ("price answer p50 / p99 ms", f"{fmt(answer['p50'], 1)} / {fmt(answer['p99'], 1)}", ""),
        ("new price -> every bidder's rank p50 ms", fmt(every["p50"], 1), ""),
        ("new price -> every bidder's rank p99 ms", fmt(every["p99"], 1), "<= 50"),
        ("new price -> every bidder's rank max ms", fmt(every["max"], 1), ""),
        (
            "new price -> views via Kafka + faust p50 / p99 ms",
            f"{fmt(stream['p50'], 1)} / {fmt(stream['p99'], 1)}",
            "",
        ),
        *baseline_rows(base, results["prices_per_s"], "price"),
    ]
    for row in rows:
        table.add_row(*row)
    console.print(table)
    title = f"During the auction ({results['seconds']:.1f} s, {config['cores']} cores)"
    console.print(cost_table(title, cost, results["seconds"]))


def arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.auction", description=__doc__.split("\n")[0] if __doc__ else None
    )
    parser.add_argument("--bidders", type=int, default=50, help="bidders in the auction (50)")
    parser.add_argument(
        "--interval", type=float, default=0.1, help="seconds between a bidder's prices (0.1)"
    )
    parser.add_argument(
        "--seconds", type=int, default=40, help="the auction's duration (40, at least 10)"
    )
    parser.add_argument("--workers", type=int, default=1, help="stream workers")
    parser.add_argument("--baseline-count", type=int, default=10_000, help="rows and messages")
    parser.add_argument("--out", type=Path, default=Path("bench-results/auction.json"))
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    run_with_short_periods(arguments(argv), measure, report, timedelta(seconds=1))


if __name__ == "__main__":
    main()
