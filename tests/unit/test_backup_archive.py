"""The backup file's format: what it holds reads back whole, and what was altered does not."""

import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest

from adapters.postgres.backup_archive import BackupRefused, Table, events_summary, read, write

PEM = b"-----BEGIN PRIVATE KEY-----\nnot a real key\n-----END PRIVATE KEY-----\n"
EVENTS = b"1\tevent one\n2\tevent two\n5\tevent five\n"


def archive(tmp_path: Path) -> Path:
    copies = tmp_path / "copies"
    copies.mkdir()
    (copies / "events.copy").write_bytes(EVENTS)
    tables = [Table.of("events", ["position", "envelope"], copies / "events.copy")]
    path = tmp_path / "platform.backup"
    summary = {"events": events_summary(copies / "events.copy"), "taken_at": "now"}
    write(path, tables, copies, summary, PEM, "a long passphrase")
    return path


def rewrite(path: Path, replace: dict[str, bytes]) -> None:
    """Put the archive back together with some members' bytes replaced."""
    with tarfile.open(path) as old:
        members = [(m, old.extractfile(m).read()) for m in old.getmembers()]  # type: ignore[union-attr]
    with tarfile.open(path, "w") as new:
        for member, data in members:
            data = replace.get(member.name, data)
            member.size = len(data)
            new.addfile(member, io.BytesIO(data))


def test_a_backup_reads_back_whole(tmp_path: Path) -> None:
    """The key opens with the passphrase, and the events' count and last position are kept."""
    backup = read(archive(tmp_path), "a long passphrase", tmp_path / "read")
    assert backup.signing_key_pem == PEM
    assert backup.manifest["events"] == {"count": 3, "last_position": 5}
    assert backup.table_file("events").read_bytes() == EVENTS


def test_a_manifest_altered_to_fit_altered_events_does_not_open_the_key(tmp_path: Path) -> None:
    """Whoever changes an event and the manifest's hash of it cannot reseal the key: the
    manifest is the key's associated data."""
    path = archive(tmp_path)
    forged = EVENTS.replace(b"event two", b"event 2!!")
    with tarfile.open(path) as old:
        manifest = json.loads(old.extractfile("manifest.json").read())  # type: ignore[union-attr]
    manifest["tables"][0]["sha256"] = hashlib.sha256(forged).hexdigest()
    text = json.dumps(manifest, indent=2, sort_keys=True).encode()
    rewrite(path, {"events.copy": forged, "manifest.json": text})
    with pytest.raises(BackupRefused, match="manifest was altered"):
        read(path, "a long passphrase", tmp_path / "read")


def test_a_truncated_backup_is_refused(tmp_path: Path) -> None:
    """A file cut short is not a readable backup, and the refusal says so."""
    path = archive(tmp_path)
    path.write_bytes(path.read_bytes()[:700])
    with pytest.raises(BackupRefused, match=r"not a readable backup|incomplete or corrupt"):
        read(path, "a long passphrase", tmp_path / "read")


def test_a_dropped_event_is_refused(tmp_path: Path) -> None:
    """An event missing from the file is refused: the manifest counts the table's rows."""
    path = archive(tmp_path)
    rewrite(path, {"events.copy": EVENTS[: EVENTS.rindex(b"5\t")]})
    with pytest.raises(BackupRefused, match="corrupt: table events has 2 rows"):
        read(path, "a long passphrase", tmp_path / "read")
