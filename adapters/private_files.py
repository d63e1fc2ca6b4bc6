"""Files only their owner may read: keys, tokens, logs, the database.

Each is created with its final mode (a directory 0700, a file 0600) and never chmod'ed
afterwards, so there is no moment in which another user could open it.
"""

import os
from pathlib import Path

DIRECTORY = 0o700
FILE = 0o600
UMASK = 0o077  # what the platform's own processes and their children create is private


def directory(path: Path) -> Path:
    """``path`` made 0700 (and any missing parents); an existing directory is left as it is."""
    path.mkdir(mode=DIRECTORY, parents=True, exist_ok=True)
    return path


def create(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file made 0600; refuses (FileExistsError) if ``path`` exists."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)


def replace(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` whole: a new 0600 file moved over any old one, so that an
    old file's looser mode is never inherited."""
    draft = path.with_name(f".{path.name}.{os.getpid()}.draft")
    draft.unlink(missing_ok=True)  # left by a crashed process of the same id
    create(draft, data)
    os.replace(draft, path)
