"""One ``procurement up`` per data directory.

Two platforms on one directory would share its PostgreSQL while each ran a broker of its
own: the workers of one would hold the relay and feed their broker, and the other's would
get nothing. ``up`` holds an exclusive lock on ``up.pid`` while it runs; the kernel drops
it when the process ends, however it ends, so a killed ``up`` never blocks the next one.
"""

import fcntl
import os
from pathlib import Path

from adapters import private_files

LOCK_FILE = "up.pid"


class AlreadyRunning(RuntimeError):
    """Another live ``procurement up`` holds the data directory."""


def hold(data_dir: Path) -> int:
    """Lock ``data_dir`` for this process and write its pid; returns the descriptor that
    holds the lock, to keep open for as long as the platform runs."""
    path = private_files.directory(data_dir) / LOCK_FILE
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, private_files.FILE)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(descriptor, 32).decode(errors="replace").strip() or "unknown"
        os.close(descriptor)
        msg = (
            f"procurement up is already running (pid {holder}) on the data directory"
            f" {data_dir.resolve()}; stop it first, or set PROCUREMENT_DATA_DIR to another one"
        )
        raise AlreadyRunning(msg) from None
    os.ftruncate(descriptor, 0)
    os.write(descriptor, f"{os.getpid()}\n".encode())
    return descriptor
