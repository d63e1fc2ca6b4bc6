"""What the platform's processes use: CPU over a phase, and memory."""

import asyncio
import contextlib
from collections.abc import Callable

import psutil

from benchmarks.figures import cpu_used

Components = dict[str, list[psutil.Process]]  # component name -> its processes


def cpu_seconds(components: Components, reaped: bool = False) -> dict[str, dict[int, float]]:
    """CPU seconds each process has used so far, by component; with ``reaped``, also those
    of the children it has reaped (the API opens bids in worker processes that come and go
    within one request)."""
    seconds: dict[str, dict[int, float]] = {}
    for name, processes in components.items():
        seconds[name] = {}
        for process in processes:
            with contextlib.suppress(psutil.Error):
                times = process.cpu_times()
                own = times.user + times.system
                children = times.children_user + times.children_system if reaped else 0.0
                seconds[name][process.pid] = own + children
    return seconds


def machine_busy() -> float:
    """CPU seconds the whole machine has spent not idle, all cores together."""
    times = psutil.cpu_times()
    return float(sum(times) - times.idle - getattr(times, "iowait", 0.0))


class CpuMeter:
    """CPU seconds each component, and the whole machine, used between ``start`` and
    ``stop``. The components are listed again at the end, so that processes born during
    the phase (PostgreSQL backends of new connections) count too."""

    def __init__(self, components: Callable[[], Components], reaped: bool = False) -> None:
        self.components = components
        self.reaped = reaped
        self.before: dict[str, dict[int, float]] = {}
        self.busy_before = 0.0

    def start(self) -> "CpuMeter":
        self.before = cpu_seconds(self.components(), self.reaped)
        self.busy_before = machine_busy()
        return self

    def stop(self, whole_machine: bool = True) -> dict[str, float]:
        used = cpu_used(self.before, cpu_seconds(self.components(), self.reaped))
        if whole_machine:
            used["whole machine"] = machine_busy() - self.busy_before
        return used


IDLE_SECONDS = 3.0


async def idle_cores(
    components: Callable[[], Components], seconds: float = IDLE_SECONDS
) -> dict[str, float]:
    """Cores each component keeps busy with no load (consumers polling, timers), over
    ``seconds`` in which the benchmark sends nothing."""
    meter = CpuMeter(components).start()
    await asyncio.sleep(seconds)
    return {name: used / seconds for name, used in meter.stop(whole_machine=False).items()}


def memory(components: Components) -> dict[str, dict[str, float]]:
    figures: dict[str, dict[str, float]] = {}
    for name, processes in components.items():
        rss = pss = 0
        for process in processes:
            with contextlib.suppress(psutil.Error):
                info = process.memory_full_info()
                rss += info.rss
                pss += info.pss
        mb = 1024 * 1024
        figures[name] = {"processes": len(processes), "rss_mb": rss / mb, "pss_mb": pss / mb}
    figures["total"] = {
        key: sum(f[key] for f in figures.values()) for key in ("processes", "rss_mb", "pss_mb")
    }
    return figures
