"""A whole platform for one test module, on the same launcher pieces as `procurement up`:
a fresh database on the session's embedded PostgreSQL, its own embedded broker, stream
workers as child processes, and the API served by uvicorn on a free port."""

import asyncio
import contextlib
import subprocess
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import uvicorn

from adapters.embedded import EmbeddedBroker, free_port
from adapters.http_limits import HttpLimits
from adapters.postgres.database import connect_pool
from adapters.settings import Settings
from entrypoints.http.app import create_api
from entrypoints.http.serving import server_config
from entrypoints.launcher import start_worker, stop_process, worker_environment
from procurement.rules import ProcedureRules

OPERATOR_TOKEN = "operator-token-for-tests"
# A tender's status once its deadline passed: closed, or, with no bid to evaluate,
# unsuccessful at once (no bid, no award).
PAST_DEADLINE = ("closed", "unsuccessful")
T = TypeVar("T")


def settings_for_tests(data_dir: Path) -> Settings:
    return Settings(
        data_dir=data_dir,
        admin_token=OPERATOR_TOKEN,
        ocid_prefix="ocds-test00",
        kafka_fetch_wait_ms=10,
        # Short periods so that deadlines pass while the tests watch.
        rules=ProcedureRules(
            minimum_tender_period=timedelta(0),
            minimum_period_after_significant_amendment=timedelta(seconds=30),
            minimum_auction_notice=timedelta(seconds=1),
            minimum_standstill_days=0,  # contracts follow their awards while the tests watch
            enquiry_period_before_deadline=timedelta(seconds=5),
            answer_before_deadline=timedelta(seconds=3),
        ),
        http=HttpLimits().raised(),  # the tests send from one address, faster than people do
    )


async def eventually(probe: Callable[[], Awaitable[T | None]], within: float = 30.0) -> T:
    """The first truthy answer of ``probe``, polling until ``within`` seconds pass."""
    deadline = time.monotonic() + within
    while True:
        answer = await probe()
        if answer:
            return answer
        if time.monotonic() > deadline:
            msg = f"no answer from {getattr(probe, '__name__', probe)} within {within}s"
            raise AssertionError(msg)
        await asyncio.sleep(0.02)


@dataclass
class Stack:
    settings: Settings
    database_url: str
    broker: EmbeddedBroker
    pool: Any = None
    api_url: str = ""
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _server: uvicorn.Server | None = None
    _serving: asyncio.Task[None] | None = None

    @property
    def log_dir(self) -> Path:
        return self.settings.data_dir / "logs"

    async def start(self, workers: int = 1) -> None:
        self.pool = await connect_pool(self.database_url)
        for _ in range(workers):
            self.start_worker()
        port = free_port()
        api = create_api(self.settings, self.database_url)
        config = server_config(api, self.settings.http, "127.0.0.1", port)
        self._server = uvicorn.Server(config)
        self._serving = asyncio.create_task(self._server.serve())
        self.api_url = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=self.api_url) as client:

            async def api_up() -> bool:
                with contextlib.suppress(httpx.TransportError):
                    return (await client.get("/health")).status_code == 200
                return False

            await eventually(api_up, within=15)
        if workers:
            await self.wait_for_workers()

    async def wait_for_workers(self) -> None:
        """Return once a worker has joined its group and projects: a registration made now
        shows up in the read model."""
        identifier = f"WARM-UP-{len(self.workers)}-{time.monotonic_ns()}"
        async with self.client(OPERATOR_TOKEN) as operator:
            response = await operator.post(
                "/agencies", json={"name": "Warm-up", "identifier": identifier}
            )
            assert response.status_code == 201, response.text

        async def projected() -> bool:
            query = "SELECT 1 FROM agencies WHERE identifier = $1"
            return bool(await self.pool.fetchval(query, identifier))

        await eventually(projected, within=60)

    def start_worker(self) -> subprocess.Popen[bytes]:
        env = worker_environment(self.settings, self.database_url, self.broker.bootstrap_servers)
        worker = start_worker(env, self.log_dir / f"worker-{len(self.workers)}.log")
        self.workers.append(worker)
        return worker

    async def stop(self) -> None:
        for worker in self.workers:
            await asyncio.to_thread(stop_process, worker)
        if self._server is not None and self._serving is not None:
            self._server.should_exit = True
            await self._serving
        if self.pool is not None:
            await self.pool.close()
        self.broker.stop()

    def client(self, token: str | None = None) -> httpx.AsyncClient:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return httpx.AsyncClient(base_url=self.api_url, headers=headers, timeout=30)


async def read_models_match_the_store(stack: Stack) -> bool:
    """True when every tender in the read model is exactly the replay of its events in the
    store, and each of those events was applied once."""
    from adapters.kafka.topology import TENDERS
    from readmodels.projections import tender_document
    from schemas.upcasting import read_envelope

    rows = await stack.pool.fetch(
        "SELECT envelope FROM events WHERE type = ANY($1) ORDER BY aggregate_id, sequence",
        sorted(TENDERS.event_types),
    )
    expected: dict[str, tuple[Any, int]] = {}
    for row in rows:
        item = read_envelope(row["envelope"])
        before = expected.get(item.aggregate_id, (None, 0))[0]
        expected[item.aggregate_id] = (tender_document(before, item), item.sequence)
    actual = {
        row["ocid"]: (row["document"], row["version"])
        for row in await stack.pool.fetch("SELECT ocid, document, version FROM tenders")
    }
    applied = await stack.pool.fetchval(
        "SELECT count(*) FROM applied_events WHERE projection = $1", TENDERS.name
    )
    return actual == expected and applied == len(rows)


# Read models of the procedure after the opening, with the columns that order them.
PROCEDURE_READ_MODELS = {
    "awards": "ocid, lot_id",
    "auctions": "auction_id",
    "lot_savings": "ocid, lot_id",
    "contracts": "contract_id",
}


async def rebuilt_read_models_match(stack: Stack) -> bool:
    """Empty the read models of evaluations, auctions and contracts, apply every event of
    their topics again from the store, in order, and say whether they came out the same."""
    from adapters.kafka.topology import AUCTIONS, CONTRACTS, EVALUATIONS
    from readmodels import projections
    from schemas.upcasting import read_envelope

    async def snapshot() -> dict[str, list[Any]]:
        return {
            table: [
                dict(row)
                for row in await stack.pool.fetch(f"SELECT * FROM {table} ORDER BY {order}")
            ]
            for table, order in PROCEDURE_READ_MODELS.items()
        }

    before = await snapshot()
    topics = (EVALUATIONS, AUCTIONS, CONTRACTS)
    async with stack.pool.acquire() as connection, connection.transaction():
        for table in PROCEDURE_READ_MODELS:
            await connection.execute(f"DELETE FROM {table}")
        await connection.execute(
            "DELETE FROM applied_events WHERE projection = ANY($1)", [t.name for t in topics]
        )
    for topic in topics:
        rows = await stack.pool.fetch(
            "SELECT envelope FROM events WHERE type = ANY($1) ORDER BY position",
            sorted(topic.event_types),
        )
        for start in range(0, len(rows), 100):
            batch = [read_envelope(row["envelope"]) for row in rows[start : start + 100]]
            await projections.apply(stack.pool, topic, batch)
    return await snapshot() == before and any(before.values())


async def rebuilt_records_match(stack: Stack) -> bool:
    """Empty the OCDS records, record every public event again from the store, in order
    (the releases are kept: they are stored once), and say whether each procedure's record
    came out the same."""
    from adapters.kafka.topology import BIDS, CONTRACTS, EVALUATIONS, TENDERS
    from readmodels import releases
    from schemas.upcasting import read_envelope

    async def snapshot() -> list[Any]:
        return [dict(row) for row in await stack.pool.fetch("SELECT * FROM records ORDER BY ocid")]

    before = await snapshot()
    await stack.pool.execute("DELETE FROM records")
    types = set().union(*(t.event_types for t in (TENDERS, BIDS, EVALUATIONS, CONTRACTS)))
    rows = await stack.pool.fetch(
        "SELECT envelope FROM events WHERE type = ANY($1) ORDER BY position", sorted(types)
    )
    for start in range(0, len(rows), 100):
        batch = [read_envelope(row["envelope"]) for row in rows[start : start + 100]]
        async with stack.pool.acquire() as connection, connection.transaction():
            assert await releases.record(connection, batch) == 0  # no release is new
    return await snapshot() == before and bool(before)
