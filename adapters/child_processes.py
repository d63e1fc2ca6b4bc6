"""The platform's child processes: each dies with its parent, and all stop together, fast.

A child started with ``die_with_parent`` gets a signal from the kernel when the thread
that started it ends (Linux ``PR_SET_PDEATHSIG``): a ``kill -9`` of ``procurement up``
leaves no broker, worker or database behind. Start children from a thread that lives as
long as they should, such as the main thread.
"""

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None

GRACE = 1.0  # seconds a child gets to stop on its own before it is hurried
HURRY = 0.5  # seconds after the hurrying signal before SIGKILL


def die_with_parent(signal_number: int = signal.SIGKILL) -> Callable[[], None] | None:
    """A ``preexec_fn`` asking the kernel to send ``signal_number`` to the child when its
    parent dies; None where Linux's ``prctl`` is missing."""
    if _libc is None:
        return None
    prctl = _libc.prctl
    parent = os.getpid()

    def in_child() -> None:
        prctl(_PR_SET_PDEATHSIG, signal_number, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the request was made
            os.kill(os.getpid(), signal_number)

    return in_child


@dataclass(frozen=True)
class Child:
    """A child process and how it is asked to stop: ``stop`` first, then ``hurry``."""

    process: subprocess.Popen[bytes]
    stop: int = signal.SIGTERM
    hurry: int = signal.SIGKILL


def stop_together(children: Iterable[Child], grace: float = GRACE) -> None:
    """Signal every child at once, give them ``grace`` seconds together, hurry the ones
    still running, and SIGKILL whatever is left: stopping takes at most ``grace`` and
    another half second, however many children there are."""
    running = [child for child in children if child.process.poll() is None]
    for child in running:
        _send(child, child.stop)
    running = _still_running(running, grace)
    for child in running:
        _send(child, child.hurry)
    for child in _still_running(running, HURRY):
        child.process.kill()
    for child in running:
        child.process.wait()


def _send(child: Child, signal_number: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # it ended meanwhile
        child.process.send_signal(signal_number)


def _still_running(children: list[Child], within: float) -> list[Child]:
    deadline = time.monotonic() + within
    while True:
        running = [child for child in children if child.process.poll() is None]
        if not running or time.monotonic() >= deadline:
            return running
        time.sleep(0.02)
