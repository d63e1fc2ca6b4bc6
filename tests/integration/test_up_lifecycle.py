"""`procurement up` as an operator runs it: it stops quickly and whole, its children die
with it, and a second `up` on the same data directory refuses to run beside the first."""

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from adapters.embedded import free_port

STARTS_WITHIN = 120.0  # seconds; a first start runs initdb


class Up:
    """One `procurement up` process on its own data directory and port."""

    def __init__(self, data_dir: Path, port: int | None = None, *options: str) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in {"DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "PROCUREMENT_ADMIN_TOKEN"}
        } | {"PROCUREMENT_DATA_DIR": str(data_dir)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "entrypoints.cli", "up", "--port", str(self.port), *options],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def get(self, path: str) -> httpx.Response:
        return httpx.get(f"{self.url}{path}", timeout=5)

    def wait_until_healthy(self, within: float = STARTS_WITHIN) -> list[psutil.Process]:
        """Wait for /health, then return every process `up` runs (database, broker, worker)."""
        deadline = time.monotonic() + within
        while True:
            assert self.process.poll() is None, f"procurement up exited: {self.output()}"
            with contextlib.suppress(httpx.TransportError):
                if self.get("/health").status_code == 200:
                    break
            assert time.monotonic() < deadline, f"procurement up did not start in {within} s"
            time.sleep(0.2)
        return [*psutil.Process(self.process.pid).children(recursive=True), self.postmaster()]

    def postmaster(self) -> psutil.Process:
        pid_file = self.data_dir / "postgres" / "postmaster.pid"
        return psutil.Process(int(pid_file.read_text().split()[0]))

    def output(self) -> str:
        if self.process.poll() is None:
            return ""
        out, err = self.process.communicate()
        return (out + err).decode(errors="replace")

    def end(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.communicate(timeout=30)


@pytest.fixture
def ups(tmp_path: Path) -> Iterator[list[Up]]:
    """The `up` processes a test starts; whatever is left of them is killed at the end."""
    started: list[Up] = []
    yield started
    for up in started:
        children = []
        with contextlib.suppress(psutil.NoSuchProcess):
            children = psutil.Process(up.process.pid).children(recursive=True)
        up.end()
        for child in children:
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()


def alive(processes: list[psutil.Process]) -> list[str]:
    """The processes of ``processes`` still running (zombies count as gone)."""
    running = []
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            if process.status() != psutil.STATUS_ZOMBIE:
                running.append(f"{process.pid} {process.name()}")
    return running


def test_ctrl_c_stops_everything_within_three_seconds(tmp_path: Path, ups: list[Up]) -> None:
    """Ctrl-C (SIGINT) on a healthy `up` ends it and every child it started in under 3 s."""
    up = Up(tmp_path / "data")
    ups.append(up)
    children = up.wait_until_healthy()
    began = time.monotonic()
    up.process.send_signal(signal.SIGINT)
    up.process.wait(30)
    took = time.monotonic() - began
    assert alive(children) == []
    assert took < 3.0, f"procurement up took {took:.1f} s to stop"
    assert not (tmp_path / "data" / "postgres" / "postmaster.pid").exists()


def test_children_die_with_a_killed_up_and_the_next_up_starts(
    tmp_path: Path, ups: list[Up]
) -> None:
    """`kill -9` of `up` takes its database, broker and workers with it within seconds, and
    the next `up` on the same data directory starts normally and serves."""
    first = Up(tmp_path / "data")
    ups.append(first)
    children = first.wait_until_healthy()
    assert first.postmaster() in children  # PostgreSQL runs as up's own child
    first.process.kill()
    first.process.wait(10)
    deadline = time.monotonic() + 5
    while alive(children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert alive(children) == []
    second = Up(tmp_path / "data")
    ups.append(second)
    second.wait_until_healthy()
    assert second.get("/tenders").status_code == 200


def test_a_second_up_on_the_same_data_directory_refuses(tmp_path: Path, ups: list[Up]) -> None:
    """A second `up` on a data directory in use exits at once with a message naming the
    running one's pid, and the first goes on serving."""
    first = Up(tmp_path / "data")
    ups.append(first)
    first.wait_until_healthy()
    second = Up(tmp_path / "data")
    ups.append(second)
    assert second.process.wait(30) != 0
    message = second.output()
    assert f"already running (pid {first.process.pid})" in message, message
    assert str(tmp_path / "data") in message
    assert first.get("/health").status_code == 200


def test_a_killed_database_is_restarted_and_meanwhile_requests_get_503(
    tmp_path: Path, ups: list[Up]
) -> None:
    """With the embedded PostgreSQL killed under a running `up`, requests get a 503 problem
    document with Retry-After (never a 500), and the platform is ready again by itself."""
    up = Up(tmp_path / "data")
    ups.append(up)
    up.wait_until_healthy()
    killed = up.postmaster()
    killed.kill()
    answers: list[httpx.Response] = []
    deadline = time.monotonic() + 60
    while True:
        answers += [up.get(path) for path in ("/tenders", "/health", "/health/ready")]
        if answers[-1].status_code == 200 and up.postmaster().pid != killed.pid:
            break
        assert time.monotonic() < deadline, "the platform was not ready again within 60 s"
        time.sleep(0.05)
    refused = [answer for answer in answers if answer.status_code != 200]
    assert refused, "no request saw the database away"
    for answer in refused:
        assert answer.status_code == 503, answer.text
        assert answer.headers["content-type"] == "application/problem+json", answer.text
        assert int(answer.headers["retry-after"]) > 0
    assert up.get("/tenders").status_code == 200


def test_ctrl_c_does_not_wait_for_live_followers(tmp_path: Path, ups: list[Up]) -> None:
    """A client following the live releases does not hold `up` open: Ctrl-C still ends it
    and every child in under 3 s."""
    up = Up(tmp_path / "data")
    ups.append(up)
    children = up.wait_until_healthy()
    with (
        httpx.Client(base_url=up.url, timeout=30) as client,
        client.stream("GET", "/ocds/releases/live") as following,
    ):
        assert following.status_code == 200
        began = time.monotonic()
        up.process.send_signal(signal.SIGINT)
        up.process.wait(30)
        took = time.monotonic() - began
    assert alive(children) == []
    assert took < 3.0, f"procurement up took {took:.1f} s to stop"


def test_api_processes_share_the_port_and_one_killed_is_restarted(
    tmp_path: Path, ups: list[Up]
) -> None:
    """`up --api-processes 2` serves one port from two API processes; with one killed the
    other goes on answering, and `up` starts another in its place."""
    up = Up(tmp_path / "data", None, "--api-processes", "2")
    ups.append(up)
    up.wait_until_healthy()
    deadline = time.monotonic() + STARTS_WITHIN
    while len(apis := api_processes(up)) < 2:  # both listening, not only the first up
        assert time.monotonic() < deadline, "two API processes did not start"
        time.sleep(0.2)
    apis[0].kill()
    for _ in range(20):
        assert up.get("/health").status_code == 200
    deadline = time.monotonic() + 60
    while len(now := api_processes(up)) < 2 or apis[0].pid in {p.pid for p in now}:
        assert time.monotonic() < deadline, "the killed API process was not replaced"
        time.sleep(0.2)
    assert apis[1].pid in {p.pid for p in now}


def api_processes(up: Up) -> list[psutil.Process]:
    """The `procurement api` children of ``up`` that listen on its port."""
    found = []
    for child in psutil.Process(up.process.pid).children():
        with contextlib.suppress(psutil.NoSuchProcess):
            listening = {c.laddr.port for c in child.net_connections() if c.status == "LISTEN"}
            if "api" in child.cmdline() and up.port in listening:
                found.append(child)
    return found
