"""The publication path end to end, on the embedded default, with figures to compare.

Run from the repository root::

    ./dev bench [--tenders N] [--concurrency C] [--workers W] [--rate R]

What it does, in one run on one machine:

1. Starts a platform of its own in a temporary data directory, from the launcher's pieces:
   the embedded PostgreSQL and Kafka-protocol broker (``Platform.start_services``), ``W``
   stream workers (``start_worker``), and the API served by uvicorn in a child process.
2. Registers an agency and an officer through the API, then publishes a few tenders and
   waits until they are in the read model, so that the workers have joined their group;
   idles 5 s and takes the memory of the idle platform.
3. Paced: ``--rate`` tenders a second (500 by default) for 6 s, a steady load below
   saturation, and the latency from acceptance to public visibility at that rate.
4. Load: ``C`` concurrent clients publish ``N`` tenders with ``POST /tenders``, each on a
   keep-alive connection of its own, sending a prepared request. A command is accepted
   when its 201 answer arrives (monotonic clock). ``--client httpx`` uses one shared
   ``httpx.AsyncClient`` instead; it costs several ms of CPU a request here, which the
   API under test then lacks on a 2-core machine (compare the client's CPU in both).
5. Visibility: during both runs one asyncpg connection polls the ``tenders`` read model every
   2 ms for the accepted tenders not yet seen, and takes the end of the query that first
   returns a tender as the moment it became visible (an upper bound, a query late at most).
   This reads PostgreSQL directly, so it adds no load on the API.
6. CPU used by each component from the load's first command until every tender is visible
   (the stream workers' catch-up included), in cores and in ms per command, the sum
   over the platform's components (API, workers, PostgreSQL, broker) and that sum over the
   baselines' server CPU per row or message; the benchmark client (load and poll, with the
   poll's PostgreSQL backend) and the whole machine are shown beside, not in the sum.
7. Memory, idle before and 5 s after the load: the resident set (RSS) of the API, the workers, every PostgreSQL
   process and the broker; also PSS, which counts PostgreSQL's shared buffers once.
8. The halves apart: the same load with the stream workers suspended (the API and
   PostgreSQL alone accept commands; the outbox fills), then the rate at which the
   resumed workers make the backlog visible.
9. Baselines on the same services: one-row-per-transaction inserts of ~1 KiB jsonb rows
   with a pool of ``C`` asyncpg connections, and ``C`` aiokafka senders each awaiting every
   ~1 KiB send with acks=all, each with the CPU its server (PostgreSQL, the broker) spent
   per row or message; then the platform's rate as a fraction of each.

Connections the API closes (after its 5 s keep-alive) are opened again; a phase that
accepted nothing says so ("accepted nothing: ...") and the run goes on.

It prints a table and writes the figures as JSON to ``--out``. It asserts nothing.
"""

import argparse
import asyncio
import contextlib
import json
import math
import signal
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil
from rich.table import Table

from adapters.settings import Settings
from benchmarks.baselines import measure_baselines
from benchmarks.connections import KeepAlive, api_client
from benchmarks.figures import (
    baseline_ms,
    baseline_rows,
    cost_table,
    cpu_cost,
    fmt,
    nothing_accepted,
    per,
    percentile,
    why_nothing,
)
from benchmarks.harness import (
    Running,
    console,
    register_officer,
    run_from_arguments,
    until,
)
from benchmarks.usage import CpuMeter, idle_cores, memory
from entrypoints.launcher import admin_token

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "tender.json"
WARM_UP_TENDERS = 50
POLL_EVERY = 0.002  # seconds between read-model polls
VISIBLE_WITHIN = 120.0  # seconds to wait for the last tender to show up
IDLE_BEFORE_MEMORY = 5.0
PACED_SECONDS = 6.0
TARGETS = {"commands_per_s": 1000.0, "p99_visible_ms": 100.0, "idle_rss_mb": 500.0}


def tender_request(url: str, token: str, body: bytes) -> bytes:
    """``POST /tenders`` with ``body``, ready to send on a ``KeepAlive`` connection."""
    head = (
        f"POST /tenders HTTP/1.1\r\nHost: {httpx.URL(url).host}\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def tender_body() -> bytes:
    body = json.loads(EXAMPLE.read_text())
    body["submission_deadline"] = (datetime.now(UTC) + timedelta(days=40)).isoformat()
    return json.dumps(body).encode()


class Visibility:
    """When each accepted tender was accepted, and when it was first seen in the read model."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.accepted: dict[str, float] = {}
        self.seen: dict[str, float] = {}
        self.pending: set[str] = set()

    def accept(self, ocid: str, at: float) -> None:
        self.accepted[ocid] = at
        self.pending.add(ocid)

    @contextlib.asynccontextmanager
    async def watching(self) -> AsyncIterator[None]:
        """Poll the read model while the body of the ``async with`` runs."""
        stopped = asyncio.Event()

        async def poll() -> None:
            while not stopped.is_set():
                if self.pending:
                    rows = await self.connection.fetch(
                        "SELECT ocid FROM tenders WHERE ocid = ANY($1::text[])", list(self.pending)
                    )
                    now = time.monotonic()
                    for row in rows:
                        self.seen[row["ocid"]] = now
                        self.pending.discard(row["ocid"])
                await asyncio.sleep(POLL_EVERY)

        task = asyncio.create_task(poll())
        try:
            yield
        finally:
            stopped.set()
            await task

    async def all_seen(self) -> bool:
        return not self.pending

    def latencies_ms(self) -> list[float]:
        return [
            max(0.0, self.seen[o] - at) * 1000 for o, at in self.accepted.items() if o in self.seen
        ]


Send = Callable[[], Awaitable[tuple[int, bytes]]]  # one POST /tenders: status and body


@contextlib.asynccontextmanager
async def clients(kind: str, url: str, token: str, concurrency: int) -> AsyncIterator[list[Send]]:
    """``concurrency`` ways to publish a tender, on one connection each."""
    body = tender_body()
    if kind == "httpx":
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        async with api_client(url, timeout=60, connections=concurrency) as client:

            async def send() -> tuple[int, bytes]:
                response = await client.post("/tenders", content=body, headers=headers)
                return response.status_code, response.content

            yield [send] * concurrency
        return
    connections = [await KeepAlive.open(url) for _ in range(concurrency)]
    for connection in connections:
        connection.request = tender_request(url, token, body)
    try:
        yield [connection.send for connection in connections]
    finally:
        for connection in connections:
            await connection.close()


async def publish(
    senders: Sequence[Send], count: int, visibility: Visibility, rate: float | None = None
) -> dict[str, Any]:
    """``count`` tenders, each sender one at a time; the acceptance rate and answer times.

    With ``rate``, tender number i is not sent before ``i / rate`` seconds from the start:
    a steady offered load, to see latency below saturation.
    """
    numbers = iter(range(count))  # shared by the senders: each takes the next number
    answers_ms: list[float] = []
    failures: Counter[str] = Counter()
    begin = time.monotonic()

    async def one_client(send: Send) -> None:
        for number in numbers:
            if rate is not None:
                await asyncio.sleep(max(0.0, begin + number / rate - time.monotonic()))
            sent = time.monotonic()
            try:
                status, body = await send()
            except (OSError, EOFError, TimeoutError, ValueError, httpx.HTTPError) as error:
                failures[type(error).__name__] += 1
                continue
            answered = time.monotonic()
            if status != 201:
                failures[f"HTTP {status}"] += 1
                continue
            visibility.accept(json.loads(body)["id"], answered)
            answers_ms.append((answered - sent) * 1000)

    started = time.monotonic()
    await asyncio.gather(*(one_client(send) for send in senders))
    seconds = time.monotonic() - started
    return {
        "accepted": len(answers_ms),
        "failed": dict(failures),
        "accepted_nothing": nothing_accepted(len(answers_ms), why_nothing(failures, count)),
        "seconds": seconds,
        "commands_per_s": per(len(answers_ms), seconds),
        "answer_ms": {
            "p50": percentile(answers_ms, 0.50),
            "p99": percentile(answers_ms, 0.99),
            "max": max(answers_ms, default=math.nan),
        },
        "started": started,
    }


async def paced_latency(
    senders: Sequence[Send], connection: Any, args: argparse.Namespace
) -> dict[str, Any]:
    """Acceptance-to-visible latency at a steady offered rate below saturation."""
    count = int(args.rate * PACED_SECONDS)
    console.print(f"paced: {count} tenders at {args.rate:.0f}/s")
    visibility = Visibility(connection)
    async with visibility.watching():
        load = await publish(senders, count, visibility, rate=args.rate)
        with contextlib.suppress(RuntimeError):
            await until(visibility.all_seen, VISIBLE_WITHIN, "every paced tender becoming visible")
    latencies = visibility.latencies_ms()
    return {
        "offered_per_s": args.rate,
        "accepted_per_s": load["commands_per_s"],
        "accepted": load["accepted"],
        "accepted_nothing": load["accepted_nothing"],
        "answer_ms": load["answer_ms"],
        "visibility_ms": {
            "p50": percentile(latencies, 0.50),
            "p99": percentile(latencies, 0.99),
            "max": max(latencies, default=math.nan),
            "within_100ms": sum(1 for ms in latencies if ms <= 100),
        },
    }


async def write_path_alone(
    run: Running, senders: Sequence[Send], connection: Any, count: int
) -> dict[str, Any]:
    """The two halves apart: commands accepted while the stream workers are suspended (API
    and PostgreSQL only: the outbox fills), then how fast the workers catch up."""
    console.print(f"split: {count} tenders with the stream workers suspended, then the catch-up")
    workers = run.components()["stream workers"]
    visibility = Visibility(connection)
    for process in workers:
        process.suspend()
    try:
        async with visibility.watching():
            load = await publish(senders, count, visibility)
            resumed = time.monotonic()
            for process in workers:
                process.resume()
            with contextlib.suppress(RuntimeError):
                await until(visibility.all_seen, VISIBLE_WITHIN, "the backlog becoming visible")
            caught_up = max(visibility.seen.values(), default=math.nan)
    finally:
        for process in workers:
            with contextlib.suppress(psutil.Error):
                process.resume()
    return {
        "accepted_per_s": load["commands_per_s"],
        "accepted_nothing": load["accepted_nothing"],
        "caught_up_per_s": per(len(visibility.seen), caught_up - resumed),
    }


async def measure(run: Running, args: argparse.Namespace) -> dict[str, Any]:
    # SIGTERM cancels the run, so that every ``finally`` below runs, as Ctrl-C does.
    main_task = asyncio.current_task()
    assert main_task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main_task.cancel)
    async with api_client(run.api_url, timeout=60) as client:
        await run.until_answering(client)
        token = await register_officer(client, run.platform.settings.admin_token or "")
    connection = await asyncpg.connect(run.database_url)
    try:
        async with clients(args.client, run.api_url, token, args.concurrency) as senders:
            console.print(f"warming up: {WARM_UP_TENDERS} tenders until they are visible")
            warm = Visibility(connection)
            async with warm.watching():
                warm_up = await publish(senders, WARM_UP_TENDERS, warm)
                say_if_nothing("warm-up", warm_up)
                with contextlib.suppress(RuntimeError):
                    await until(warm.all_seen, VISIBLE_WITHIN, "the warm-up becoming visible")
        # Idle with no client connected: the API closes idle keep-alive connections.
        console.print(f"idle {IDLE_BEFORE_MEMORY:.0f}s: the idle platform's CPU, then memory")
        idle = await idle_cores(run.components, IDLE_BEFORE_MEMORY)
        fresh_memory = memory(run.components())
        async with clients(args.client, run.api_url, token, args.concurrency) as senders:
            paced = await paced_latency(senders, connection, args)
            say_if_nothing("paced", paced)
            console.print(
                f"load: {args.tenders} tenders from {args.concurrency} {args.client} clients"
            )
            visibility = Visibility(connection)
            # The visibility poll's backend is the benchmark's cost, not the platform's.
            poll_backend = psutil.Process(await connection.fetchval("SELECT pg_backend_pid()"))
            bench = {"benchmark client": [psutil.Process(), poll_backend]}
            # The work of a command ends when it is visible: the meter runs until every
            # tender is, so the stream workers' catch-up after the last answer counts too.
            meter = CpuMeter(lambda: run.components(poll_backend) | bench).start()
            metered_from = time.monotonic()
            async with visibility.watching():
                load = await publish(senders, args.tenders, visibility)
                say_if_nothing("load", load)
                with contextlib.suppress(RuntimeError):
                    await until(
                        visibility.all_seen, VISIBLE_WITHIN, "every tender becoming visible"
                    )
                used = meter.stop()
                metered_seconds = time.monotonic() - metered_from
            split = await write_path_alone(run, senders, connection, args.tenders)
            say_if_nothing("workers suspended", split)
    finally:
        await connection.close()

    latencies = visibility.latencies_ms()
    last_accepted = max(visibility.accepted.values(), default=math.nan)
    last_seen = max(visibility.seen.values(), default=math.nan)
    started = load.pop("started")
    console.print(f"idle {IDLE_BEFORE_MEMORY:.0f}s, then memory")
    await asyncio.sleep(IDLE_BEFORE_MEMORY)
    idle_memory = memory(run.components())

    rows = args.baseline_count
    baselines = await measure_baselines(
        run.database_url, run.bootstrap, rows, args.concurrency, run.components, idle
    )
    why = load["accepted_nothing"] or ""
    per_row = baseline_ms(baselines)
    cost = cpu_cost(
        used, load["accepted"], "command", why, per_row, idle=idle, seconds=metered_seconds
    )
    return {
        "config": {
            "tenders": args.tenders,
            "concurrency": args.concurrency,
            "workers": args.workers,
            "api_processes": args.api_processes,
            "baseline_count": rows,
            "client": f"{args.client}, in one process",
            "cores": psutil.cpu_count(),
        },
        "load": load,
        "visibility_ms": {
            "p50": percentile(latencies, 0.50),
            "p99": percentile(latencies, 0.99),
            "max": max(latencies, default=math.nan),
            "within_100ms": sum(1 for ms in latencies if ms <= 100),
            "not_visible": len(visibility.accepted) - len(latencies),
            "drain_after_last_accept_ms": (last_seen - last_accepted) * 1000,
            "visible_per_s": per(len(latencies), last_seen - started),
        },
        "cpu_during_load": cost,
        "idle_memory": idle_memory,
        "idle_memory_before_load": fresh_memory,
        "write_path_alone": split,
        "paced": paced,
        "baselines": baselines,
        "targets": TARGETS,
    }


def say_if_nothing(phase: str, figures: dict[str, Any]) -> None:
    if figures.get("accepted_nothing"):
        console.print(f"{phase}: {figures['accepted_nothing']}; going on")


def report(results: dict[str, Any]) -> None:
    load, seen, cost = results["load"], results["visibility_ms"], results["cpu_during_load"]
    fresh = results["idle_memory_before_load"]["total"]
    after = results["idle_memory"]["total"]
    paced, alone = results["paced"], results["write_path_alone"]
    accepted = load["accepted"]
    summary = Table(title="Publication path, embedded default")
    for column in ("figure", "measured", "target"):
        summary.add_column(column, justify="left" if column == "figure" else "right")
    rows = [
        ("commands accepted/s (saturated)", fmt(load["commands_per_s"], 0), ">= 1,000"),
        ("accepted / failed", f"{accepted:,} / {sum(load['failed'].values())}", ""),
        ("failures", ", ".join(f"{k}: {v}" for k, v in load["failed"].items()) or "none", ""),
        (
            "platform CPU ms / command, all / net of idle",
            f"{fmt(cost['platform_ms_per_unit'])} / {fmt(cost['net_platform_ms_per_unit'])}",
            "",
        ),
        (
            "POST answer p50 / p99 ms",
            f"{fmt(load['answer_ms']['p50'], 1)} / {fmt(load['answer_ms']['p99'], 1)}",
            "",
        ),
        ("visible p50 ms", fmt(seen["p50"], 1), ""),
        ("visible p99 ms", fmt(seen["p99"], 1), ""),
        ("visible max ms", fmt(seen["max"], 1), ""),
        ("visible within 100 ms", f"{seen['within_100ms']:,} of {accepted:,}", ""),
        ("never visible", f"{seen['not_visible']}", ""),
        ("drain after last accept ms", fmt(seen["drain_after_last_accept_ms"], 0), ""),
        *baseline_rows(results["baselines"], load["commands_per_s"], "command"),
        (
            f"paced {paced['offered_per_s']:,.0f}/s: accepted/s",
            fmt(paced["accepted_per_s"], 0),
            "",
        ),
        (
            f"paced {paced['offered_per_s']:,.0f}/s: visible p50 / p99 ms",
            f"{fmt(paced['visibility_ms']['p50'], 1)} / {fmt(paced['visibility_ms']['p99'], 1)}",
            "p99 <= 100",
        ),
        ("accepted/s, stream workers suspended", fmt(alone["accepted_per_s"], 0), ""),
        ("then visible/s while they catch up", fmt(alone["caught_up_per_s"], 0), ""),
        (
            "idle RSS / PSS MB, before load",
            f"{fresh['rss_mb']:,.0f} / {fresh['pss_mb']:,.0f}",
            "< 500",
        ),
        (
            f"idle RSS / PSS MB, {IDLE_BEFORE_MEMORY:.0f} s after load",
            f"{after['rss_mb']:,.0f} / {after['pss_mb']:,.0f}",
            "",
        ),
    ]
    for row in rows:
        summary.add_row(*row)
    for phase, figures in (("paced", paced), ("load", load), ("workers suspended", alone)):
        if figures.get("accepted_nothing"):
            summary.add_row(phase, figures["accepted_nothing"], "")
    console.print(summary)
    title = (
        f"From the first command until all are visible ({cost['seconds']:.1f} s,"
        f" {results['config']['cores']} cores)"
    )
    console.print(cost_table(title, cost, cost["seconds"]))

    held = Table(title=f"Memory {IDLE_BEFORE_MEMORY:.0f} s after the load")
    for column in ("component", "processes", "RSS MB", "PSS MB"):
        held.add_column(column, justify="left" if column == "component" else "right")
    for name, figures in results["idle_memory"].items():
        held.add_row(
            name,
            f"{figures['processes']:.0f}",
            f"{figures['rss_mb']:.0f}",
            f"{figures['pss_mb']:.0f}",
        )
    console.print(held)


def arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.publish", description=__doc__.split("\n")[0] if __doc__ else None
    )
    parser.add_argument("--tenders", type=int, default=3000, help="tenders to publish")
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent clients")
    parser.add_argument("--workers", type=int, default=1, help="stream workers")
    parser.add_argument(
        "--api-processes", type=int, default=1, help="API processes sharing one port"
    )
    parser.add_argument(
        "--rate", type=float, default=500.0, help="offered commands/s for the paced latency run"
    )
    parser.add_argument("--baseline-count", type=int, default=10_000, help="rows and messages")
    parser.add_argument(
        "--client",
        choices=["raw", "httpx"],
        default="raw",
        help="raw: one keep-alive connection per client; httpx: one shared httpx.AsyncClient",
    )
    parser.add_argument("--out", type=Path, default=Path("bench-results/publish.json"))
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = arguments(argv)
    data_dir = Path(tempfile.mkdtemp(prefix="procurement-bench-"))
    settings = replace(Settings.from_env(), data_dir=data_dir)  # the environment's settings
    settings = replace(settings, admin_token=admin_token(settings))
    run_from_arguments(settings, args, measure, report)


if __name__ == "__main__":
    main()
