"""A full procedure, from publication to signed contract, for many tenders at once, on the
embedded default, with the raw PostgreSQL and Kafka rates of the same run to compare.

Run from the repository root::

    ./dev bench procedure [--tenders N] [--bidders M] [--concurrency C] [--in-flight F]
                          [--deadline S]

What it does, in one run on one machine (the platform is started as ``benchmarks.publish``
starts it, with a minimum tender period of 0 so that deadlines can be seconds ahead):

1. Registers the parties through the API with the market driver (``sdk.market``):
   one agency per 100 tenders with a lead officer and a committee of 3, and ``M`` suppliers
   (at least 10), each with its own key pair. Not timed.
2. The procedure: each tender goes through it on its own, up to ``F`` tenders at once
   (``--in-flight``), their steps sharing ``C`` keep-alive connections, each an
   ``httpx.AsyncClient`` of its own: publish (``POST /tenders`` with a deadline ``S``
   seconds ahead, and the opening key, split 2 of 3), ``M`` sealed bids (sealed in the
   client), the wait for its deadline (holding no connection: as in a market, deadlines
   fall at different times), the opening (2 of 3 shares), the evaluation (every bid
   qualified, the lot completed and awarded) and the contract (drawn, signed by the buyer
   and by the supplier).
3. Events recorded (rows of the ``events`` table) over the whole run, events and requests
   per second, and what was refused. Then how long the awards read model and the relay
   (the outbox) take to catch up after the last signature.
4. CPU per component over the procedure, as in ``benchmarks.publish``.
5. Baselines on the same services: ``raw_postgres`` and ``raw_kafka`` of
   ``benchmarks.publish``, and the platform's events per second as a fraction of each.

It prints a table and writes the figures as JSON to ``--out``. It asserts nothing.
"""

import argparse
import asyncio
import contextlib
import math
import random
import signal
import ssl
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

from benchmarks.baselines import measure_baselines
from benchmarks.connections import api_client
from benchmarks.figures import (
    baseline_ms,
    baseline_rows,
    cost_table,
    cpu_cost,
    fmt,
    per,
)
from benchmarks.harness import Running, console, run_with_short_periods, until
from benchmarks.usage import CpuMeter, idle_cores
from entrypoints.demo.bodies import tender_body
from entrypoints.demo.cast import TENDERS, TenderPlan
from schemas.committee import CommitteeMaterial
from schemas.contracts import Party as ContractParty
from sdk.market import ApiRefused, Market, Party, bid_content

TENDERS_PER_AGENCY = 100
THRESHOLD = 2
BASELINE_CONCURRENCY = 32  # as ``benchmarks.publish`` runs its baselines
REQUEST_WITHIN = 120.0  # seconds for one request: one that hangs fails its tender, not the run
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
    committee: CommitteeMaterial | None = None
    bids: list[str] = field(default_factory=list)  # bid ids, once opened
    winner: str = ""
    contract_id: str = ""


class Lanes:
    """Keep-alive connections shared by every tender's steps, each step taking one while it
    sends its requests; counts requests and refusals per step."""

    def __init__(self, lanes: Sequence[Market]) -> None:
        self.free: asyncio.Queue[Market] = asyncio.Queue()
        for lane in lanes:
            self.free.put_nowait(lane)
        self.requests: Counter[str] = Counter()
        self.failures: Counter[str] = Counter()

    async def run(self, step: str, job: Callable[[Market], Awaitable[int]]) -> bool:
        lane = await self.free.get()
        try:
            sent = await job(lane)  # read the counter after the await, not before
            self.requests[step] += sent
            return True
        except ApiRefused as refused:
            self.failures[f"{step}: {refused.status} {refused.code}"] += 1
        except (httpx.HTTPError, OSError, RuntimeError) as error:
            self.failures[f"{step}: {type(error).__name__}"] += 1
        finally:
            self.free.put_nowait(lane)
        return False


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
    lanes: Lanes,
    args: argparse.Namespace,
    parties: tuple[list[Buyer], list[Party]],
) -> dict[str, Any]:
    """Every tender goes through the whole procedure on its own, up to ``args.in_flight`` at
    a time, as in a market where deadlines fall at different times: publication with a
    deadline ``args.deadline`` seconds ahead, its bids, the wait for the deadline (holding
    no connection), the opening with 2 of 3 shares, the evaluation and award, the contract
    drawn and signed by both parties."""
    buyers, suppliers = parties
    rng = random.Random(2027)
    tenders = [
        Tender(PLANS[n % len(PLANS)], buyers[n // TENDERS_PER_AGENCY]) for n in range(args.tenders)
    ]
    by_id = {s.id: s for s in suppliers}
    in_flight = asyncio.Semaphore(args.in_flight)
    late_waits: list[float] = []

    async def publish(tender: Tender, deadline: datetime, market: Market) -> int:
        body = tender_body(tender.plan, deadline, auctions=False)
        tender.ocid = await market.publish_tender(tender.buyer.lead, body)
        tender.committee = await market.name_committee(
            tender.buyer.lead, tender.ocid, tender.buyer.members, THRESHOLD
        )
        return 2

    async def bid(tender: Tender, bidder: Party, price: Decimal, market: Market) -> int:
        lot = tender.plan.lots[0]
        items = {lot.id: [(item.id, item.quantity) for item in lot.items]}
        await market.submit_bid(
            bidder, bid_content(tender.ocid, bidder, {lot.id: price}, items), tender.committee
        )
        return 1

    async def open_bids(tender: Tender, market: Market) -> int:
        await market.until_sealed(tender.ocid, 120)
        first, _, third = tender.buyer.members
        await market.hand_in_share(first, tender.ocid)
        await market.hand_in_share(third, tender.ocid)
        tender.bids = [b["bid_id"] for b in await market.opened_bids(first, tender.ocid)]
        return 6  # sealed?, two shares fetched and handed in, the opened bids read

    async def evaluate(tender: Tender, market: Market) -> int:
        member, lead = tender.buyer.members[0], tender.buyer.lead
        for bid_id in tender.bids:
            await market.evaluate(member, tender.ocid, "qualifications", {"bid_id": bid_id})
        await market.evaluate(lead, tender.ocid, "lot-completions", {"lot_id": "lot-1"})
        await market.evaluate(lead, tender.ocid, "awards", {"lot_id": "lot-1"})
        ranking = (await market.evaluation(lead, tender.ocid))["lots"][0]["ranking"]
        tender.winner = ranking[0]["bidder_id"]
        return len(tender.bids) + 3

    async def contract(tender: Tender, market: Market) -> int:
        lead, today = tender.buyer.lead, date.today()
        tender.contract_id = await market.draw_contract(
            lead, tender.ocid, "lot-1", today, today + timedelta(days=365)
        )
        await market.sign_contract(lead, tender.contract_id, ContractParty.BUYER)
        await market.sign_contract(by_id[tender.winner], tender.contract_id, ContractParty.SUPPLIER)
        return 5  # drawn, and each signature after reading the document's hash

    async def one_tender(tender: Tender) -> None:
        async with in_flight:
            deadline = datetime.now(UTC) + timedelta(seconds=args.deadline)
            if not await lanes.run("publish", partial(publish, tender, deadline)):
                return
            lot = tender.plan.lots[0]
            bids = [
                partial(
                    bid,
                    tender,
                    bidder,
                    (lot.estimate * Decimal(str(round(rng.uniform(0.84, 0.99), 4)))).quantize(
                        Decimal(1)
                    ),
                )
                for bidder in rng.sample(suppliers, args.bidders)
            ]
            await asyncio.gather(*(lanes.run("bids", job) for job in bids))
            left = (deadline - datetime.now(UTC)).total_seconds()
            late_waits.append(left)
            await asyncio.sleep(max(0.0, left) + 0.3)  # the deadline service's tick
            for step, job in (
                ("opening", open_bids),
                ("evaluation", evaluate),
                ("contracts", contract),
            ):
                if not await lanes.run(step, partial(job, tender)):
                    return

    await asyncio.gather(*(one_tender(tender) for tender in tenders))
    return {
        "awarded": sum(1 for t in tenders if t.winner),
        "signed": sum(1 for t in tenders if t.contract_id),
        "requests": dict(lanes.requests),
        "failed": dict(lanes.failures),
        "deadline_left_after_bids_s": {
            "min": min(late_waits, default=math.nan),
            "median": sorted(late_waits)[len(late_waits) // 2] if late_waits else math.nan,
        },
    }


def _lane(run: Running, tls: ssl.SSLContext) -> httpx.AsyncClient:
    """One keep-alive connection: httpcore scans every connection of its pool for every
    request, which with a pool of 64 cost the client more CPU than the API."""
    return api_client(run.api_url, timeout=REQUEST_WITHIN, connections=1, verify=tls)


async def _api_up(market: Market) -> bool:
    try:
        return (await market.http.get("/health")).status_code == 200
    except httpx.TransportError:
        return False


async def caught_up(connection: Any, awarded: int) -> dict[str, float]:
    """Seconds until the public awards show every award made and the outbox is empty."""
    started = time.monotonic()
    seconds: dict[str, float] = {}

    async def awards_public() -> bool:
        return bool(await connection.fetchval("SELECT count(*) FROM awards") >= awarded)

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
            markets = [
                Market(await stack.enter_async_context(_lane(run, tls)), operator)
                for _ in range(args.concurrency)
            ]
            await until(partial(_api_up, markets[0]), 60, "the API answering /health")
            console.print(f"parties: agencies, committees and {max(args.bidders, 10)} suppliers")
            parties = await register(markets[0], args)
            lanes = Lanes(markets)

            async def count_events() -> int:
                return int(await connection.fetchval("SELECT count(*) FROM events"))

            client = {"benchmark client": [psutil.Process()]}
            console.print("the idle platform's CPU")
            idle = await idle_cores(run.components)
            meter = CpuMeter(lambda: run.components() | client).start()
            events_before, started = await count_events(), time.monotonic()
            console.print(
                f"procedure: {args.tenders} tenders x {args.bidders} bidders,"
                f" up to {args.in_flight} tenders in flight, deadlines {args.deadline:.0f} s ahead"
            )
            outcome = await procedure(lanes, args, parties)
            seconds = time.monotonic() - started
            events = await count_events() - events_before
            used = meter.stop()
        catch_up = await caught_up(connection, outcome["awarded"])
    finally:
        await connection.close()
    rows = args.baseline_count
    baselines = await measure_baselines(
        run.database_url, run.bootstrap, rows, BASELINE_CONCURRENCY, run.components, idle
    )
    why = ", ".join(f"{n} {k}" for k, n in outcome["failed"].items()) or "no event recorded"
    per_row = baseline_ms(baselines)
    cost = cpu_cost(used, events, "event", why, per_row, idle=idle, seconds=seconds)
    rate = per(events, seconds)
    requests = sum(outcome["requests"].values())
    return {
        "config": {
            "tenders": args.tenders,
            "bidders": args.bidders,
            "concurrency": args.concurrency,
            "deadline_s": args.deadline,
            "tenders_in_flight": args.in_flight,
            "workers": args.workers,
            "baseline_count": rows,
            "client": "the market driver, one httpx.AsyncClient per connection, one process",
            "cores": psutil.cpu_count(),
        },
        "procedure": {
            "seconds": seconds,
            "events": events,
            "events_per_s": rate,
            "requests": requests,
            "requests_per_s": per(requests, seconds),
            "deadline_left_after_bids_s": outcome["deadline_left_after_bids_s"],
            "events_per_tender": per(events, args.tenders),
            "contracts_signed": outcome["signed"],
        },
        "requests_per_step": outcome["requests"],
        "failed": outcome["failed"],
        "catch_up_after_last_signature": catch_up,
        "cpu_during_procedure": cost,
        "platform_cpu_ms_per_request": per(cost["net_platform_ms_per_unit"] * events, requests),
        "baselines": baselines,
        "target_events_per_s": TARGET_EVENTS_PER_S,
    }


def report(results: dict[str, Any]) -> None:
    whole, base, config = results["procedure"], results["baselines"], results["config"]
    cost = results["cpu_during_procedure"]
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
        ("events per second", fmt(whole["events_per_s"], 0), ">= 1,500"),
        ("requests per second", fmt(whole["requests_per_s"], 0), ""),
        (
            "platform CPU ms / event, all / net of idle",
            f"{fmt(cost['platform_ms_per_unit'])} / {fmt(cost['net_platform_ms_per_unit'])}",
            "",
        ),
        ("platform CPU ms / request, net of idle", fmt(results["platform_cpu_ms_per_request"]), ""),
        (
            "deadline left after a tender's bids, min / median s",
            f"{fmt(whole['deadline_left_after_bids_s']['min'], 1)}"
            f" / {fmt(whole['deadline_left_after_bids_s']['median'], 1)}",
            "",
        ),
        (
            "refused or failed",
            ", ".join(f"{k}: {v}" for k, v in results["failed"].items()) or "none",
            "",
        ),
        ("events per tender", fmt(whole["events_per_tender"], 1), ""),
        ("contracts signed by both parties", f"{whole['contracts_signed']:,}", ""),
        ("awards public, s after the last signature", fmt(catch_up["awards_public_s"], 1), ""),
        ("outbox empty, s after the last signature", fmt(catch_up["outbox_empty_s"], 1), ""),
        *baseline_rows(base, whole["events_per_s"], "event"),
    ]
    for row in rows:
        summary.add_row(*row)
    console.print(summary)

    steps = Table(title="Requests per step")
    steps.add_column("step")
    steps.add_column("requests", justify="right")
    for name, count in results["requests_per_step"].items():
        steps.add_row(name, f"{count:,}")
    console.print(steps)

    title = f"CPU during the procedure ({whole['seconds']:.1f} s, {config['cores']} cores)"
    console.print(cost_table(title, cost, whole["seconds"]))


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
        default=20.0,
        help="seconds from a publication to its deadline (20)",
    )
    parser.add_argument(
        "--in-flight",
        type=int,
        default=200,
        help="tenders going through the procedure at once (200)",
    )
    parser.add_argument("--workers", type=int, default=1, help="stream workers")
    parser.add_argument("--baseline-count", type=int, default=10_000, help="rows and messages")
    parser.add_argument("--out", type=Path, default=Path("bench-results/procedure.json"))
    args = parser.parse_args(argv)
    if args.tenders < 1 or not 1 <= args.bidders <= 1000:
        parser.error("--tenders must be at least 1 and --bidders between 1 and 1,000")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    run_with_short_periods(arguments(argv), measure, report)


if __name__ == "__main__":
    main()
