"""``procurement up``: the whole platform on one machine.

Uses DATABASE_URL and KAFKA_BOOTSTRAP_SERVERS when they are set; otherwise starts the
embedded PostgreSQL (data kept under the data directory) and the embedded broker, as
supervised child processes. Then it runs the stream workers and serves the API, restarts
what dies, and stops everything cleanly on Ctrl-C or SIGTERM.
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
from entrypoints.cli.terminal import save_api_url
from entrypoints.http.app import create_api
from entrypoints.http.serving import server_config

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


def stop_process(process: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    """SIGTERM, then SIGKILL if ``process`` has not ended within ``timeout`` seconds."""
    stop_together([Child(process)], grace=timeout)


@dataclass
class Platform:
    settings: Settings
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    workers: int = 1
    postgres: EmbeddedPostgres | None = None
    broker: EmbeddedBroker | None = None
    worker_processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

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
        """Stop every child at once: workers, broker and PostgreSQL stop in parallel."""
        children = [Child(process) for process in self.worker_processes]
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
        # Everything this process and its children (PostgreSQL, the broker, the workers)
        # create is its owner's only, from the start: keys, tokens, logs, the database.
        os.umask(private_files.UMASK)
        lock = data_dir_lock.hold(self.settings.data_dir)  # refuses beside a live platform
        database_url, bootstrap = self.start_services()
        try:
            settings = replace(self.settings, admin_token=admin_token(self.settings))
            env = worker_environment(settings, database_url, bootstrap)
            logs = self.settings.data_dir / "logs"
            self.worker_processes = [
                start_worker(env, logs / f"worker-{n}.log") for n in range(self.workers)
            ]
            config = server_config(
                create_api(settings, database_url), settings.http, self.api_host, self.api_port
            )
            server = uvicorn.Server(config)
            # uvicorn shuts down on SIGTERM, then raises it again: with the default handler
            # that would kill this process before it stops PostgreSQL, the broker and the
            # workers below. Ours turns it into an exit that runs the ``finally``.
            signal.signal(signal.SIGTERM, _exit)
            self._announce(database_url, bootstrap, logs)
            supervisor = asyncio.create_task(self._supervise(env, logs))
            hurry = asyncio.create_task(_end_connections_when_stopping(server))
            try:
                await server.serve()
            finally:
                supervisor.cancel()
                hurry.cancel()
        finally:
            self.stop_services()
            os.close(lock)

    async def _supervise(self, env: dict[str, str], logs: Path) -> None:
        """Restart PostgreSQL, the broker or a worker that died. A restarted embedded broker
        is empty: the relay notices and republishes the event store. Meanwhile the API
        answers 503 to what needs the database."""
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


def _exit(signum: int, _: object) -> None:
    raise SystemExit(128 + signum)
