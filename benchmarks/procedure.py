"""A full procedure, from publication to signed contract, for many tenders at once, on the
embedded default, with the raw PostgreSQL and Kafka rates of the same run to compare.

Run from the repository root::

    ./dev bench procedure [--tenders N] [--bidders M] [--concurrency C] [--deadline S]

What it does, in one run on one machine (the platform is started as ``benchmarks.publish``
starts it, with a minimum tender period of 0 so that deadlines can be seconds ahead):

1. Registers the parties through the API with the market driver (``entrypoints.market``):
   one agency per 100 tenders with a lead officer and a committee of 3, and ``M`` suppliers
   (at least 10), each with its own key pair. Not timed.
2. The procedure, phase by phase across all ``N`` tenders, with up to ``C`` requests in
   flight, each on an ``httpx.AsyncClient`` of its own, each phase timed:
   publish (``POST /tenders`` and the opening key, split 2 of 3), bids (``M`` sealed bids
   per tender, sealed in the client), deadline (waiting until every bid log is sealed: the
   deadline is ``S`` seconds after the publication starts, long enough for the bids),
   opening (2 of 3 shares per tender), evaluation (every bid qualified, the lot completed
   and awarded), contracts (drawn, signed by the buyer and by the supplier).
3. Events recorded (rows of the ``events`` table) before and after each phase; events per
   second over the whole procedure, and over it without the wait for the deadline, which
   the procedure's rules impose and no platform can shorten. Then how long the awards read
   model and the relay (the outbox) take to catch up after the last signature.
4. CPU per component over the procedure, as in ``benchmarks.publish``.
5. Baselines on the same services: ``raw_postgres`` and ``raw_kafka`` of
   ``benchmarks.publish``, and the platform's events per second as a fraction of each.

It prints a table and writes the figures as JSON to ``--out``. It asserts nothing.
"""

import argparse
import asyncio
import contextlib
import random
import signal
import ssl
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil
from rich.table import Table

from benchmarks.publish import (
    Running,
    console,
    cores_used,
    cpu_seconds,
    machine_busy,
    raw_kafka,
    raw_postgres,
    run_benchmark,
    until,
)
from entrypoints.demo_catalogue import TENDERS, TenderPlan
from entrypoints.demo_story import tender_body
from entrypoints.launcher import admin_token
from entrypoints.market import ApiRefused, Market, Party, bid_content
from schemas.contracts import Party as ContractParty
from streams.settings import Settings

TENDERS_PER_AGENCY = 100
THRESHOLD = 2
BASELINE_CONCURRENCY = 32  # as ``benchmarks.publish`` runs its baselines
CATCH_UP_WITHIN = 300.0  # seconds for the read model and the relay after the last signature
TARGET_EVENTS_PER_S = 1500.0
# One-lot, lowest-price tenders of the demo's catalogue, with no standstill, so that each
# goes from publication to a signed contract without waiting days.
PLANS = [
    replace(plan, auction=False, standstill_days=0, story=frozenset())
    for plan in TENDERS
    if len(plan.lots) == 1 and not plan.quality
]


@dataclass
class Buyer:
    lead: Party
    members: list[Party]


@dataclass
class Tender:
    plan: TenderPlan
    buyer: Buyer
    ocid: str = ""
    key: bytes = b""
    bids: list[str] = field(default_factory=list)  # bid ids, once opened
    winner: str = ""
    contract_id: str = ""


class Phases:
    """Runs each phase across all tenders, timing it and counting its events and failures."""

    def __init__(self, lanes: Sequence[Market], connection: Any) -> None:
        self.lanes: asyncio.Queue[Market] = asyncio.Queue()
        for lane in lanes:
            self.lanes.put_nowait(lane)
        self.connection = connection
        self.results: dict[str, dict[str, Any]] = {}

    async def events(self) -> int:
        return int(await self.connection.fetchval("SELECT count(*) FROM events"))

    async def run(
        self, name: str, jobs: Sequence[Callable[[Market], Awaitable[int]]]
    ) -> dict[str, Any]:
        """Each job sends its requests on a lane of its own and says how many; as many jobs
        at once as there are lanes."""
        failures: Counter[str] = Counter()
        before, started = await self.events(), time.monotonic()

        async def guarded(job: Callable[[Market], Awaitable[int]]) -> int:
            lane = await self.lanes.get()
            try:
                return await job(lane)
            except ApiRefused as refused:
                failures[f"{refused.status} {refused.code}"] += 1
            except (httpx.HTTPError, OSError) as error:
                failures[type(error).__name__] += 1
            finally:
                self.lanes.put_nowait(lane)
            return 0

        requests = sum(await asyncio.gather(*(guarded(job) for job in jobs)))
        seconds = time.monotonic() - started
        recorded = await self.events() - before
        result = {
            "seconds": seconds,
            "requests": requests,
            "events": recorded,
            "events_per_s": recorded / seconds if seconds else 0.0,
            "requests_per_s": requests / seconds if seconds else 0.0,
            "failed": dict(failures),
        }
        self.results[name] = result
        console.print(
            f"{name}: {requests:,} requests, {recorded:,} events in {seconds:.1f} s"
            + (f", failed: {dict(failures)}" if failures else "")
        )
        return result


async def register(market: Market, args: argparse.Namespace) -> tuple[list[Buyer], list[Party]]:
    agencies = max(1, -(-args.tenders // TENDERS_PER_AGENCY))

    async def buyer(number: int) -> Buyer:
        agency = await market.register_agency(
            f"Autoritatea {number}", f"RO-CUI-{9_000_000 + number}"
        )
        officers = [
            await market.register_officer(agency, f"Ofițer {n}", f"ofiter{n}@example.ro")
            for n in range(4)
        ]
        return Buyer(officers[0], officers[1:])

    buyers = list(await asyncio.gather(*(buyer(n) for n in range(agencies))))
    suppliers = list(
        await asyncio.gather(
            *(
                market.register_supplier(
                    f"Furnizor {n} SRL", f"RO-CUI-{10_000_000 + n}", f"oferte{n}@example.ro"
                )
                for n in range(max(args.bidders, 10))
            )
        )
    )
    return buyers, suppliers


async def procedure(
    phases: Phases,
    args: argparse.Namespace,
    parties: tuple[list[Buyer], list[Party]],
) -> dict[str, float]:
    """Every phase of the procedure; the deadline left after the bids, the contracts signed."""
    buyers, suppliers = parties
    rng = random.Random(2027)
    tenders = [
        Tender(PLANS[n % len(PLANS)], buyers[n // TENDERS_PER_AGENCY]) for n in range(args.tenders)
    ]
    deadline = datetime.now(UTC) + timedelta(seconds=args.deadline)

    async def publish(tender: Tender, market: Market) -> int:
        body = tender_body(tender.plan, deadline, auctions=False)
        tender.ocid = await market.publish_tender(tender.buyer.lead, body)
        tender.key = await market.issue_opening_key(
            tender.buyer.lead, tender.ocid, tender.buyer.members, THRESHOLD
        )
        return 2

    await phases.run("publish", [partial(publish, t) for t in tenders])

    async def bid(tender: Tender, bidder: Party, market: Market) -> int:
        lot = tender.plan.lots[0]
        price = (lot.estimate * Decimal(str(round(rng.uniform(0.84, 0.99), 4)))).quantize(
            Decimal(1)
        )
        items = {lot.id: [(item.id, item.quantity) for item in lot.items]}
        content = bid_content(tender.ocid, bidder, {lot.id: price}, items)
        await market.submit_bid(bidder, content, tender.key)
        return 1

    await phases.run(
        "bids",
        [partial(bid, t, b) for b in rng.sample(suppliers, args.bidders) for t in tenders],
    )
    waited = max(0.0, (deadline - datetime.now(UTC)).total_seconds())
    if waited == 0.0:
        console.print("[yellow]the bids ended after the deadline: raise --deadline[/]")

    async def sealed(tender: Tender, market: Market) -> int:
        await market.until_sealed(tender.ocid, args.deadline + 120)
        return 0

    await phases.run("deadline", [partial(sealed, t) for t in tenders])

    async def open_bids(tender: Tender, market: Market) -> int:
        first, _, third = tender.buyer.members
        await market.hand_in_share(first, tender.ocid)
        await market.hand_in_share(third, tender.ocid)
        tender.bids = [b["bid_id"] for b in await market.opened_bids(first, tender.ocid)]
        return 5  # two shares fetched and handed in, the opened bids read

    await phases.run("opening", [partial(open_bids, t) for t in tenders])

    async def evaluate(tender: Tender, market: Market) -> int:
        member, lead = tender.buyer.members[0], tender.buyer.lead
        for bid_id in tender.bids:
            await market.evaluate(member, tender.ocid, "qualifications", {"bid_id": bid_id})
        await market.evaluate(lead, tender.ocid, "lot-completions", {"lot_id": "lot-1"})
        await market.evaluate(lead, tender.ocid, "awards", {"lot_id": "lot-1"})
        ranking = (await market.evaluation(lead, tender.ocid))["lots"][0]["ranking"]
        tender.winner = ranking[0]["bidder_id"]
        return len(tender.bids) + 3

    await phases.run("evaluation", [partial(evaluate, t) for t in tenders])
    by_id = {s.id: s for s in suppliers}

    async def contract(tender: Tender, market: Market) -> int:
        lead, today = tender.buyer.lead, date.today()
        tender.contract_id = await market.draw_contract(
            lead, tender.ocid, "lot-1", today, today + timedelta(days=365)
        )
        await market.sign_contract(lead, tender.contract_id, ContractParty.BUYER)
        await market.sign_contract(by_id[tender.winner], tender.contract_id, ContractParty.SUPPLIER)
        return 5  # drawn, and each signature after reading the document's hash

    await phases.run("contracts", [partial(contract, t) for t in tenders if t.winner])
    return {"waited": waited, "signed": sum(1 for t in tenders if t.contract_id)}


def _lane(run: Running, tls: ssl.SSLContext) -> httpx.AsyncClient:
    """One keep-alive connection: httpcore scans every connection of its pool for every
    request, which with a pool of 64 cost the client more CPU than the API."""
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    return httpx.AsyncClient(base_url=run.api_url, timeout=600, limits=limits, verify=tls)


async def _api_up(market: Market) -> bool:
    try:
        return (await market.http.get("/health")).status_code == 200
    except httpx.TransportError:
        return False


async def caught_up(connection: Any, tenders: int) -> dict[str, float]:
    """Seconds until the public awards show every award and the outbox is empty."""
    started = time.monotonic()
    seconds: dict[str, float] = {}

    async def awards_public() -> bool:
        return bool(await connection.fetchval("SELECT count(*) FROM awards") >= tenders)

    async def relayed() -> bool:
        return bool(await connection.fetchval("SELECT count(*) FROM outbox") == 0)

    for name, probe in (("awards_public_s", awards_public), ("outbox_empty_s", relayed)):
        try:
            await until(probe, CATCH_UP_WITHIN, name)
            seconds[name] = time.monotonic() - started
        except RuntimeError:
            seconds[name] = float("nan")
    return seconds


async def measure(run: Running, args: argparse.Namespace) -> dict[str, Any]:
    main_task = asyncio.current_task()
    assert main_task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main_task.cancel)
    operator = run.platform.settings.admin_token or ""
    connection = await asyncpg.connect(run.database_url)
    try:
        async with contextlib.AsyncExitStack() as stack:
            tls = ssl.create_default_context()  # unused over http, but made once, not per lane
            lanes = [
                Market(await stack.enter_async_context(_lane(run, tls)), operator)
                for _ in range(args.concurrency)
            ]
            await until(partial(_api_up, lanes[0]), 60, "the API answering /health")
            console.print(f"parties: agencies, committees and {max(args.bidders, 10)} suppliers")
            parties = await register(lanes[0], args)
            phases = Phases(lanes, connection)
            client = {"benchmark client": [psutil.Process()]}
            cpu_before, busy_before = cpu_seconds(run.components() | client), machine_busy()
            events_before, started = await phases.events(), time.monotonic()
            console.print(f"procedure: {args.tenders} tenders x {args.bidders} bidders")
            outcome = await procedure(phases, args, parties)
            seconds = time.monotonic() - started
            events = await phases.events() - events_before
            cpu_after = cpu_seconds(run.components() | client)
            cores = cores_used(cpu_before, cpu_after, seconds)
            cores["whole machine"] = (machine_busy() - busy_before) / seconds
        catch_up = await caught_up(connection, args.tenders)
    finally:
        await connection.close()
    rows = args.baseline_count
    console.print(f"baselines: {rows} raw asyncpg rows, {rows} raw aiokafka messages")
    postgres_rate = await raw_postgres(run.database_url, rows, BASELINE_CONCURRENCY)
    kafka_rate = await raw_kafka(run.bootstrap, rows, BASELINE_CONCURRENCY)
    rate = events / seconds
    busy = seconds - phases.results["deadline"]["seconds"]
    return {
        "config": {
            "tenders": args.tenders,
            "bidders": args.bidders,
            "concurrency": args.concurrency,
            "deadline_s": args.deadline,
            "workers": args.workers,
            "baseline_count": rows,
            "client": "the market driver, one httpx.AsyncClient per connection, one process",
            "cores": psutil.cpu_count(),
        },
        "procedure": {
            "seconds": seconds,
            "events": events,
            "events_per_s": rate,
            "seconds_without_deadline_wait": busy,
            "events_per_s_without_deadline_wait": events / busy,
            "deadline_left_after_bids_s": outcome["waited"],
            "events_per_tender": events / args.tenders,
            "contracts_signed": outcome["signed"],
        },
        "phases": phases.results,
        "catch_up_after_last_signature": catch_up,
        "cpu_cores_during_procedure": cores,
        "baselines": {
            "postgres_rows_per_s": postgres_rate,
            "kafka_msgs_per_s": kafka_rate,
            "events_over_postgres": rate / postgres_rate,
            "events_over_kafka": rate / kafka_rate,
        },
        "target_events_per_s": TARGET_EVENTS_PER_S,
    }


def report(results: dict[str, Any]) -> None:
    whole, base, config = results["procedure"], results["baselines"], results["config"]
    title = (
        f"Full procedure, {config['tenders']:,} tenders x {config['bidders']} bidders, "
        f"embedded default, {config['cores']} cores"
    )
    summary = Table(title=title)
    for column in ("figure", "measured", "target"):
        summary.add_column(column, justify="left" if column == "figure" else "right")
    catch_up = results["catch_up_after_last_signature"]
    rows = [
        ("publication to last signed contract, s", f"{whole['seconds']:.1f}", ""),
        ("events recorded", f"{whole['events']:,}", ""),
        ("events per second", f"{whole['events_per_s']:,.0f}", ">= 1,500"),
        (
            "events per second without the deadline wait",
            f"{whole['events_per_s_without_deadline_wait']:,.0f}",
            "",
        ),
        ("events per tender", f"{whole['events_per_tender']:.1f}", ""),
        ("contracts signed by both parties", f"{whole['contracts_signed']:,}", ""),
        ("awards public, s after the last signature", f"{catch_up['awards_public_s']:.1f}", ""),
        ("outbox empty, s after the last signature", f"{catch_up['outbox_empty_s']:.1f}", ""),
        ("raw asyncpg rows/s (1 tx/row)", f"{base['postgres_rows_per_s']:,.0f}", ""),
        ("raw aiokafka msg/s (acks=all)", f"{base['kafka_msgs_per_s']:,.0f}", ""),
        ("events/s / raw asyncpg", f"{base['events_over_postgres']:.2f}", ""),
        ("events/s / raw aiokafka", f"{base['events_over_kafka']:.2f}", ""),
    ]
    for row in rows:
        summary.add_row(*row)
    console.print(summary)

    phases = Table(title="Phases")
    for column in ("phase", "s", "requests", "requests/s", "events", "events/s", "failed"):
        phases.add_column(column, justify="left" if column == "phase" else "right")
    for name, phase in results["phases"].items():
        phases.add_row(
            name,
            f"{phase['seconds']:.1f}",
            f"{phase['requests']:,}",
            f"{phase['requests_per_s']:,.0f}",
            f"{phase['events']:,}",
            f"{phase['events_per_s']:,.0f}",
            ", ".join(f"{k}: {v}" for k, v in phase["failed"].items()) or "0",
        )
    console.print(phases)

    usage = Table(title=f"CPU during the procedure ({whole['seconds']:.1f} s)")
    usage.add_column("component")
    usage.add_column("cores used", justify="right")
    for name, cores in results["cpu_cores_during_procedure"].items():
        usage.add_row(name, f"{cores:.2f}")
    console.print(usage)


def arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.procedure",
        description=__doc__.split("\n")[0] if __doc__ else None,
    )
    parser.add_argument("--tenders", type=int, default=1000, help="tenders (1,000)")
    parser.add_argument("--bidders", type=int, default=10, help="bidders per tender (10)")
    parser.add_argument("--concurrency", type=int, default=64, help="requests in flight (64)")
    parser.add_argument(
        "--deadline",
        type=float,
        help="seconds from the publication to the deadline (enough for the bids, by default)",
    )
    parser.add_argument("--workers", type=int, default=1, help="stream workers")
    parser.add_argument("--baseline-count", type=int, default=10_000, help="rows and messages")
    parser.add_argument("--out", type=Path, default=Path("bench-results/procedure.json"))
    args = parser.parse_args(argv)
    if args.tenders < 1 or not 1 <= args.bidders <= 1000:
        parser.error("--tenders must be at least 1 and --bidders between 1 and 1,000")
    # Enough for the publication at 150 tenders/s and the bids at 130/s, so that no bid is
    # late on a busy 2-core machine; the wait that is left is reported apart.
    args.deadline = args.deadline or 10 + args.tenders / 150 + args.tenders * args.bidders / 130
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = arguments(argv)
    data_dir = Path(tempfile.mkdtemp(prefix="procurement-bench-"))
    settings = replace(Settings.from_env(), data_dir=data_dir)  # the environment's settings
    rules = replace(settings.rules, minimum_tender_period=timedelta(0))
    settings = replace(settings, admin_token=admin_token(settings), rules=rules)
    run_benchmark(settings, args.workers, lambda run: measure(run, args), report, args.out)


if __name__ == "__main__":
    main()
