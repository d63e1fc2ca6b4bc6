"""The platform a benchmark runs on: started from the launcher's pieces in a temporary data
directory (embedded PostgreSQL and broker, stream workers, the API served by uvicorn in a
child process of its own, so that its CPU is its own), and stopped and removed afterwards,
also on Ctrl-C, SIGTERM or an error."""

import asyncio
import contextlib
import json
import math
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
import psutil
from rich.console import Console

from adapters.embedded import free_port
from adapters.settings import Settings
from entrypoints.demo.run import DEMO_RULES
from entrypoints.launcher import (
    Platform,
    admin_token,
    start_worker,
    stop_process,
    worker_environment,
)

# The API in a process of its own, so that its CPU is its own and the client's is not in it.
API_SCRIPT = """
import os
import sys
from dataclasses import replace
import uvicorn
from entrypoints.http.app import create_api
from entrypoints import heap
from entrypoints.http.serving import server_config, shared_socket
from adapters.settings import Settings

settings = Settings.from_env()
settings = replace(settings, http=settings.http.raised())  # one client sends all the load
assert settings.database_url is not None
app = create_api(settings, settings.database_url)
# Served as `up` serves it: the guarded connections, their timeouts and keep-alive included.
server = uvicorn.Server(server_config(app, settings.http, "127.0.0.1", int(sys.argv[1])))
heap.settle()
if profile_to := os.environ.get("PROCUREMENT_BENCH_PROFILE"):  # read with python -m pstats
    import cProfile
    import signal
    profiler = cProfile.Profile()

    def dump(signum, frame):
        # uvicorn stops on SIGTERM, then raises it again once its own handler is gone.
        profiler.disable()
        profiler.dump_stats(profile_to)
        sys.exit(0)

    signal.signal(signal.SIGTERM, dump)
    profiler.enable()
# "shared": one of several API processes on one port (SO_REUSEPORT), as `up` runs them.
shared = sys.argv[2:] == ["shared"]
server.run(sockets=[shared_socket("127.0.0.1", int(sys.argv[1]))] if shared else None)
"""

console = Console()


@dataclass
class Running:
    """The platform under test and how to reach it."""

    platform: Platform
    database_url: str
    bootstrap: str
    apis: list[subprocess.Popen[bytes]]
    api_url: str

    @property
    def data_dir(self) -> Path:
        return self.platform.settings.data_dir

    def components(
        self, leave_out: psutil.Process | None = None
    ) -> dict[str, list[psutil.Process]]:
        """Every process of the platform, by component (but ``leave_out``)."""
        postmaster = int((self.data_dir / "postgres" / "postmaster.pid").read_text().split()[0])
        children = psutil.Process().children(recursive=True)
        broker = [p for p in children if self.bootstrap in " ".join(_cmdline(p))]
        workers = [psutil.Process(w.pid) for w in self.platform.worker_processes]
        return {
            "API": [p for api in self.apis for p in _tree(api.pid)],
            "stream workers": [p for w in workers for p in _tree(w.pid)],
            "PostgreSQL": [p for p in _tree(postmaster) if p != leave_out],
            "broker": broker,
        }

    async def until_answering(self, client: httpx.AsyncClient, within: float = 180.0) -> None:
        """Wait until the API answers ``/health``; fail at once if its process has ended.
        On a busy machine importing the API alone has taken over 30 s."""

        async def answering() -> bool:
            for api in self.apis:
                if api.poll() is not None:
                    msg = f"an API process exited with {api.returncode}"
                    raise RuntimeError(msg)
            with contextlib.suppress(httpx.TransportError):
                return (await client.get("/health")).status_code == 200
            return False

        await until(answering, within, "the API answering /health")


def _tree(pid: int) -> list[psutil.Process]:
    process = psutil.Process(pid)
    return [process, *process.children(recursive=True)]


def _cmdline(process: psutil.Process) -> list[str]:
    with contextlib.suppress(psutil.Error):
        return list(process.cmdline())
    return []


def finite(value: Any) -> Any:
    """``value`` with NaN and infinities as null, so that the JSON is standard."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    return value


async def until(probe: Callable[[], Awaitable[bool]], within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not await probe():
        if time.monotonic() > deadline:
            msg = f"{what} did not happen within {within:.0f}s"
            raise RuntimeError(msg)
        await asyncio.sleep(0.05)


async def register_officer(client: httpx.AsyncClient, operator: str) -> str:
    auth = {"Authorization": f"Bearer {operator}"}
    agency = await client.post(
        "/agencies", json={"name": "Benchmark Agency", "identifier": "RO-BENCH-1"}, headers=auth
    )
    agency.raise_for_status()
    officer = await client.post(
        "/officers",
        json={"agency_id": agency.json()["id"], "name": "Ana Pop", "email": "ana@example.ro"},
        headers=auth,
    )
    officer.raise_for_status()
    token: str = officer.json()["token"]
    return token


def _terminated(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # before and after the event loop, which has its own


def _log_tails(logs: Path, lines: int = 15) -> Iterator[str]:
    for path in sorted(logs.glob("*.log")):
        tail = path.read_text(errors="replace").splitlines()[-lines:]
        yield f"--- {path.name} ---\n" + "\n".join(tail)


def _stop_stray_postgres(pid_file: Path) -> None:
    """Stop a PostgreSQL that a signal kept from being registered while it was starting."""
    with contextlib.suppress(OSError, ValueError, IndexError, psutil.Error):
        postmaster = psutil.Process(int(pid_file.read_text().split()[0]))
        postmaster.send_signal(signal.SIGINT)  # PostgreSQL's fast shutdown
        postmaster.wait(15)


def _stop_children() -> None:
    """Stop what a signal left running, such as an ``initdb`` that was under way."""
    children = psutil.Process().children(recursive=True)
    for child in children:
        with contextlib.suppress(psutil.Error):
            child.terminate()
    for child in psutil.wait_procs(children, timeout=5)[1]:
        with contextlib.suppress(psutil.Error):
            child.kill()


def run_with_short_periods(
    args: Any,
    measure: Callable[[Running, Any], Coroutine[Any, Any, dict[str, Any]]],
    report: Callable[[dict[str, Any]], None],
    auction_notice: timedelta = timedelta(days=2),
) -> None:
    """``run_benchmark`` in a fresh data directory with the environment's settings, but the
    demo's periods of seconds where the law says days (deadlines seconds ahead, questions
    until 2 s before them, contracts at once after their awards) and the given auction
    notice; the API and the workers get them through their environment."""
    data_dir = Path(tempfile.mkdtemp(prefix="procurement-bench-"))
    settings = replace(Settings.from_env(), data_dir=data_dir)
    rules = replace(DEMO_RULES, minimum_auction_notice=auction_notice)
    settings = replace(settings, admin_token=admin_token(settings), rules=rules)
    run_from_arguments(settings, args, measure, report)


def run_from_arguments(
    settings: Settings,
    args: Any,
    measure: Callable[[Running, Any], Coroutine[Any, Any, dict[str, Any]]],
    report: Callable[[dict[str, Any]], None],
) -> None:
    """``run_benchmark`` as the command line asks: its workers, API processes and ``--out``."""
    run_benchmark(
        settings,
        args.workers,
        lambda run: measure(run, args),
        report,
        args.out,
        api_processes=getattr(args, "api_processes", 1),
    )


def run_benchmark(
    settings: Settings,
    workers: int,
    measure: Callable[[Running], Coroutine[Any, Any, dict[str, Any]]],
    report: Callable[[dict[str, Any]], None],
    out: Path,
    api_processes: int = 1,
) -> None:
    """Start a platform in ``settings.data_dir`` (its API in ``api_processes`` processes of
    their own, sharing one port), run
    ``measure`` on it, print and save the figures, and stop and remove everything, also on
    Ctrl-C, SIGTERM or an error (then with the logs' last lines)."""
    data_dir = settings.data_dir
    platform = Platform(settings, workers=workers)
    logs = data_dir / "logs"
    apis: list[subprocess.Popen[bytes]] = []
    # A SIGTERM while the services start is held until they have (a killed initdb leaves
    # its bootstrap backend writing into the data directory); then it ends the run cleanly.
    held: list[int] = []
    signal.signal(signal.SIGTERM, lambda signum, _: held.append(signum))
    try:
        database_url, bootstrap = platform.start_services()
        env = worker_environment(settings, database_url, bootstrap)
        platform.worker_processes = [
            start_worker(env, logs / f"worker-{n}.log") for n in range(workers)
        ]
        port = free_port()
        shared = ["shared"] if api_processes > 1 else []
        for n in range(api_processes):
            with (logs / ("api.log" if n == 0 else f"api-{n}.log")).open("ab") as output:
                apis.append(
                    subprocess.Popen(
                        [sys.executable, "-c", API_SCRIPT, str(port), *shared],
                        env=env,
                        stdout=output,
                        stderr=subprocess.STDOUT,
                    )
                )
        signal.signal(signal.SIGTERM, _terminated)
        if held:
            raise SystemExit(128 + signal.SIGTERM)
        run = Running(platform, database_url, bootstrap, apis, f"http://127.0.0.1:{port}")
        results = asyncio.run(measure(run))
        report(results)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(finite(results), indent=2) + "\n")
        console.print(f"figures written to {out}")
    except asyncio.CancelledError:
        console.print("stopped by SIGTERM; cleaning up")
        raise SystemExit(128 + signal.SIGTERM) from None
    except KeyboardInterrupt:
        console.print("interrupted; cleaning up")
        raise SystemExit(128 + signal.SIGINT) from None
    except Exception:
        for tail in _log_tails(logs):
            print(tail, file=sys.stderr)
        raise
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second one must not cut the clean-up
        for api in apis:
            stop_process(api)
        platform.stop_services()
        _stop_stray_postgres(data_dir / "postgres" / "postmaster.pid")
        _stop_children()
        shutil.rmtree(data_dir, ignore_errors=True)
