"""`procurement up` keeps its data directory private: the directory is 0700 and every file
in it (database, receipt key, operator token, logs, pid files) its owner's only."""

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx

from adapters.embedded import free_port

# Run by root, the embedded PostgreSQL runs as a user of its own, which must pass through
# the data directory to its database (0711: enter, never list); by anyone else, 0700.
DATA_DIR_MODE = 0o711 if os.geteuid() == 0 else 0o700


def exposed(data_dir: Path) -> list[str]:
    """Every path under ``data_dir`` that its group or other users may read, write or enter.
    PostgreSQL's socket is left out: it is reached only through its 0700 directory."""
    found = []
    for root, directories, files in os.walk(data_dir):
        for name in [*directories, *files]:
            mode = (Path(root) / name).lstat().st_mode
            if not stat.S_ISSOCK(mode) and not stat.S_ISLNK(mode) and stat.S_IMODE(mode) & 0o077:
                found.append(f"{oct(stat.S_IMODE(mode))} {Path(root) / name}")
    return found


def test_up_creates_a_private_data_directory(tmp_path: Path) -> None:
    """Right after `up` has started everything, nothing in its data directory is readable
    by anyone but its owner, though the shell's umask would allow it."""
    data_dir, config, port = tmp_path / "data", tmp_path / "config", free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "PROCUREMENT_ADMIN_TOKEN"}
    } | {"PROCUREMENT_DATA_DIR": str(data_dir), "XDG_CONFIG_HOME": str(config)}
    command = [sys.executable, "-m", "entrypoints.cli", "up", "--port", str(port)]
    previous = os.umask(0o022)  # the usual shell's: files readable by all unless made private
    try:
        platform = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    finally:
        os.umask(previous)
    try:
        deadline = time.monotonic() + 120
        while not (data_dir / "logs" / "worker-0.log").exists() or not _healthy(port):
            assert platform.poll() is None, "procurement up exited"
            assert time.monotonic() < deadline, "procurement up did not start within 120 s"
            time.sleep(0.2)
        for name in ("admin-token", "platform-signing-key.pem", "logs/broker.log"):
            assert (data_dir / name).is_file(), name
        # The API's address is the user's, never a file in a working directory.
        assert not (data_dir / "api-url").exists()
        saved = config / "procurement" / "api-url"
        assert saved.read_text() == f"http://127.0.0.1:{port}"
        assert stat.S_IMODE(saved.stat().st_mode) == 0o600
        assert stat.S_IMODE(saved.parent.stat().st_mode) == 0o700
        assert (data_dir / "postgres" / "postmaster.pid").is_file()
        assert stat.S_IMODE(data_dir.stat().st_mode) == DATA_DIR_MODE
        assert exposed(data_dir) == []
    finally:
        platform.terminate()
        platform.wait(60)
    assert exposed(data_dir) == []


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200
    except httpx.TransportError:
        return False
