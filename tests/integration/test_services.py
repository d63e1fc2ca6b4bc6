"""The launcher's services: the embedded ones fail loudly, and configured ones are used as
they are."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from adapters.embedded import EmbeddedBroker, EmbeddedPostgres, ServiceFailed, free_port
from adapters.settings import Settings
from entrypoints.launcher import Platform


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


def test_a_broker_that_cannot_start_says_why(busy_port: int, tmp_path: Path) -> None:
    """A port taken by something that is not Kafka gives a ServiceFailed naming the port."""
    with pytest.raises(ServiceFailed, match=f"port {busy_port}"):
        EmbeddedBroker(busy_port, log_dir=tmp_path).start(timeout=5)


def test_a_database_that_cannot_start_says_why(tmp_path: Path) -> None:
    """A data directory that cannot be created gives a ServiceFailed naming it."""
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the data directory's parent should be")
    with pytest.raises(ServiceFailed, match="embedded PostgreSQL did not start"):
        EmbeddedPostgres(blocker / "postgres").start()


def test_configured_services_are_used_instead_of_embedded_ones(
    postgres_server: str, tmp_path: Path
) -> None:
    """With DATABASE_URL and KAFKA_BOOTSTRAP_SERVERS set, nothing embedded is started."""
    broker = EmbeddedBroker()
    bootstrap = broker.start()
    try:
        settings = Settings.from_env(
            {
                "DATABASE_URL": postgres_server,
                "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
                "PROCUREMENT_DATA_DIR": str(tmp_path),
            }
        )
        platform = Platform(settings)
        assert platform.start_services() == (postgres_server, bootstrap)
        assert platform.postgres is None
        assert platform.broker is None
    finally:
        broker.stop()


def test_sigterm_stops_everything_that_up_started(tmp_path: Path) -> None:
    """`procurement up` stopped with SIGTERM (as by systemd or `kill`) stops its database,
    broker and workers before it exits, and leaves none of them running."""
    port = free_port()
    env = os.environ | {"PROCUREMENT_DATA_DIR": str(tmp_path)}
    up = subprocess.Popen(
        [sys.executable, "-m", "entrypoints.cli", "up", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            assert time.monotonic() < deadline, "the platform did not come up"
            time.sleep(0.2)
        children = psutil.Process(up.pid).children(recursive=True)
        assert children  # PostgreSQL, the broker and a worker at least
        up.send_signal(signal.SIGTERM)
        assert up.wait(timeout=60) != 0
        _, alive = psutil.wait_procs(children, timeout=10)
        assert alive == []
        assert not (tmp_path / "postgres" / "postmaster.pid").exists()
    finally:
        if up.poll() is None:
            up.kill()
