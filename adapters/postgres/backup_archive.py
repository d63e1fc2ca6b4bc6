"""The backup file: one tar archive holding each table as PostgreSQL's COPY text, the
receipt-signing key encrypted with a passphrase, and a manifest of them all.

The manifest names each table's columns, rows and SHA-256, and the event store's count and
last position; ``read`` refuses an archive whose members do not match it. The key is
sealed with AES-256-GCM under a key derived from the passphrase (scrypt), and the manifest
is its associated data: a wrong passphrase, or a manifest altered to fit altered tables,
cannot open it.
"""

import hashlib
import io
import json
import os
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

FORMAT = "procurement-backup/1"
MANIFEST = "manifest.json"
KEY = "platform-signing-key.enc"
SCRYPT = {"n": 2**15, "r": 8, "p": 1}  # about 32 MiB and a tenth of a second per guess


class BackupRefused(Exception):
    """The backup cannot be used; the message says why."""


@dataclass(frozen=True)
class Table:
    name: str
    columns: list[str]
    rows: int
    sha256: str

    @classmethod
    def of(cls, name: str, columns: list[str], copy: Path) -> "Table":
        data = copy.read_bytes()
        return cls(name, columns, data.count(b"\n"), hashlib.sha256(data).hexdigest())


@dataclass(frozen=True)
class Backup:
    """A verified backup: its manifest, and the tables' files extracted in ``directory``."""

    manifest: dict[str, Any]
    directory: Path
    signing_key_pem: bytes

    def table_file(self, name: str) -> Path:
        return self.directory / f"{name}.copy"


def write(
    path: Path,
    tables: list[Table],
    copies: Path,
    summary: dict[str, Any],
    pem: bytes,
    passphrase: str,
) -> None:
    """Write the archive to ``path``, a new file readable by its owner only."""
    manifest = {"format": FORMAT, "tables": [t.__dict__ for t in tables]} | summary
    text = json.dumps(manifest, indent=2, sort_keys=True).encode()
    sealed = json.dumps(_seal(pem, passphrase, text)).encode()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file, tarfile.open(fileobj=file, mode="w") as archive:
        _add(archive, MANIFEST, text)
        _add(archive, KEY, sealed)
        for table in tables:
            archive.add(copies / f"{table.name}.copy", arcname=f"{table.name}.copy")


def read(path: Path, passphrase: str, directory: Path) -> Backup:
    """Extract the archive into ``directory`` and verify it against its manifest; the key
    is decrypted with ``passphrase``. Raises ``BackupRefused`` saying what is wrong."""
    try:
        with tarfile.open(path, mode="r") as archive:
            archive.extractall(directory, filter="data")
        text = (directory / MANIFEST).read_bytes()
        manifest = json.loads(text)
        sealed = json.loads((directory / KEY).read_bytes())
    except (OSError, tarfile.TarError, ValueError) as error:
        raise BackupRefused(f"{path} is not a readable backup: {error}") from error
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupRefused(f"{path} is not a {FORMAT} backup")
    try:
        for entry in manifest["tables"]:
            copy = directory / f"{entry['name']}.copy"
            _check(Table.of(entry["name"], entry["columns"], copy), entry)
        _check_events(directory / "events.copy", manifest["events"])
    except (OSError, KeyError, TypeError, ValueError) as error:
        raise BackupRefused(f"the backup is incomplete or corrupt: {error!r}") from error
    return Backup(manifest, directory, _open(sealed, passphrase, text))


def events_summary(events_copy: Path) -> dict[str, int]:
    """How many events the copy holds and the position of the last (0 if none)."""
    count, last = 0, 0
    with events_copy.open("rb") as copy:
        for line in copy:
            count, last = count + 1, int(line.split(b"\t", 1)[0])
    return {"count": count, "last_position": last}


def _check(found: Table, expected: dict[str, Any]) -> None:
    if (found.rows, found.sha256) != (expected["rows"], expected["sha256"]):
        msg = (
            f"the backup is corrupt: table {found.name} has {found.rows} rows with SHA-256"
            f" {found.sha256}, the manifest says {expected['rows']} rows with {expected['sha256']}"
        )
        raise BackupRefused(msg)


def _check_events(events_copy: Path, expected: dict[str, int]) -> None:
    if (found := events_summary(events_copy)) != expected:
        raise BackupRefused(f"the backup is corrupt: its events are {found}, expected {expected}")


def _seal(pem: bytes, passphrase: str, manifest: bytes) -> dict[str, Any]:
    salt, nonce = os.urandom(16), os.urandom(12)
    key = Scrypt(salt=salt, length=32, **SCRYPT).derive(passphrase.encode())
    ciphertext = AESGCM(key).encrypt(nonce, pem, manifest)
    return {"kdf": "scrypt", **SCRYPT, "cipher": "AES-256-GCM"} | {
        "salt": salt.hex(),
        "nonce": nonce.hex(),
        "ciphertext": ciphertext.hex(),
    }


def _open(sealed: dict[str, Any], passphrase: str, manifest: bytes) -> bytes:
    try:
        params = {name: int(sealed[name]) for name in SCRYPT}
        key = Scrypt(salt=bytes.fromhex(sealed["salt"]), length=32, **params).derive(
            passphrase.encode()
        )
        return AESGCM(key).decrypt(
            bytes.fromhex(sealed["nonce"]), bytes.fromhex(sealed["ciphertext"]), manifest
        )
    except InvalidTag:
        msg = "the passphrase is wrong (or the backup's manifest was altered): the key stays sealed"
        raise BackupRefused(msg) from None
    except (KeyError, ValueError, TypeError) as error:
        raise BackupRefused(f"the backup's sealed key is malformed: {error}") from error


def _add(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    member = tarfile.TarInfo(name)
    member.size, member.mode = len(data), 0o600
    archive.addfile(member, io.BytesIO(data))
