"""Public reads and live notices, on the embedded default, with figures to compare.

Run from the repository root::

    ./dev bench reads [--releases N] [--requests R] [--concurrency C] [--awards A]

What it does, in one run on one machine (the platform is started as ``benchmarks.publish``
starts it, with a minimum tender period of 0 and an auction notice of 2 s):

1. Real procedures: the demo market (``entrypoints.demo.story``: 8 tenders with sealed
   bids, auctions, awards, a complaint, contracts amended, paid and completed) is played
   through the API, and the streams record their releases and read models.
2. Loading: those procedures' rows are cloned under fresh ocids (``<ocid>-c<n>``) until the
   releases table holds ``N`` releases (100,000 by default), with their tenders, public
   bid log and record rows, written with COPY (asyncpg ``copy_records_to_table``), not
   through the event store: the reads measured do not depend on how the rows came, and
   replaying 100,000 releases' worth of procedures would take hours here. Not timed in the
   figures.
3. Reads: for each endpoint, ``R`` GETs over ``C`` keep-alive connections (raw HTTP/1.1,
   as ``benchmarks.bids.send_all`` sends, to spare the client's CPU): the tender list
   (``GET /tenders``, first page of 50), a tender page in HTML (``GET /notices/{ocid}``) and
   in JSON (``GET /tenders/{ocid}``), and a record package (``GET /ocds/records/{ocid}``),
   each of a random cloned ocid. Beside each, in the same run, the same rows read with plain
   asyncpg at the same concurrency (the queries the endpoint makes, nothing else).
4. Award latency: ``A`` tenders are taken to the award (two sealed bids each, opened with
   2 of 3 shares, qualified, ranked), then awarded one every 100 ms. For each, from the
   AwardDecided record on Kafka (its timestamp, set by the relay as it sends it) to the
   ``award`` release arriving on a Server-Sent Events stream (``GET /ocds/releases/live
   ?tag=award``) and to the first ``GET /ocds/records/{ocid}`` that shows it (polled every
   10 ms per award, so up to 10 ms late).

It prints a table and writes the figures as JSON to ``--out``. It asserts nothing.
"""

import argparse
import asyncio
import contextlib
import json
import math
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil
from aiokafka import AIOKafkaConsumer
from rich.table import Table

from adapters.kafka.topology import EVALUATIONS
from benchmarks.connections import api_client, event_lines
from benchmarks.figures import baseline_cost, cost_line, cpu_cost, fmt, per
from benchmarks.harness import Running, console, run_with_short_periods, until
from benchmarks.procedure import PLANS
from benchmarks.raw_http import Answered, ask, connect, failures, latency_ms, send_all
from benchmarks.usage import CpuMeter, idle_cores
from entrypoints.demo.bodies import tender_body
from entrypoints.demo.story import Story
from readmodels import ocds_reads, reads
from readmodels.releases import COLUMNS as RELEASE_COLUMNS  # the release text last
from schemas.committee import CommitteeMaterial
from sdk.market import Market, Party, bid_content

TARGETS = {"reads_per_s": 1000.0, "p99_award_to_sse_ms": 200.0}
RECORD_COLUMNS = ("ocid", "position", "record")
# A cloned record ends with its own procedure's newest release, as the streams keep it.
_CLONED_RECORDS_POSITIONS = """
UPDATE records r SET position = n.position
FROM (SELECT ocid, max(position) AS position FROM releases GROUP BY ocid) n
WHERE n.ocid = r.ocid AND r.position <> n.position
"""
AWARD_EVERY = 0.1  # seconds between awards
POLL_EVERY = 0.01  # seconds between reads of an awarded tender's record


# 1 and 2: real procedures, then their rows cloned until the table is full


async def play_market(run: Running) -> list[str]:
    """The demo market on this platform; the ocids of its tenders, once their releases and
    read models have caught up with the store."""
    operator = run.platform.settings.admin_token or ""
    async with api_client(run.api_url, timeout=120) as http:
        story = Story(Market(http, operator), lambda _: None, suppliers=12, bidding_seconds=12.0)
        await story.play()
    ocids = [tender.ocid for tender in story.tenders]
    connection = await asyncpg.connect(run.database_url)
    try:

        async def settled() -> bool:
            query = "SELECT count(*) FROM outbox"
            return bool(await connection.fetchval(query) == 0)

        await until(settled, 60, "the outbox draining")
        await asyncio.sleep(2.0)  # the last batches' projections
    finally:
        await connection.close()
    return ocids


async def clone_rows(database_url: str, ocids: list[str], releases: int) -> dict[str, Any]:
    """Copies of the procedures' releases, tenders, bid log and record rows under fresh ocids
    until ``releases`` releases are stored; the figures of the load."""
    connection = await asyncpg.connect(database_url)  # jsonb as text: copied, not parsed
    try:
        template = await connection.fetch(
            f"SELECT {', '.join(RELEASE_COLUMNS[:-1])}, release::text AS release"
            " FROM releases WHERE ocid = ANY($1) ORDER BY position",
            ocids,
        )
        tenders = await connection.fetch(
            "SELECT ocid, buyer_id, status, cpv, submission_deadline, published_at, version,"
            " document::text AS document FROM tenders WHERE ocid = ANY($1)",
            ocids,
        )
        bid_logs = await connection.fetch(
            "SELECT * FROM public_bid_logs WHERE ocid = ANY($1)", ocids
        )
        records = await connection.fetch(
            "SELECT ocid, position, record FROM records WHERE ocid = ANY($1)", ocids
        )
        have = int(await connection.fetchval("SELECT count(*) FROM releases"))
        copies = max(0, math.ceil((releases - have) / max(len(template), 1)))
        started = time.monotonic()
        for first in range(0, copies, 500):  # in steps, so memory stays small
            numbers = range(first, min(first + 500, copies))
            await _copy(connection, "releases", RELEASE_COLUMNS, template, numbers, ocids)
            await _copy(connection, "tenders", tuple(tenders[0].keys()), tenders, numbers, ocids)
            await _copy(
                connection, "public_bid_logs", tuple(bid_logs[0].keys()), bid_logs, numbers, ocids
            )
            await _copy(connection, "records", RECORD_COLUMNS, records, numbers, ocids)
        seconds = time.monotonic() - started
        await connection.execute(_CLONED_RECORDS_POSITIONS)
        await connection.execute(
            "ANALYZE releases; ANALYZE tenders; ANALYZE public_bid_logs; ANALYZE records"
        )
        stored = int(await connection.fetchval("SELECT count(*) FROM releases"))
        size = await connection.fetchval(
            "SELECT pg_size_pretty(pg_total_relation_size('releases'))"
        )
    finally:
        await connection.close()
    return {
        "template_procedures": len(ocids),
        "template_releases": len(template),
        "copies": copies,
        "releases": stored,
        "tenders": copies * len(tenders) + len(tenders),
        "copy_seconds": seconds,
        "releases_per_s": (stored - have) / seconds if seconds else math.nan,
        "releases_table": size,
        "how": "real procedures' rows cloned under fresh ocids, written with COPY",
    }


async def _copy(
    connection: Any,
    table: str,
    columns: tuple[str, ...],
    rows: Sequence[Any],
    numbers: range,
    ocids: list[str],
) -> None:
    def cloned(value: Any, n: int) -> Any:
        if not isinstance(value, str):
            return value
        for ocid in ocids:
            value = value.replace(ocid, f"{ocid}-c{n}")
        return value

    records = [tuple(cloned(row[c], n) for c in columns) for n in numbers for row in rows]
    await connection.copy_records_to_table(table, records=records, columns=list(columns))


# 3: reads per second through the API, and the same rows through asyncpg


def get(url: str, path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {httpx.URL(url).host}\r\n\r\n".encode()


async def read_rate(url: str, paths: Sequence[str], concurrency: int) -> dict[str, Any]:
    started = time.monotonic()
    answers = await send_all(url, [get(url, path) for path in paths], concurrency)
    seconds = time.monotonic() - started
    return _rate(answers, seconds)


def _rate(answers: Sequence[Answered], seconds: float) -> dict[str, Any]:
    return {
        "reads": sum(1 for a in answers if a.status == 200),
        "reads_per_s": per(len(answers), seconds),
        "latency_ms": latency_ms([(a.answered - a.sent) * 1000 for a in answers]),
        "failed": failures(answers),
    }


async def asyncpg_rate(
    pool: Any, queries: Sequence[Callable[[Any], Awaitable[Any]]], concurrency: int
) -> dict[str, Any]:
    """The same rows as an endpoint, with plain asyncpg: ``concurrency`` connections that
    each take the next query waiting."""
    numbers = iter(range(len(queries)))
    latencies: list[float] = []

    async def one_connection() -> None:
        async with pool.acquire() as connection:
            for number in numbers:
                sent = time.monotonic()
                await queries[number](connection)
                latencies.append((time.monotonic() - sent) * 1000)

    started = time.monotonic()
    await asyncio.gather(*(one_connection() for _ in range(concurrency)))
    seconds = time.monotonic() - started
    return {"reads_per_s": per(len(queries), seconds), "latency_ms": latency_ms(latencies)}


def endpoint_queries(ocid: str) -> dict[str, Callable[[Any], Awaitable[Any]]]:
    async def tender_list(c: Any) -> Any:
        query = f"{reads.SELECT_TENDERS} ORDER BY t.published_at DESC, t.ocid DESC LIMIT 51"
        return await c.fetch(query)

    async def tender_page(c: Any) -> Any:
        return await c.fetchrow(reads.ONE_TENDER, ocid)

    async def record(c: Any) -> Any:
        return await ocds_reads.record_bytes(c, ocid)

    return {"list": tender_list, "page": tender_page, "record": record}


ENDPOINTS = {
    "GET /tenders": ("/tenders", "list"),
    "GET /notices/{ocid} (HTML)": ("/notices/{ocid}", "page"),
    "GET /tenders/{ocid}": ("/tenders/{ocid}", "page"),
    "GET /ocds/records/{ocid}": ("/ocds/records/{ocid}", "record"),
}


async def measure_reads(run: Running, args: argparse.Namespace) -> dict[str, Any]:
    connection = await asyncpg.connect(run.database_url)
    try:
        ocids = [r["ocid"] for r in await connection.fetch("SELECT ocid FROM tenders")]
    finally:
        await connection.close()
    rng = random.Random(2027)
    picks = [rng.choice(ocids) for _ in range(args.requests)]
    pool = await asyncpg.create_pool(
        run.database_url, min_size=args.concurrency, max_size=args.concurrency
    )
    figures: dict[str, Any] = {}
    console.print("the idle platform's CPU")
    idle = await idle_cores(run.components)
    try:
        for name, (path, query) in ENDPOINTS.items():
            paths = [path.format(ocid=ocid) for ocid in picks]
            await read_rate(run.api_url, paths[: args.concurrency * 4], args.concurrency)  # warm
            meter, started = CpuMeter(run.components).start(), time.monotonic()
            api = await read_rate(run.api_url, paths, args.concurrency)
            used, seconds = meter.stop(), time.monotonic() - started
            queries = [endpoint_queries(ocid)[query] for ocid in picks]
            postgres = CpuMeter(lambda: {"PostgreSQL": run.components()["PostgreSQL"]}).start()
            started = time.monotonic()
            plain = await asyncpg_rate(pool, queries, args.concurrency)
            plain_seconds = time.monotonic() - started
            plain["postgres_ms_per_read"] = baseline_cost(
                len(queries),
                plain_seconds,
                postgres.stop(whole_machine=False)["PostgreSQL"],
                "read",
                idle.get("PostgreSQL", 0.0),
            )["server_ms_per_unit"]
            why = ", ".join(f"{n} {k}" for k, n in api["failed"].items())
            baseline = {"asyncpg reading the same rows": plain["postgres_ms_per_read"]}
            api["cost"] = cpu_cost(
                used, api["reads"], "read", why, baseline, idle=idle, seconds=seconds
            )
            figures[name] = {"api": api, "asyncpg": plain}
            console.print(
                f"{name}: {fmt(api['reads_per_s'], 0)}/s through the API,"
                f" {fmt(plain['reads_per_s'], 0)}/s with asyncpg; {cost_line(api['cost'])}"
            )
    finally:
        await pool.close()
    return figures


# 4: from an award on Kafka to its release on the API and on the live stream


async def awaiting_award(run: Running, count: int) -> tuple[Market, Party, list[str]]:
    """``count`` tenders ranked and ready to award: their lead officer and ocids."""
    http = api_client(run.api_url, timeout=120)
    market = Market(http, run.platform.settings.admin_token or "")
    agency = await market.register_agency("Autoritatea de test", "RO-CUI-8800001")
    officers = [
        await market.register_officer(agency, f"Ofițer {n}", f"ofiter{n}@example.ro")
        for n in range(4)
    ]
    lead, members = officers[0], officers[1:]
    bidders = [
        await market.register_supplier(f"Ofertant {n} SRL", f"RO-CUI-880010{n}", f"o{n}@example.ro")
        for n in range(2)
    ]
    plan = PLANS[0]
    lot = plan.lots[0]
    items = {lot.id: [(item.id, item.quantity) for item in lot.items]}
    deadline = datetime.now(UTC) + timedelta(seconds=15 + count * 0.2)
    gate = asyncio.Semaphore(16)

    async def publish() -> tuple[str, CommitteeMaterial]:
        async with gate:
            ocid = await market.publish_tender(lead, tender_body(plan, deadline, auctions=False))
            return ocid, await market.name_committee(lead, ocid, members, 2)

    tenders = await asyncio.gather(*(publish() for _ in range(count)))

    async def bid(ocid: str, key: CommitteeMaterial, bidder: Party, share: str) -> None:
        async with gate:
            price = (lot.estimate * Decimal(share)).quantize(Decimal(1))
            await market.submit_bid(bidder, bid_content(ocid, bidder, {lot.id: price}, items), key)

    await asyncio.gather(
        *(
            bid(o, k, b, s)
            for o, k in tenders
            for b, s in zip(bidders, ("0.9", "0.95"), strict=True)
        )
    )
    await asyncio.sleep(max(0.0, (deadline - datetime.now(UTC)).total_seconds()) + 0.5)

    async def rank(ocid: str) -> None:
        async with gate:
            await market.until_sealed(ocid, 120)
            for member in members[:2]:
                await market.hand_in_share(member, ocid)
            for opened in await market.opened_bids(members[0], ocid):
                body = {"bid_id": opened["bid_id"]}
                await market.evaluate(members[0], ocid, "qualifications", body)
            await market.evaluate(lead, ocid, "lot-completions", {"lot_id": lot.id})

    await asyncio.gather(*(rank(ocid) for ocid, _ in tenders))
    return market, lead, [ocid for ocid, _ in tenders]


async def follow_awards(url: str, seen: dict[str, float]) -> None:
    """Read ``GET /ocds/releases/live?tag=award`` on a raw connection: when each ocid's award
    release arrived (wall clock, as Kafka's timestamps are)."""
    request = f"GET /ocds/releases/live?tag=award HTTP/1.1\r\nHost: {httpx.URL(url).host}\r\n\r\n"
    async for data in event_lines(url, request.encode()):  # opened again until cancelled
        seen.setdefault(json.loads(data)["ocid"], time.time())


async def visible_on_api(url: str, ocid: str, within: float = 60.0) -> float:
    """When ``GET /ocds/records/{ocid}`` first shows an award (wall clock); NaN if it does
    not within ``within`` seconds."""
    connection = await connect(url)
    give_up = time.monotonic() + within
    try:
        while time.monotonic() < give_up:
            answer = await ask(connection, get(url, f"/ocds/records/{ocid}"))
            if answer.status == 200 and b'"award"' in answer.body:
                return time.time()
            await asyncio.sleep(POLL_EVERY)
        return math.nan
    finally:
        await connection.close()


async def award_times_on_kafka(bootstrap: str, ocids: set[str]) -> dict[str, float]:
    """The timestamp of each tender's AwardDecided record on the evaluations topic."""
    consumer = AIOKafkaConsumer(
        EVALUATIONS.name,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        fetch_max_wait_ms=10,
    )
    await consumer.start()
    found: dict[str, float] = {}
    try:
        deadline = time.monotonic() + 60
        while len(found) < len(ocids) and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500, max_records=5000)
            for records in batches.values():
                for record in records:
                    envelope = json.loads(record.value)
                    ocid = envelope["aggregate_id"].split(":", 1)[0]
                    if envelope["event"]["type"] == "AwardDecided" and ocid in ocids:
                        found[ocid] = record.timestamp / 1000
    finally:
        await consumer.stop()
    return found


async def measure_awards(run: Running, args: argparse.Namespace) -> dict[str, Any]:
    market, lead, ocids = await awaiting_award(run, args.awards)
    console.print(f"{len(ocids)} tenders ranked; awarding one every {AWARD_EVERY * 1000:.0f} ms")
    on_sse: dict[str, float] = {}
    stream = asyncio.create_task(follow_awards(run.api_url, on_sse))
    await asyncio.sleep(1.0)  # the stream is open and listening
    polls = []
    try:
        for ocid in ocids:
            started = time.monotonic()
            await market.evaluate(lead, ocid, "awards", {"lot_id": PLANS[0].lots[0].id})
            polls.append(asyncio.create_task(visible_on_api(run.api_url, ocid)))
            await asyncio.sleep(max(0.0, AWARD_EVERY - (time.monotonic() - started)))
        on_api = dict(zip(ocids, await asyncio.gather(*polls), strict=True))

        async def all_streamed() -> bool:
            return len(on_sse) >= len(ocids)

        with contextlib.suppress(RuntimeError):
            await until(all_streamed, 30, "every award on the live stream")
    finally:
        stream.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await stream
        await market.http.aclose()
    on_kafka = await award_times_on_kafka(run.bootstrap, set(ocids))
    to_sse = [(on_sse[o] - on_kafka[o]) * 1000 for o in ocids if o in on_sse and o in on_kafka]
    to_api = [
        (on_api[o] - on_kafka[o]) * 1000
        for o in ocids
        if o in on_kafka and math.isfinite(on_api[o])
    ]
    return {
        "awards": len(ocids),
        "on_kafka": len(on_kafka),
        "on_sse": len(on_sse),
        "award_to_sse_ms": latency_ms(to_sse),
        "award_to_api_ms": latency_ms(to_api),
    }


async def measure(run: Running, args: argparse.Namespace) -> dict[str, Any]:
    async def api_up() -> bool:
        async with api_client(run.api_url, timeout=5) as client:
            with contextlib.suppress(httpx.TransportError):
                return (await client.get("/health")).status_code == 200
        return False

    await until(api_up, 60, "the API answering /health")
    console.print("playing the demo market: 8 procedures from publication to contracts")
    ocids = await play_market(run)
    console.print(f"cloning their rows up to {args.releases:,} releases")
    loaded = await clone_rows(run.database_url, ocids, args.releases)
    console.print(
        f"{loaded['releases']:,} releases stored ({loaded['releases_table']}),"
        f" copied at {loaded['releases_per_s']:,.0f}/s"
    )
    reads = await measure_reads(run, args)
    awards = await measure_awards(run, args)
    return {
        "config": {
            "releases": args.releases,
            "requests": args.requests,
            "concurrency": args.concurrency,
            "awards": args.awards,
            "workers": args.workers,
            "cores": psutil.cpu_count(),
            "client": "raw keep-alive HTTP/1.1 and a raw SSE connection, in one process",
            "note": "2 cores shared with other work while measured",
        },
        "load": loaded,
        "reads": reads,
        "awards": awards,
        "targets": TARGETS,
    }


def report(results: dict[str, Any]) -> None:
    config, loaded = results["config"], results["load"]
    table = Table(
        title=f"Public reads over {loaded['releases']:,} releases,"
        f" {config['concurrency']} connections, embedded default"
    )
    for column in ("figure", "measured", "asyncpg alone", "target"):
        table.add_column(column, justify="left" if column == "figure" else "right")
    for name, figures in results["reads"].items():
        api, plain = figures["api"], figures["asyncpg"]
        table.add_row(
            f"{name} reads/s",
            fmt(api["reads_per_s"], 0),
            fmt(plain["reads_per_s"], 0),
            ">= 1,000",
        )
        table.add_row(
            f"{name} platform CPU ms / read (PostgreSQL's alone)",
            fmt(api["cost"]["platform_ms_per_unit"], 3),
            fmt(plain["postgres_ms_per_read"], 3),
            "",
        )
        table.add_row(
            f"{name} p50 / p99 ms",
            f"{fmt(api['latency_ms']['p50'], 1)} / {fmt(api['latency_ms']['p99'], 1)}",
            f"{fmt(plain['latency_ms']['p50'], 1)} / {fmt(plain['latency_ms']['p99'], 1)}",
            "",
        )
    awards = results["awards"]
    sse, api = awards["award_to_sse_ms"], awards["award_to_api_ms"]
    table.add_row(
        f"award on Kafka -> SSE p50 / p99 ms ({awards['on_sse']} of {awards['awards']})",
        f"{fmt(sse['p50'], 0)} / {fmt(sse['p99'], 0)}",
        "",
        "p99 <= 200",
    )
    table.add_row(
        "award on Kafka -> GET /ocds/records p50 / p99 ms",
        f"{fmt(api['p50'], 0)} / {fmt(api['p99'], 0)}",
        "",
        "",
    )
    table.add_row(
        "releases loaded with COPY /s",
        fmt(loaded["releases_per_s"], 0),
        "",
        "",
    )
    console.print(table)
    for name, figures in results["reads"].items():
        cost = figures["api"]["cost"]
        used = ", ".join(f"{k} {fmt(v)}" for k, v in cost["ms_per_unit"].items())
        failed = figures["api"]["failed"]
        console.print(f"{name}: {cost_line(cost)}; CPU ms / read: {used}")
        if failed:
            console.print(f"{name}: failed {failed}")


def arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.reads", description=__doc__.split("\n")[0] if __doc__ else None
    )
    parser.add_argument("--releases", type=int, default=100_000, help="releases stored (100,000)")
    parser.add_argument("--requests", type=int, default=5_000, help="GETs per endpoint (5,000)")
    parser.add_argument("--concurrency", type=int, default=32, help="connections (32)")
    parser.add_argument("--awards", type=int, default=100, help="awards timed (100)")
    parser.add_argument("--workers", type=int, default=1, help="stream workers")
    parser.add_argument("--out", type=Path, default=Path("bench-results/reads.json"))
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    run_with_short_periods(arguments(argv), measure, report, timedelta(seconds=2))


if __name__ == "__main__":
    main()
