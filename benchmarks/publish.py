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
6. CPU used by each component during the load, in cores and in ms per command, and by
   the whole machine, to show what saturates the cores. The benchmark client (load and
   poll, with the poll's PostgreSQL backend) is one of them.
7. Memory, idle before and 5 s after the load: the resident set (RSS) of the API, the workers, every PostgreSQL
   process and the broker; also PSS, which counts PostgreSQL's shared buffers once.
8. The halves apart: the same load with the stream workers suspended (the API and
   PostgreSQL alone accept commands; the outbox fills), then the rate at which the
   resumed workers make the backlog visible.
9. Baselines on the same services: one-row-per-transaction inserts of ~1 KiB jsonb rows
   with a pool of ``C`` asyncpg connections, and ``C`` aiokafka senders each awaiting every
   ~1 KiB send with acks=all; then the platform's rate as a fraction of each.

It prints a table and writes the figures as JSON to ``--out``. It asserts nothing.
"""

import argparse
import asyncio
import contextlib
import json
import math
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any

import asyncpg
import httpx
import psutil
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from rich.console import Console
from rich.table import Table

from adapters.embedded import free_port
from adapters.settings import Settings
from entrypoints.launcher import (
    Platform,
    admin_token,
    start_worker,
    stop_process,
    worker_environment,
)

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "tender.json"
WARM_UP_TENDERS = 50
POLL_EVERY = 0.002  # seconds between read-model polls
VISIBLE_WITHIN = 120.0  # seconds to wait for the last tender to show up
IDLE_BEFORE_MEMORY = 5.0
PACED_SECONDS = 6.0
PAYLOAD = json.dumps({"pad": "x" * 1000})  # the baselines' ~1 KiB row and message
SCRATCH_TOPIC = "bench.scratch"
TARGETS = {"commands_per_s": 1000.0, "p99_visible_ms": 100.0, "idle_rss_mb": 500.0}

# The API in a process of its own, so that its CPU is its own and the client's is not in it.
API_SCRIPT = """
import sys
from dataclasses import replace
import uvicorn
from entrypoints.http.app import create_api
from adapters.settings import Settings

settings = Settings.from_env()
settings = replace(settings, http=settings.http.raised())  # one client sends all the load
assert settings.database_url is not None
app = create_api(settings, settings.database_url)
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""

console = Console()


@dataclass
class Running:
    """The platform under test and how to reach it."""

    platform: Platform
    database_url: str
    bootstrap: str
    api: subprocess.Popen[bytes]
    api_url: str

    @property
    def data_dir(self) -> Path:
        return self.platform.settings.data_dir

    def components(
        self, leave_out: psutil.Process | None = None
    ) -> dict[str, list[psutil.Process]]:
        """Every process of the platform, by component (but ``leave_out``)."""
        postmaster = int((self.data_dir / "postgres" / "postmaster.pid").read_text().split()[0])
        children = psutil.Process().children(recursive=True)
        broker = [p for p in children if self.bootstrap in " ".join(_cmdline(p))]
        workers = [psutil.Process(w.pid) for w in self.platform.worker_processes]
        return {
            "API": _tree(self.api.pid),
            "stream workers": [p for w in workers for p in _tree(w.pid)],
            "PostgreSQL": [p for p in _tree(postmaster) if p != leave_out],
            "broker": broker,
        }

    async def until_answering(self, client: httpx.AsyncClient, within: float = 30.0) -> None:
        """Wait until the API answers ``/health``; fail at once if its process has ended."""

        async def answering() -> bool:
            if self.api.poll() is not None:
                msg = f"the API exited with {self.api.returncode}"
                raise RuntimeError(msg)
            with contextlib.suppress(httpx.TransportError):
                return (await client.get("/health")).status_code == 200
            return False

        await until(answering, within, "the API answering /health")


def _tree(pid: int) -> list[psutil.Process]:
    process = psutil.Process(pid)
    return [process, *process.children(recursive=True)]


def _cmdline(process: psutil.Process) -> list[str]:
    with contextlib.suppress(psutil.Error):
        return list(process.cmdline())
    return []


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def finite(value: Any) -> Any:
    """``value`` with NaN and infinities as null, so that the JSON is standard."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    return value


def tender_body() -> bytes:
    body = json.loads(EXAMPLE.read_text())
    body["submission_deadline"] = (datetime.now(UTC) + timedelta(days=40)).isoformat()
    return json.dumps(body).encode()


async def until(probe: Callable[[], Awaitable[bool]], within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not await probe():
        if time.monotonic() > deadline:
            msg = f"{what} did not happen within {within:.0f}s"
            raise RuntimeError(msg)
        await asyncio.sleep(0.05)


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


class KeepAlive:
    """One persistent HTTP/1.1 connection that sends one prepared request over and over.

    httpx costs this machine several ms of CPU a request (httpcore retries a failing
    ``import sniffio`` on every call and scans its pool of connections for each request),
    which a 2-core machine takes from the API under test; this costs a few microseconds.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.request = b""

    @classmethod
    async def open(cls, url: str, token: str, body: bytes) -> "KeepAlive":
        address = httpx.URL(url)
        connection = cls(*await asyncio.open_connection(address.host, address.port))
        head = (
            f"POST /tenders HTTP/1.1\r\nHost: {address.host}\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        connection.request = head.encode() + body
        return connection

    async def send(self) -> tuple[int, bytes]:
        async with asyncio.timeout(60):
            self.writer.write(self.request)
            status = await self.reader.readline()
            if not status:
                msg = "the API closed the connection"
                raise ConnectionError(msg)
            length = 0
            while (line := await self.reader.readline()) not in {b"\r\n", b""}:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            return int(status.split()[1]), await self.reader.readexactly(length)

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()


@contextlib.asynccontextmanager
async def clients(kind: str, url: str, token: str, concurrency: int) -> AsyncIterator[list[Send]]:
    """``concurrency`` ways to publish a tender, on one connection each."""
    body = tender_body()
    if kind == "httpx":
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:

            async def send() -> tuple[int, bytes]:
                response = await client.post("/tenders", content=body, headers=headers)
                return response.status_code, response.content

            yield [send] * concurrency
        return
    connections = [await KeepAlive.open(url, token, body) for _ in range(concurrency)]
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
            except (OSError, EOFError, TimeoutError, httpx.HTTPError) as error:
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
        "seconds": seconds,
        "commands_per_s": len(answers_ms) / seconds,
        "answer_ms": {
            "p50": percentile(answers_ms, 0.50),
            "p99": percentile(answers_ms, 0.99),
            "max": max(answers_ms, default=math.nan),
        },
        "started": started,
    }


def cpu_seconds(components: dict[str, list[psutil.Process]]) -> dict[str, dict[int, float]]:
    seconds: dict[str, dict[int, float]] = {}
    for name, processes in components.items():
        seconds[name] = {}
        for process in processes:
            with contextlib.suppress(psutil.Error):
                times = process.cpu_times()
                seconds[name][process.pid] = times.user + times.system
    return seconds


def cores_used(
    before: dict[str, dict[int, float]], after: dict[str, dict[int, float]], seconds: float
) -> dict[str, float]:
    """Average cores each component kept busy; a process born in between counts from zero."""
    return {
        name: sum(t - before.get(name, {}).get(pid, 0.0) for pid, t in pids.items()) / seconds
        for name, pids in after.items()
    }


def machine_busy() -> float:
    """CPU seconds the whole machine has spent not idle, all cores together."""
    times = psutil.cpu_times()
    return float(sum(times) - times.idle - getattr(times, "iowait", 0.0))


def memory(components: dict[str, list[psutil.Process]]) -> dict[str, dict[str, float]]:
    figures: dict[str, dict[str, float]] = {}
    for name, processes in components.items():
        rss = pss = 0
        for process in processes:
            with contextlib.suppress(psutil.Error):
                info = process.memory_full_info()
                rss += info.rss
                pss += info.pss
        mb = 1024 * 1024
        figures[name] = {"processes": len(processes), "rss_mb": rss / mb, "pss_mb": pss / mb}
    figures["total"] = {
        key: sum(f[key] for f in figures.values()) for key in ("processes", "rss_mb", "pss_mb")
    }
    return figures


async def raw_postgres(database_url: str, rows: int, concurrency: int) -> float:
    """Rows/s: one transaction per ~1 KiB jsonb row, ``concurrency`` connections."""
    pool = await asyncpg.create_pool(database_url, min_size=concurrency, max_size=concurrency)
    try:
        await pool.execute(
            "CREATE TABLE bench_scratch (id bigserial PRIMARY KEY, body jsonb NOT NULL)"
        )
        numbers = iter(range(rows))

        async def one_writer() -> None:
            async with pool.acquire() as connection:
                for _ in numbers:
                    await connection.execute(
                        "INSERT INTO bench_scratch (body) VALUES ($1::jsonb)", PAYLOAD
                    )

        started = time.monotonic()
        await asyncio.gather(*(one_writer() for _ in range(concurrency)))
        rate = rows / (time.monotonic() - started)
        await pool.execute("DROP TABLE bench_scratch")
        return rate
    finally:
        await pool.close()


async def raw_kafka(bootstrap: str, messages: int, concurrency: int) -> float:
    """Messages/s: ``concurrency`` senders, each awaiting every ~1 KiB send, acks=all."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(SCRATCH_TOPIC, 6, 1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=False)
    await producer.start()
    try:
        value = PAYLOAD.encode()
        await producer.send_and_wait(SCRATCH_TOPIC, value, key=b"warm-up")
        numbers = iter(range(messages))

        async def one_sender() -> None:
            for n in numbers:
                await producer.send_and_wait(SCRATCH_TOPIC, value, key=str(n).encode())

        started = time.monotonic()
        await asyncio.gather(*(one_sender() for _ in range(concurrency)))
        return messages / (time.monotonic() - started)
    finally:
        await producer.stop()


async def register_officer(client: httpx.AsyncClient, operator: str) -> str:
    auth = {"Authorization": f"Bearer {operator}"}
    agency = await client.post(
        "/agencies", json={"name": "Benchmark Agency", "identifier": "RO-BENCH-1"}, headers=auth
    )
    agency.raise_for_status()
    officer = await client.post(
        "/officers",
        json={"agency_id": agency.json()["id"], "name": "Ana Pop", "email": "ana@example.ro"},
        headers=auth,
    )
    officer.raise_for_status()
    token: str = officer.json()["token"]
    return token


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
        "caught_up_per_s": len(visibility.seen) / (caught_up - resumed),
    }


async def measure(run: Running, args: argparse.Namespace) -> dict[str, Any]:
    # SIGTERM cancels the run, so that every ``finally`` below runs, as Ctrl-C does.
    main_task = asyncio.current_task()
    assert main_task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main_task.cancel)
    async with httpx.AsyncClient(base_url=run.api_url, timeout=60) as client:
        await run.until_answering(client)
        token = await register_officer(client, run.platform.settings.admin_token or "")
    connection = await asyncpg.connect(run.database_url)
    try:
        async with clients(args.client, run.api_url, token, args.concurrency) as senders:
            console.print(f"warming up: {WARM_UP_TENDERS} tenders until they are visible")
            warm = Visibility(connection)
            async with warm.watching():
                await publish(senders, WARM_UP_TENDERS, warm)
                await until(warm.all_seen, VISIBLE_WITHIN, "the warm-up tenders becoming visible")
        # Idle with no client connected: the API closes idle keep-alive connections.
        console.print(f"idle {IDLE_BEFORE_MEMORY:.0f}s, then memory")
        await asyncio.sleep(IDLE_BEFORE_MEMORY)
        fresh_memory = memory(run.components())
        async with clients(args.client, run.api_url, token, args.concurrency) as senders:
            paced = await paced_latency(senders, connection, args)
            console.print(
                f"load: {args.tenders} tenders from {args.concurrency} {args.client} clients"
            )
            visibility = Visibility(connection)
            # The visibility poll's backend is the benchmark's cost, not the platform's.
            poll_backend = psutil.Process(await connection.fetchval("SELECT pg_backend_pid()"))
            bench = {"benchmark client": [psutil.Process(), poll_backend]}
            cpu_before, busy_before = (
                cpu_seconds(run.components(poll_backend) | bench),
                machine_busy(),
            )
            async with visibility.watching():
                load = await publish(senders, args.tenders, visibility)
                cpu_after, busy_after = (
                    cpu_seconds(run.components(poll_backend) | bench),
                    machine_busy(),
                )
                with contextlib.suppress(RuntimeError):
                    await until(
                        visibility.all_seen, VISIBLE_WITHIN, "every tender becoming visible"
                    )
            split = await write_path_alone(run, senders, connection, args.tenders)
    finally:
        await connection.close()

    latencies = visibility.latencies_ms()
    last_accepted = max(visibility.accepted.values(), default=math.nan)
    last_seen = max(visibility.seen.values(), default=math.nan)
    started = load.pop("started")
    cores = cores_used(cpu_before, cpu_after, load["seconds"])
    cores["whole machine"] = (busy_after - busy_before) / load["seconds"]
    console.print(f"idle {IDLE_BEFORE_MEMORY:.0f}s, then memory")
    await asyncio.sleep(IDLE_BEFORE_MEMORY)
    idle_memory = memory(run.components())

    rows = args.baseline_count
    console.print(f"baselines: {rows} raw asyncpg rows, {rows} raw aiokafka messages")
    postgres_rate = await raw_postgres(run.database_url, rows, args.concurrency)
    kafka_rate = await raw_kafka(run.bootstrap, rows, args.concurrency)
    return {
        "config": {
            "tenders": args.tenders,
            "concurrency": args.concurrency,
            "workers": args.workers,
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
            "visible_per_s": len(latencies) / (last_seen - started),
        },
        "cpu_cores_during_load": cores,
        "cpu_ms_per_command": {
            name: used * 1000 / load["commands_per_s"] for name, used in cores.items()
        },
        "idle_memory": idle_memory,
        "idle_memory_before_load": fresh_memory,
        "write_path_alone": split,
        "paced": paced,
        "baselines": {
            "postgres_rows_per_s": postgres_rate,
            "kafka_msgs_per_s": kafka_rate,
            "platform_over_postgres": load["commands_per_s"] / postgres_rate,
            "platform_over_kafka": load["commands_per_s"] / kafka_rate,
        },
        "targets": TARGETS,
    }


def report(results: dict[str, Any]) -> None:
    load, seen, base = results["load"], results["visibility_ms"], results["baselines"]
    fresh = results["idle_memory_before_load"]["total"]
    after = results["idle_memory"]["total"]
    paced = results["paced"]
    accepted = load["accepted"]
    summary = Table(title="Publication path, embedded default")
    for column in ("figure", "measured", "target"):
        summary.add_column(column, justify="left" if column == "figure" else "right")
    rows = [
        ("commands accepted/s (saturated)", f"{load['commands_per_s']:,.0f}", ">= 1,000"),
        ("accepted / failed", f"{accepted:,} / {sum(load['failed'].values())}", ""),
        (
            "POST answer p50 / p99 ms",
            f"{load['answer_ms']['p50']:.1f} / {load['answer_ms']['p99']:.1f}",
            "",
        ),
        ("visible p50 ms", f"{seen['p50']:.1f}", ""),
        ("visible p99 ms", f"{seen['p99']:.1f}", ""),
        ("visible max ms", f"{seen['max']:.1f}", ""),
        ("visible within 100 ms", f"{seen['within_100ms']:,} of {accepted:,}", ""),
        ("never visible", f"{seen['not_visible']}", ""),
        ("drain after last accept ms", f"{seen['drain_after_last_accept_ms']:.0f}", ""),
        ("raw asyncpg rows/s (1 tx/row)", f"{base['postgres_rows_per_s']:,.0f}", ""),
        ("raw aiokafka msg/s (acks=all)", f"{base['kafka_msgs_per_s']:,.0f}", ""),
        ("platform / raw asyncpg", f"{base['platform_over_postgres']:.2f}", ""),
        ("platform / raw aiokafka", f"{base['platform_over_kafka']:.2f}", ""),
        (
            f"paced {paced['offered_per_s']:,.0f}/s: accepted/s",
            f"{paced['accepted_per_s']:,.0f}",
            "",
        ),
        (
            f"paced {paced['offered_per_s']:,.0f}/s: visible p50 / p99 ms",
            f"{paced['visibility_ms']['p50']:.1f} / {paced['visibility_ms']['p99']:.1f}",
            "p99 <= 100",
        ),
        (
            "accepted/s, stream workers suspended",
            f"{results['write_path_alone']['accepted_per_s']:,.0f}",
            "",
        ),
        (
            "then visible/s while they catch up",
            f"{results['write_path_alone']['caught_up_per_s']:,.0f}",
            "",
        ),
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
    console.print(summary)

    usage = Table(
        title=f"During the load ({load['seconds']:.1f} s, {results['config']['cores']} cores)"
    )
    usage.add_column("component")
    usage.add_column("CPU cores used", justify="right")
    usage.add_column("CPU ms / command", justify="right")
    for name, cores in results["cpu_cores_during_load"].items():
        usage.add_row(name, f"{cores:.2f}", f"{results['cpu_ms_per_command'][name]:.2f}")
    console.print(usage)

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


def _terminated(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # before and after the event loop, which has its own


def _log_tails(logs: Path, lines: int = 15) -> Iterator[str]:
    for path in sorted(logs.glob("*.log")):
        tail = path.read_text(errors="replace").splitlines()[-lines:]
        yield f"--- {path.name} ---\n" + "\n".join(tail)


def _stop_stray_postgres(pid_file: Path) -> None:
    """Stop a PostgreSQL that a signal kept from being registered while it was starting."""
    with contextlib.suppress(OSError, ValueError, IndexError, psutil.Error):
        postmaster = psutil.Process(int(pid_file.read_text().split()[0]))
        postmaster.send_signal(signal.SIGINT)  # PostgreSQL's fast shutdown
        postmaster.wait(15)


def _stop_children() -> None:
    """Stop what a signal left running, such as an ``initdb`` that was under way."""
    children = psutil.Process().children(recursive=True)
    for child in children:
        with contextlib.suppress(psutil.Error):
            child.terminate()
    for child in psutil.wait_procs(children, timeout=5)[1]:
        with contextlib.suppress(psutil.Error):
            child.kill()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.publish", description=__doc__.split("\n")[0] if __doc__ else None
    )
    parser.add_argument("--tenders", type=int, default=3000, help="tenders to publish")
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent clients")
    parser.add_argument("--workers", type=int, default=1, help="stream workers")
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
    args = parser.parse_args(argv)

    data_dir = Path(tempfile.mkdtemp(prefix="procurement-bench-"))
    settings = replace(Settings.from_env(), data_dir=data_dir)  # the environment's settings
    settings = replace(settings, admin_token=admin_token(settings))
    run_benchmark(settings, args.workers, lambda run: measure(run, args), report, args.out)


def run_with_short_periods(
    args: Any,
    measure: Callable[[Running, Any], Coroutine[Any, Any, dict[str, Any]]],
    report: Callable[[dict[str, Any]], None],
    auction_notice: timedelta = timedelta(days=2),
) -> None:
    """``run_benchmark`` in a fresh data directory with the environment's settings, but a
    minimum tender period of 0 (deadlines seconds ahead) and the given auction notice; the
    API and the workers get them through their environment."""
    data_dir = Path(tempfile.mkdtemp(prefix="procurement-bench-"))
    settings = replace(Settings.from_env(), data_dir=data_dir)
    rules = replace(
        settings.rules, minimum_tender_period=timedelta(0), minimum_auction_notice=auction_notice
    )
    settings = replace(settings, admin_token=admin_token(settings), rules=rules)
    run_benchmark(settings, args.workers, lambda run: measure(run, args), report, args.out)


def run_benchmark(
    settings: Settings,
    workers: int,
    measure: Callable[[Running], Coroutine[Any, Any, dict[str, Any]]],
    report: Callable[[dict[str, Any]], None],
    out: Path,
) -> None:
    """Start a platform in ``settings.data_dir`` (its API in a process of its own), run
    ``measure`` on it, print and save the figures, and stop and remove everything, also on
    Ctrl-C, SIGTERM or an error (then with the logs' last lines)."""
    data_dir = settings.data_dir
    platform = Platform(settings, workers=workers)
    logs = data_dir / "logs"
    api: subprocess.Popen[bytes] | None = None
    # A SIGTERM while the services start is held until they have (a killed initdb leaves
    # its bootstrap backend writing into the data directory); then it ends the run cleanly.
    held: list[int] = []
    signal.signal(signal.SIGTERM, lambda signum, _: held.append(signum))
    try:
        database_url, bootstrap = platform.start_services()
        env = worker_environment(settings, database_url, bootstrap)
        platform.worker_processes = [
            start_worker(env, logs / f"worker-{n}.log") for n in range(workers)
        ]
        port = free_port()
        with (logs / "api.log").open("ab") as output:
            api = subprocess.Popen(
                [sys.executable, "-c", API_SCRIPT, str(port)],
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        signal.signal(signal.SIGTERM, _terminated)
        if held:
            raise SystemExit(128 + signal.SIGTERM)
        run = Running(platform, database_url, bootstrap, api, f"http://127.0.0.1:{port}")
        results = asyncio.run(measure(run))
        report(results)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(finite(results), indent=2) + "\n")
        console.print(f"figures written to {out}")
    except asyncio.CancelledError:
        console.print("stopped by SIGTERM; cleaning up")
        raise SystemExit(128 + signal.SIGTERM) from None
    except KeyboardInterrupt:
        console.print("interrupted; cleaning up")
        raise SystemExit(128 + signal.SIGINT) from None
    except Exception:
        for tail in _log_tails(logs):
            print(tail, file=sys.stderr)
        raise
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second one must not cut the clean-up
        if api is not None:
            stop_process(api)
        platform.stop_services()
        _stop_stray_postgres(data_dir / "postgres" / "postmaster.pid")
        _stop_children()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
