"""Every file the platform writes into its data directory, and every key file the CLI
writes, is readable by its owner only from the moment it exists."""

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters import platform_key
from adapters.settings import Settings
from entrypoints.launcher import admin_token
from sdk.keyfiles import KeyFile


@pytest.fixture(autouse=True)
def permissive_umask_and_no_chmod(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[None]:
    """With a umask that masks nothing and chmod forbidden, a file ends up private only if
    it was created private: its mode cannot have been set any other way."""

    def forbidden(*_: object, **__: object) -> None:
        raise AssertionError("a private file must be created private, never chmod'ed later")

    monkeypatch.setattr(os, "chmod", forbidden)
    monkeypatch.setattr(os, "fchmod", forbidden)
    monkeypatch.setattr(Path, "chmod", forbidden)
    previous = os.umask(0)
    yield
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_operator_token_is_kept_in_a_private_file_in_a_private_directory(
    tmp_path: Path,
) -> None:
    """`up` keeps the operator's token in admin-token (0600) in a data directory it makes 0700."""
    data_dir = tmp_path / "data"
    token = admin_token(Settings(data_dir=data_dir))
    assert (data_dir / "admin-token").read_text() == token
    assert mode(data_dir) == 0o700
    assert mode(data_dir / "admin-token") == 0o600
    assert admin_token(Settings(data_dir=data_dir)) == token  # made once


def test_the_receipt_signing_key_is_created_private(tmp_path: Path) -> None:
    """The platform's receipt-signing key is created 0600, in a directory made 0700."""
    path = tmp_path / "data" / "platform-signing-key.pem"
    key = platform_key.load_or_create(path)
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700
    assert platform_key.load_or_create(path).public_key() == key.public_key()
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no draft left behind


def test_a_key_file_is_created_private_in_a_private_directory(tmp_path: Path) -> None:
    """The CLI's key file is 0600, and the directory it makes for it 0700."""
    path = tmp_path / "keys" / "supplier.json"
    KeyFile.generate(committee=True).save(path)
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700


def test_saving_over_a_world_readable_key_file_leaves_a_private_one(tmp_path: Path) -> None:
    """Saving the named key file over an existing, world-readable one does not inherit its
    mode: the new file is private from the start and replaces the old one whole."""
    path = tmp_path / "supplier.json"
    KeyFile.generate(committee=False).save(path)
    path.unlink()
    path.write_text("{}")  # as an older version, or a careless copy, may have left it
    assert mode(path) & 0o004
    saved = KeyFile.generate(committee=False).named("supplier-1")
    saved.save(path)
    assert mode(path) == 0o600
    assert KeyFile.load(path).party_id == "supplier-1"
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
