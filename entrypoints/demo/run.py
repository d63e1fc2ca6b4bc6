"""``procurement demo``: a whole, realistic market on a platform of its own.

It starts the platform on the embedded default (PostgreSQL, the Kafka-protocol broker, one
stream worker and the API) in a fresh temporary directory, with procedural periods of
seconds instead of days; plays the market of ``entrypoints.demo.story`` on it; writes what
the public can read of it to the output directory; prints the savings; and stops and removes
everything, also on Ctrl-C or SIGTERM. With ``api_url`` it drives a platform that is already
running instead (which must allow short tender periods and auction notices).

The output directory holds ``summary.json`` (the parties, each tender and lot's outcome, the
savings of ``GET /savings``, the events recorded and the audit's verdict), ``savings.json``,
the public documents read back from the API (``tenders/``, ``awards/``, ``contracts/``), and
the public record anyone can check (``entrypoints.demo.public_record``): every bidder's
receipts, the platform's keys, OCDS data with its extensions, and an audit's recording.
"""

import asyncio
import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any

import asyncpg
import httpx
import psutil

from adapters.embedded import free_port
from adapters.settings import Settings, parse_public_url
from entrypoints.demo.public_record import (
    record_audit,
    until_the_log_settles,
    write_json,
    write_ocds,
    write_receipts,
)
from entrypoints.demo.story import Story
from entrypoints.launcher import (
    Platform,
    admin_token,
    start_worker,
    stop_process,
    worker_environment,
)
from procurement.rules import ProcedureRules
from publication.savings import Summary
from sdk.market import Market, until

# Seconds where the law says days, so that the demo runs in a few minutes.
DEMO_RULES = ProcedureRules(
    minimum_tender_period=timedelta(0),
    minimum_period_after_significant_amendment=timedelta(seconds=5),
    minimum_auction_notice=timedelta(seconds=2),
    minimum_standstill_days=0,  # the demo's contracts follow their awards at once
    enquiry_period_before_deadline=timedelta(seconds=2),
    answer_before_deadline=timedelta(seconds=1),
)
API_WITHIN = 60.0  # seconds for the API to answer /health after it starts

Say = Callable[[str], None]


class DemoFailed(RuntimeError):
    """The platform did not start, or a step of the market failed."""


@dataclass(frozen=True)
class Options:
    out: Path
    tenders: int = 8
    suppliers: int = 36
    bidding_seconds: float = 15.0
    public_url: str | None = None  # where the written OCDS data says the platform serves it


@dataclass(frozen=True)
class Target:
    """The platform the demo drives."""

    api_url: str
    operator_token: str
    database_url: str | None = None  # to count the events recorded; None when external


def run(
    options: Options, say: Say, api_url: str | None = None, token: str | None = None
) -> dict[str, Any]:
    """Play the demo and write its outputs; the summary. On its own platform unless
    ``api_url`` (with the operator's ``token``) names a running one."""
    if options.public_url is None and os.environ.get("PROCUREMENT_PUBLIC_URL"):
        options = replace(
            options, public_url=parse_public_url(os.environ["PROCUREMENT_PUBLIC_URL"])
        )
    options.out.mkdir(parents=True, exist_ok=True)
    if api_url is not None:
        if not token:
            raise DemoFailed("driving a running platform needs its operator token (--token)")
        suffix = "-" + secrets.token_hex(3)  # the platform may have seen a demo before
        return asyncio.run(play(Target(api_url.rstrip("/"), token), options, say, suffix))
    with embedded_platform(say) as target:
        return asyncio.run(play(target, options, say))


async def play(target: Target, options: Options, say: Say, suffix: str = "") -> dict[str, Any]:
    started = time.monotonic()
    async with httpx.AsyncClient(base_url=target.api_url, timeout=120) as http:
        market = Market(http, target.operator_token)
        auctions = await auctions_served(market)
        if not auctions:
            say(
                "this platform does not run electronic auctions yet: those tenders are plain open ones"
            )
        story = Story(
            market,
            say,
            tenders=options.tenders,
            suppliers=options.suppliers,
            bidding_seconds=options.bidding_seconds,
            auctions=auctions,
            suffix=suffix,
        )
        await story.play()
        await until_awards_public(market, story)
        await until_contracts_counted(market, story)
        savings = await market.read("/savings")
        documents = await write_documents(market, story, options.out)
        documents["receipts"] = write_receipts(options.out, story.receipts)
        keys = await market.read("/platform/keys")
        documents["platform_keys"] = [write_json(options.out / "platform-keys.json", keys)]
        await until_the_log_settles(market)
    events = await count_events(target.database_url) if target.database_url else None
    ocids = [tender.ocid for tender in story.tenders]
    ocds = await write_ocds(options.out / "ocds", target.database_url, ocids, options.public_url)
    audit = await audit_everything(target, options.out / "public", say)
    summary = summarise(story, savings, events, documents, ocds) | {"audit": audit}
    summary["seconds"] = round(time.monotonic() - started, 1)
    write_json(options.out / "summary.json", summary)
    write_json(options.out / "savings.json", savings)
    for currency in savings["currencies"].values():
        say("\n".join(Summary.model_validate(currency).to_text()))
    say(f"wrote the summary and the public documents to {options.out}")
    return summary


async def auctions_served(market: Market) -> bool:
    paths = (await market.read("/openapi.json"))["paths"]
    return "/tenders/{ocid}/auctions" in paths


async def audit_everything(target: Target, directory: Path, say: Say) -> dict[str, Any]:
    """An audit of every procedure on the live platform, its answers saved in ``directory``;
    its verdict, each failure said."""
    report = await record_audit(target.api_url, directory)
    say(f"audited every procedure from public data alone: {report.summary()}")
    failures = [check.line for check in report.failures]
    for line in failures:
        say(line)
    return {"summary": report.summary(), "ok": report.ok, "failures": failures}


async def until_awards_public(market: Market, story: Story) -> None:
    """The awards reach the public read model through the stream: wait for all of them."""

    async def published() -> bool:
        for tender in story.tenders:
            awarded = {lot_id for lot_id, lot in tender.lots.items() if "winner" in lot}
            shown = (await market.read(f"/tenders/{tender.ocid}/awards"))["awards"]
            if {a["lot_id"] for a in shown if a["status"] == "awarded"} != awarded:
                return False
        return True

    await until(published, 60, "the awards becoming public")


async def until_contracts_counted(market: Market, story: Story) -> None:
    """A lot's saving counts once its contract is concluded, which reaches the savings
    through the stream: wait for every contracted lot."""
    contracted = {
        (tender.ocid, lot_id)
        for tender in story.tenders
        for lot_id, lot in tender.lots.items()
        if lot.get("contract")
    }

    async def counted() -> bool:
        currencies = (await market.read("/savings"))["currencies"].values()
        found = {(lot["ocid"], lot["lot_id"]) for c in currencies for lot in c["lots"]}
        return contracted <= found

    await until(counted, 60, "the contracted lots counting in the savings")


async def write_documents(market: Market, story: Story, out: Path) -> dict[str, list[str]]:
    """The public documents, as anyone reads them from the API; the files written."""
    written: dict[str, list[str]] = {"tenders": [], "awards": [], "enquiries": [], "contracts": []}
    for tender in story.tenders:
        for kind, path in (
            ("tenders", f"/tenders/{tender.ocid}"),
            ("awards", f"/tenders/{tender.ocid}/awards"),
            ("enquiries", f"/tenders/{tender.ocid}/enquiries"),
        ):
            written[kind].append(
                write_json(out / kind / f"{tender.ocid}.json", await market.read(path))
            )
    for contract_id in story.contracts:
        document = await market.read(f"/contracts/{contract_id}")
        written["contracts"].append(write_json(out / "contracts" / f"{contract_id}.json", document))
    return written


async def count_events(database_url: str) -> dict[str, Any]:
    connection = await asyncpg.connect(database_url)
    try:
        rows = await connection.fetch(
            "SELECT type, count(*) AS n FROM events GROUP BY type ORDER BY type"
        )
    finally:
        await connection.close()
    by_type = {row["type"]: row["n"] for row in rows}
    return {"total": sum(by_type.values()), "by_type": by_type}


def summarise(
    story: Story,
    savings: dict[str, Any],
    events: dict[str, Any] | None,
    documents: dict[str, list[str]],
    ocds: dict[str, Any],
) -> dict[str, Any]:
    return {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "parties": {
            "agencies": [
                {
                    "id": buyer.agency_id,
                    "name": buyer.name,
                    "lead_officer": _party(buyer.lead),
                    "committee": [_party(member) for member in buyer.members],
                }
                for buyer in story.buyers
            ],
            "reviewer": _party(story.reviewer) if story.reviewer else None,
            "suppliers": [
                _party(s) | {"is_sme": s.is_sme, "trade": story.trades[s.id]}
                for s in story.suppliers
            ],
        },
        "tenders": [
            {
                "ocid": tender.ocid,
                "title": tender.plan.title,
                "buyer": tender.buyer.name,
                "procedure_type": "open_with_auction"
                if tender.plan.auction and story.auctions
                else "open",
                "award_criteria": "ratedCriteria" if tender.plan.quality else "priceOnly",
                "standstill_days": tender.plan.standstill_days,
                "bidders": len(tender.bidders),
                "bids_opened": len(tender.bids),
                "rejected_at_opening": {
                    story.supplier(bidder_id).name: reason
                    for bidder_id, reason in tender.rejected.items()
                },
                **{k: v for k, v in tender.happened.items() if k != "receipts"},
                "lots": {
                    lot.id: {"estimated_value": str(lot.estimate)} | tender.lots.get(lot.id, {})
                    for lot in tender.plan.lots
                },
            }
            for tender in story.tenders
        ],
        "contracts": [
            {
                "id": contract_id,
                "ocid": where["tender"].ocid,
                "lot_id": where["lot_id"],
                "carried_out": where.get("carried_out", []),
            }
            for contract_id, where in story.contracts.items()
        ],
        "savings": savings,
        "events": events,
        "documents": documents,
        "ocds": ocds,
        "notes": story.notes,
    }


def _party(party: Any) -> dict[str, Any]:
    return {"id": party.id, "name": party.name}


# The demo's own platform


@contextlib.contextmanager
def embedded_platform(say: Say) -> Iterator[Target]:
    """The platform on the embedded default in a fresh temporary directory, with the demo's
    short periods; stopped and removed on the way out, however it is left."""
    data_dir = Path(tempfile.mkdtemp(prefix="procurement-demo-"))
    settings = Settings(data_dir=data_dir, rules=DEMO_RULES)  # never an external database
    settings = replace(settings, admin_token=admin_token(settings))
    platform = Platform(settings)
    logs = data_dir / "logs"
    api: subprocess.Popen[bytes] | None = None
    previous = signal.signal(signal.SIGTERM, _terminated)
    say(
        "starting the platform: embedded PostgreSQL, Kafka-protocol broker, a stream worker, the API"
    )
    try:
        try:
            database_url, bootstrap = platform.start_services()
        except Exception as error:
            raise DemoFailed(f"the platform did not start: {error}") from error
        env = worker_environment(settings, database_url, bootstrap)
        env["PROCUREMENT_MIN_AUCTION_NOTICE"] = "2s"  # the worker needs it as well as the API
        env["PROCUREMENT_MIN_QUOTATION_PERIOD"] = "0s"  # the catalogue's quotes, in seconds
        for name, period in (
            (
                "PROCUREMENT_ENQUIRY_PERIOD_BEFORE_DEADLINE",
                DEMO_RULES.enquiry_period_before_deadline,
            ),
            ("PROCUREMENT_ANSWER_BEFORE_DEADLINE", DEMO_RULES.answer_before_deadline),
        ):
            env[name] = f"{period.total_seconds()}s"
        platform.worker_processes = [start_worker(env, logs / "worker-0.log")]
        port = free_port()
        with (logs / "api.log").open("ab") as output:
            api = subprocess.Popen(
                [sys.executable, "-m", "entrypoints.cli", "api", "--port", str(port)],
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        url = f"http://127.0.0.1:{port}"
        _wait_for_api(url, api, logs)
        say(f"the platform is up at {url} (data in {data_dir}, removed at the end)")
        yield Target(url, settings.admin_token or "", database_url)
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second one must not cut the clean-up
        if api is not None:
            stop_process(api)
        platform.stop_services()
        _stop_stray_postgres(data_dir / "postgres" / "postmaster.pid")
        shutil.rmtree(data_dir, ignore_errors=True)
        signal.signal(signal.SIGTERM, previous)
        say("stopped the platform")


def _wait_for_api(url: str, api: subprocess.Popen[bytes], logs: Path) -> None:
    deadline = time.monotonic() + API_WITHIN
    while time.monotonic() < deadline:
        if api.poll() is not None:
            raise DemoFailed(f"the API exited with {api.returncode}:\n{_tail(logs / 'api.log')}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise DemoFailed(f"the API did not answer within {API_WITHIN:.0f}s:\n{_tail(logs / 'api.log')}")


def _tail(path: Path, lines: int = 20) -> str:
    if not path.exists():
        return f"({path} is empty)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _stop_stray_postgres(pid_file: Path) -> None:
    """Stop a PostgreSQL that an interruption kept from being registered while it started."""
    with contextlib.suppress(OSError, ValueError, IndexError, psutil.Error):
        postmaster = psutil.Process(int(pid_file.read_text().split()[0]))
        if "postgres" in postmaster.name():
            postmaster.send_signal(signal.SIGINT)  # PostgreSQL's fast shutdown
            postmaster.wait(15)


def _terminated(signum: int, _: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # so that the clean-up above runs
