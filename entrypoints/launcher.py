"""``procurement up``: the whole platform on one machine.

Uses DATABASE_URL and KAFKA_BOOTSTRAP_SERVERS when they are set; otherwise starts the
embedded PostgreSQL (data kept under the data directory) and the embedded broker, as
supervised child processes. Then it runs the stream workers and the API processes, which
share one port (SO_REUSEPORT), restarts what dies, and stops everything cleanly on Ctrl-C
or SIGTERM.
"""

import asyncio
import contextlib
import logging
import os
import secrets
import signal
import subprocess
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

import uvicorn

from adapters import data_dir_lock, private_files
from adapters.child_processes import Child, die_with_parent, stop_together
from adapters.embedded import EmbeddedBroker, EmbeddedPostgres, ServiceFailed, free_port
from adapters.settings import Settings
from entrypoints import heap
from entrypoints.cli.terminal import save_api_url
from entrypoints.http.app import create_api
from entrypoints.http.serving import port_must_be_free, server_config, shared_socket

log = logging.getLogger("procurement")

STOP_CONNECTIONS_GRACE = 0.5  # seconds open requests get to finish on Ctrl-C or SIGTERM


def admin_token(settings: Settings) -> str:
    """The operator's token: from the environment, or made once and kept in the data dir."""
    if settings.admin_token:
        return settings.admin_token
    path = private_files.directory(settings.data_dir) / "admin-token"
    with contextlib.suppress(FileExistsError):  # made by an earlier start
        private_files.create(path, secrets.token_urlsafe(32).encode())
    return path.read_text().strip()


def worker_environment(
    settings: Settings, database_url: str, bootstrap_servers: str
) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        KAFKA_BOOTSTRAP_SERVERS=bootstrap_servers,
        PROCUREMENT_DATA_DIR=str(settings.data_dir),
        PROCUREMENT_KAFKA_FETCH_WAIT_MS=str(settings.kafka_fetch_wait_ms),
        PROCUREMENT_KAFKA_INLINE_BYTES=str(settings.kafka_inline_bytes),
        PROCUREMENT_OCID_PREFIX=settings.ocid_prefix,
        PROCUREMENT_MIN_TENDER_PERIOD=f"{settings.rules.minimum_tender_period.total_seconds()}s",
        PROCUREMENT_MIN_PERIOD_AFTER_AMENDMENT=(
            f"{settings.rules.minimum_period_after_significant_amendment.total_seconds()}s"
        ),
        PROCUREMENT_MIN_AUCTION_NOTICE=f"{settings.rules.minimum_auction_notice.total_seconds()}s",
        PROCUREMENT_MIN_STANDSTILL_DAYS=str(settings.rules.minimum_standstill_days),
        PROCUREMENT_ENQUIRY_PERIOD_BEFORE_DEADLINE=(
            f"{settings.rules.enquiry_period_before_deadline.total_seconds()}s"
        ),
        PROCUREMENT_ANSWER_BEFORE_DEADLINE=f"{settings.rules.answer_before_deadline.total_seconds()}s",
    )
    if settings.admin_token:  # the token itself, read from its file once if it came from one
        env.pop("PROCUREMENT_ADMIN_TOKEN_FILE", None)
        env["PROCUREMENT_ADMIN_TOKEN"] = settings.admin_token
    if settings.smtp_url:
        env.update(PROCUREMENT_SMTP_URL=settings.smtp_url, PROCUREMENT_MAIL_FROM=settings.mail_from)
    return env


def start_worker(env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """One stream worker as a child process, logging to ``log_path``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = env | {"PROCUREMENT_WORKER_WEB_PORT": str(free_port())}
    with log_path.open("ab") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "entrypoints.worker"],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent(),
        )


def start_api(env: dict[str, str], log_path: Path, host: str, port: int) -> subprocess.Popen[bytes]:
    """One API process as a child, on a port it shares with its siblings (SO_REUSEPORT: the
    kernel spreads the connections among them), logging to ``log_path``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "entrypoints.cli", "api", "--reuse-port"]
    with log_path.open("ab") as output:
        return subprocess.Popen(
            [*command, "--host", host, "--port", str(port)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent(),
        )


def stop_process(process: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    """SIGTERM, then SIGKILL if ``process`` has not ended within ``timeout`` seconds."""
    stop_together([Child(process)], grace=timeout)


@dataclass
class Platform:
    settings: Settings
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    workers: int = 1
    apis: int = 1  # API processes, sharing the port
    postgres: EmbeddedPostgres | None = None
    broker: EmbeddedBroker | None = None
    worker_processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    api_processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start_services(self) -> tuple[str, str]:
        """Start what is not configured: PostgreSQL and the broker, both at once."""
        if self.settings.database_url is None:
            self.postgres = EmbeddedPostgres(self.settings.data_dir / "postgres")
            self.postgres.end_leftover()
            self.postgres.spawn()
        if self.settings.kafka_bootstrap_servers is None:
            self.broker = EmbeddedBroker(log_dir=self.settings.data_dir / "logs")
            self.broker.spawn()
        try:
            database_url = self.settings.database_url or self._postgres.wait_until_ready()
            bootstrap = self.settings.kafka_bootstrap_servers or self._broker.wait_until_ready()
        except BaseException:
            self.stop_services()
            raise
        return database_url, bootstrap

    def stop_services(self) -> None:
        """Stop every child at once: API processes, workers, broker and PostgreSQL stop in
        parallel."""
        children = [Child(process) for process in self.api_processes + self.worker_processes]
        children += [
            service.child for service in (self.broker, self.postgres) if service and service.child
        ]
        stop_together(children)

    @property
    def _postgres(self) -> EmbeddedPostgres:
        assert self.postgres is not None
        return self.postgres

    @property
    def _broker(self) -> EmbeddedBroker:
        assert self.broker is not None
        return self.broker

    async def run(self) -> None:
        # Everything this process and its children (PostgreSQL, the broker, the workers,
        # the API processes) create is its owner's only, from the start: keys, tokens,
        # logs, the database.
        os.umask(private_files.UMASK)
        lock = data_dir_lock.hold(self.settings.data_dir)  # refuses beside a live platform
        port_must_be_free(self.api_host, self.api_port)
        database_url, bootstrap = self.start_services()
        stopping = _stop_signals()
        try:
            settings = replace(self.settings, admin_token=admin_token(self.settings))
            env = worker_environment(settings, database_url, bootstrap)
            logs = self.settings.data_dir / "logs"
            self.worker_processes = [
                start_worker(env, logs / f"worker-{n}.log") for n in range(self.workers)
            ]
            self.api_processes = [self._start_api(env, logs, n) for n in range(self.apis)]
            self._announce(database_url, bootstrap, logs)
            supervisor = asyncio.create_task(self._supervise(env, logs))
            try:
                signum = await stopping
            finally:
                supervisor.cancel()
        finally:
            self.stop_services()
            os.close(lock)
        raise SystemExit(128 + signum)

    def _start_api(self, env: dict[str, str], logs: Path, n: int) -> subprocess.Popen[bytes]:
        return start_api(env, logs / f"api-{n}.log", self.api_host, self.api_port)

    async def _supervise(self, env: dict[str, str], logs: Path) -> None:
        """Restart PostgreSQL, the broker, a worker or an API process that died. A restarted
        embedded broker is empty: the relay notices and republishes the event store.
        Meanwhile the API answers 503 to what needs the database; the other API processes
        answer for one that restarts, as they hold nothing it needs."""
        while True:
            await asyncio.sleep(0.5)
            try:
                await self._restart_postgres()
                await self._restart_broker()
            except ServiceFailed as error:
                log.error("%s; trying again", error)
            for n, process in enumerate(self.worker_processes):
                if process.poll() is not None:
                    log.warning(
                        "stream worker %d exited with %s; restarting it", n, process.returncode
                    )
                    self.worker_processes[n] = start_worker(env, logs / f"worker-{n}.log")
            for n, process in enumerate(self.api_processes):
                if process.poll() is not None:
                    log.warning(
                        "API process %d exited with %s; restarting it", n, process.returncode
                    )
                    self.api_processes[n] = self._start_api(env, logs, n)

    async def _restart_postgres(self) -> None:
        if self.postgres is None or self.postgres.running:
            return
        log.warning("the embedded PostgreSQL stopped; restarting it")
        await asyncio.to_thread(self.postgres.end_leftover)  # its backends, still ending
        self.postgres.spawn()  # from this thread, which lives as long as the platform
        await asyncio.to_thread(self.postgres.wait_until_ready)
        log.warning("the embedded PostgreSQL is back")

    async def _restart_broker(self) -> None:
        if self.broker is None or self.broker.running:
            return
        log.warning("the embedded Kafka broker stopped; restarting it on port %s", self.broker.port)
        self.broker.spawn()  # from this thread, which lives as long as the platform
        await asyncio.to_thread(self.broker.wait_until_ready)

    def _announce(self, database_url: str, bootstrap: str, logs: Path) -> None:
        base = f"http://{self.api_host}:{self.api_port}"
        embedded = "embedded" if self.postgres else "external"
        broker = "embedded" if self.broker else "external"
        lines = [
            "Procurement platform is running.",
            f"  API              {base}  (OpenAPI: {base}/openapi.json, docs: {base}/docs)",
            f"  API processes    {self.apis}, logs in {logs}",
            f"  public pages     {base}/  (JSON: {base}/tenders)",
            f"  PostgreSQL       {embedded}: {database_url}",
            f"  Kafka            {broker}: {bootstrap}",
            f"  stream workers   {self.workers}, logs in {logs}",
            f"  operator token   {self.settings.data_dir / 'admin-token'}"
            if not self.settings.admin_token
            else "  operator token   from PROCUREMENT_ADMIN_TOKEN",
            "Press Ctrl-C to stop.",
        ]
        print("\n".join(lines), flush=True)
        save_api_url(base)  # the user's own config, never the working directory


def serve_api(
    settings: Settings, database_url: str, host: str, port: int, *, reuse_port: bool = False
) -> None:
    """Serve the API in this process until SIGINT or SIGTERM; with ``reuse_port``, beside
    the other API processes of this machine on the same port."""
    config = server_config(
        create_api(settings, database_url), settings.http, host, port, log_level="info"
    )
    server = uvicorn.Server(config)
    heap.settle()

    async def serve() -> None:
        hurry = asyncio.create_task(_end_connections_when_stopping(server))
        try:
            await server.serve([shared_socket(host, port)] if reuse_port else None)
        finally:
            hurry.cancel()

    asyncio.run(serve())


def _stop_signals() -> "asyncio.Future[int]":
    """The first SIGINT or SIGTERM, as a future: the platform then stops its children and
    exits with 128 + the signal's number."""
    loop = asyncio.get_running_loop()
    stopping: asyncio.Future[int] = loop.create_future()
    for signum in (signal.SIGINT, signal.SIGTERM):

        def stop(signum: int = signum) -> None:
            if not stopping.done():
                stopping.set_result(signum)

        loop.add_signal_handler(signum, stop)
    return stopping


async def _end_connections_when_stopping(
    server: uvicorn.Server, grace: float = STOP_CONNECTIONS_GRACE
) -> None:
    """Once asked to stop, uvicorn waits for every open connection to finish, and a live
    stream (/ocds/releases/live, an auction's) never does: after ``grace`` seconds, stop
    waiting, as a second Ctrl-C would."""
    while not server.should_exit:  # noqa: ASYNC110  # uvicorn sets a flag, not an event
        await asyncio.sleep(0.05)
    await asyncio.sleep(grace)
    server.force_exit = True
