"""A soak: the platform under a steady mixed load, with hostile requests among honest ones.

Run from the repository root::

    ./dev bench soak [--minutes 5] [--rate 20] [--sample-every 10]

For ``--minutes`` it offers, every second, ``--rate`` tender publications by an officer,
as many anonymous reads of the tender list (each with a query string never seen before),
and one hostile request in turn: a title holding U+0000, a body of 2 MiB, 20 MiB sent
without a token, a query string of junk parameters. Every ``--sample-every`` seconds it
records the outbox (rows waiting for Kafka and the age of the oldest), the unresolved dead
letters, each component's resident memory and the CPU all components used; at the end, the
CPU milliseconds one answered request (any status) cost the platform's components.

It prints the samples, the answers by status, and the figures at start and end. It asserts
nothing: it shows whether the outbox lag, the dead letters and the memory stay flat.

A publication or read whose kept-alive connection the API closed under it (the client,
starved of CPU, sent on a connection idle past the server's keep-alive) is sent once more,
and counted as such with its cause; so are the worst lateness of the client's event loop
and the warnings and errors of the API's log, which tell a lost race from a server fault.
"""

import argparse
import asyncio
import contextlib
import itertools
import json
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil

from benchmarks.connections import api_client
from benchmarks.figures import cost_table, cpu_cost
from benchmarks.harness import Running, console, register_officer, run_with_short_periods
from benchmarks.publish import tender_body
from benchmarks.usage import CpuMeter, cpu_seconds, idle_cores, memory

HOSTILE_KINDS = ("nul_title", "two_mib_body", "unauthenticated_20_mib", "junk_query")

# What a request meets when it is written on a kept-alive connection just as the API closes
# it for idling (uvicorn's keep-alive): the server never saw it, and httpx does not send it
# again. The client drops idle connections well before the server's keep-alive, but when
# this process is starved of CPU it can be seconds late, and the race is lost now and then.
CLOSED_UNDER_IT = (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)


async def outbox_and_dead_letters(connection: Any) -> dict[str, Any]:
    """Rows waiting in the outbox, the oldest one's age, and unresolved dead letters."""
    row = await connection.fetchrow(
        "SELECT count(*) AS rows,"
        " coalesce(extract(epoch FROM now() - min(e.recorded_at)), 0) AS oldest_s"
        " FROM outbox o JOIN events e USING (position)"
    )
    dead = None
    if await connection.fetchval("SELECT to_regclass('dead_letters') IS NOT NULL"):
        dead = await connection.fetchval(
            "SELECT count(*) FROM dead_letters WHERE resolved_at IS NULL"
        )
    return {"outbox_rows": row["rows"], "oldest_s": float(row["oldest_s"]), "dead_letters": dead}


def hostile_requests(token: str) -> Iterator[Callable[[httpx.AsyncClient], Awaitable[int]]]:
    """One request of each hostile kind, in turn, forever; each answers its status."""
    auth = {"Authorization": f"Bearer {token}"}
    body = json.loads(tender_body())

    async def nul_title(client: httpx.AsyncClient) -> int:
        poisoned = body | {"title": "Road works\u0000"}
        return (await client.post("/tenders", json=poisoned, headers=auth)).status_code

    async def two_mib_body(client: httpx.AsyncClient) -> int:
        padded = body | {"description": "x" * (2 * 1024 * 1024)}
        return (await client.post("/tenders", json=padded, headers=auth)).status_code

    async def unauthenticated_20_mib(client: httpx.AsyncClient) -> int:
        content = b'{"title": "' + b"x" * (20 * 1024 * 1024) + b'"}'
        headers = {"Content-Type": "application/json"}
        return (await client.post("/tenders", content=content, headers=headers)).status_code

    async def junk_query(client: httpx.AsyncClient) -> int:
        params = {f"junk{n}": "y" * 200 for n in range(20)}
        return (await client.get("/tenders", params=params)).status_code

    return itertools.cycle([nul_title, two_mib_body, unauthenticated_20_mib, junk_query])


async def send(
    answers: Counter[str], kind: str, request: Awaitable[int], failures: list[str]
) -> None:
    began = time.monotonic()
    try:
        status = await request
    except httpx.HTTPError as error:
        answers[f"{kind} {type(error).__name__}"] += 1
        took = time.monotonic() - began
        failures.append(f"{kind}: {type(error).__name__} after {took:.2f} s: {error!r}")
    else:
        answers[f"{kind} {status}"] += 1


async def sent_again_if_closed(
    kind: str,
    attempt: Callable[[], Awaitable[httpx.Response]],
    answers: Counter[str],
    failures: list[str],
) -> int:
    """The status of ``attempt``, made once more if the connection was closed under it: a
    read is safe to repeat, and a publication carries an Idempotency-Key, so its repeat is
    answered with the first outcome. Each repeat is counted and its cause kept."""
    try:
        return (await attempt()).status_code
    except CLOSED_UNDER_IT as error:
        answers[f"{kind} sent again after {type(error).__name__}"] += 1
        failures.append(f"{kind}: sent again after {error!r}")
        return (await attempt()).status_code


class LoopLag:
    """How late this process's event loop runs a timer: seconds of starvation, the worst
    seen. A client that falls behind by more than its keep-alive margin sends on connections
    the server has already closed."""

    def __init__(self) -> None:
        self.worst = 0.0

    async def watch(self, every: float = 0.1) -> None:
        while True:
            before = time.monotonic()
            await asyncio.sleep(every)
            self.worst = max(self.worst, time.monotonic() - before - every)


def logged_problems(log: Path, most: int = 20) -> list[str]:
    """The API log's warnings, errors and tracebacks' last lines: what the server saw."""
    if not log.exists():
        return []
    lines = log.read_text(errors="replace").splitlines()
    words = ("WARNING", "ERROR", "Traceback", "Error", "Exception")
    return [line for line in lines if any(word in line for word in words)][:most]


async def measure(run: Running, args: argparse.Namespace) -> dict[str, Any]:
    connection = await asyncpg.connect(run.database_url)
    async with api_client(run.api_url, timeout=30, connections=64) as client:
        await run.until_answering(client)
        token = await register_officer(client, run.platform.settings.admin_token or "")
        auth = {"Authorization": f"Bearer {token}"}
        tender = tender_body()
        hostile = hostile_requests(token)
        answers: Counter[str] = Counter()
        failures: list[str] = []
        samples: list[dict[str, Any]] = []
        pending: set[asyncio.Task[None]] = set()
        queries = itertools.count()

        async def sample(elapsed: float) -> None:
            components = run.components()
            cpu = cpu_seconds(components)
            samples.append(
                {
                    "at_s": round(elapsed),
                    **await outbox_and_dead_letters(connection),
                    "rss_mb": {k: round(v["rss_mb"]) for k, v in memory(components).items()},
                    "cpu_s": round(sum(sum(pids.values()) for pids in cpu.values()), 1),
                }
            )
            console.print(samples[-1])

        def spawn(kind: str, request: Awaitable[int]) -> None:
            task = asyncio.ensure_future(send(answers, kind, request, failures))
            pending.add(task)
            task.add_done_callback(pending.discard)

        async def publish() -> int:
            headers = auth | {"Content-Type": "application/json"}
            headers["Idempotency-Key"] = str(uuid.uuid4())
            return await sent_again_if_closed(
                "publish",
                lambda: client.post("/tenders", content=tender, headers=headers),
                answers,
                failures,
            )

        async def read() -> int:
            query = {"q": next(queries)}
            return await sent_again_if_closed(
                "read", lambda: client.get("/tenders", params=query), answers, failures
            )

        console.print("the idle platform's CPU")
        idle = await idle_cores(run.components)
        meter = CpuMeter(lambda: run.components() | {"benchmark client": [psutil.Process()]})
        meter.start()
        lag = LoopLag()
        watching = asyncio.ensure_future(lag.watch())
        started = time.monotonic()
        await sample(0.0)
        next_sample = args.sample_every
        for second in range(int(args.minutes * 60)):
            for _ in range(int(args.rate)):
                spawn("publish", publish())
                spawn("read", read())
            request = next(hostile)
            spawn(request.__name__, request(client))
            await asyncio.sleep(max(0.0, started + second + 1 - time.monotonic()))
            if time.monotonic() - started >= next_sample:
                await sample(time.monotonic() - started)
                next_sample += args.sample_every
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.gather(*pending), 60)
        seconds, used = time.monotonic() - started, meter.stop()
        watching.cancel()
        await asyncio.sleep(args.sample_every)
        await sample(time.monotonic() - started)
    await connection.close()
    answered = sum(n for kind, n in answers.items() if kind.rsplit(" ", 1)[-1].isdigit())
    why = ", ".join(f"{n} {kind}" for kind, n in answers.items()) or "nothing was sent"
    return {
        "answers": dict(sorted(answers.items())),
        "transport_failures": failures,
        "client_loop_lag_worst_s": round(lag.worst, 3),
        "api_log_problems": logged_problems(run.data_dir / "logs" / "api.log"),
        "samples": samples,
        "seconds": seconds,
        "cpu_during_load": cpu_cost(used, answered, "request", why, idle=idle, seconds=seconds),
    }


def report(results: dict[str, Any]) -> None:
    console.print("answers by kind and status:", results["answers"])
    for failure in results["transport_failures"]:
        console.print("in transport:", failure)
    console.print(f"the client's event loop ran up to {results['client_loop_lag_worst_s']} s late")
    for line in results["api_log_problems"]:
        console.print("API log:", line)
    first, last = results["samples"][0], results["samples"][-1]
    for name in ("outbox_rows", "oldest_s", "dead_letters", "rss_mb"):
        console.print(f"{name}: start {first[name]}, end {last[name]}")
    worst = max(results["samples"], key=lambda s: s["oldest_s"])
    console.print(f"worst outbox age: {worst['oldest_s']:.1f} s at {worst['at_s']} s")
    title = f"During the load ({results['seconds']:.0f} s), per answered request"
    console.print(cost_table(title, results["cpu_during_load"], results["seconds"]))


def arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.soak",
        description=__doc__.split("\n")[0] if __doc__ else None,
    )
    parser.add_argument("--minutes", type=float, default=5.0, help="how long the load runs")
    parser.add_argument("--rate", type=float, default=20.0, help="publications/s and reads/s")
    parser.add_argument("--sample-every", type=float, default=10.0, help="seconds")
    parser.add_argument("--workers", type=int, default=1, help="stream workers")
    parser.add_argument("--out", type=Path, default=Path("bench-results/soak.json"))
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    run_with_short_periods(arguments(argv), measure, report)


if __name__ == "__main__":
    main()
