"""``procurement backup`` and ``procurement restore`` (see adapters.postgres.backup).

The passphrase that seals the receipt-signing key comes from PROCUREMENT_BACKUP_PASSPHRASE
or a prompt, never from the command line, where other users could read it in the process
list. Both work on DATABASE_URL, or on the embedded PostgreSQL of the data directory.
"""

import asyncio
import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from adapters import private_files
from adapters.embedded import EmbeddedPostgres
from adapters.postgres import backup
from adapters.postgres.database import connect_pool
from adapters.settings import Settings
from entrypoints.cli.terminal import fail, out

PASSPHRASE = "PROCUREMENT_BACKUP_PASSPHRASE"


def register(app: typer.Typer) -> None:
    app.command("backup")(take_backup)
    app.command("restore")(restore_backup)


def take_backup(
    path: Annotated[Path, typer.Argument(help="The backup file to write (a new file).")],
) -> None:
    """Write a verified backup of the event store, the records kept with it and the
    receipt-signing key (sealed with a passphrase)."""
    settings = Settings.from_env()
    key = settings.receipt_key_file
    if not key.exists():
        fail(f"there is no receipt-signing key at {key}; set PROCUREMENT_RECEIPT_KEY")
    if settings.database_url is None and not (settings.data_dir / "postgres").is_dir():
        fail(f"there is no platform in {settings.data_dir}; set PROCUREMENT_DATA_DIR")
    passphrase = _passphrase(confirm=True)
    with _database(settings) as url:
        summary = asyncio.run(_take(url, key, path, passphrase))
    events = summary["events"]
    out.print(
        f"backup written and verified: {path} ({events['count']} events,"
        f" the last at position {events['last_position']})",
        highlight=False,
    )


def restore_backup(
    path: Annotated[Path, typer.Argument(help="The backup file to restore.")],
) -> None:
    """Rebuild a platform from a backup on an empty database and a new data directory;
    `procurement up` then republishes the events and rebuilds the read models."""
    settings = Settings.from_env()
    passphrase = _passphrase(confirm=False)
    os.umask(private_files.UMASK)
    try:
        backup.verify(path, passphrase)  # before any database is started, or made
        private_files.directory(settings.data_dir)
        with _database(settings) as url:
            summary = asyncio.run(backup.restore(path, passphrase, url, settings.receipt_key_file))
    except backup.BackupRefused as refused:
        fail(str(refused))
    out.print(
        f"restored {summary['events']['count']} events taken at {summary['taken_at']};"
        f" the receipt key is in {settings.receipt_key_file}",
        highlight=False,
    )


async def _take(url: str, key: Path, path: Path, passphrase: str) -> dict[str, Any]:
    pool = await connect_pool(url)
    try:
        return await backup.take(pool, key, path, passphrase)
    except backup.BackupRefused as refused:
        fail(str(refused))
    finally:
        await pool.close()


def _passphrase(*, confirm: bool) -> str:
    passphrase = os.environ.get(PASSPHRASE) or typer.prompt(
        "Passphrase for the receipt-signing key", hide_input=True, confirmation_prompt=confirm
    )
    if len(passphrase) < 12:
        fail("the passphrase must be at least 12 characters long")
    return str(passphrase)


@contextlib.contextmanager
def _database(settings: Settings) -> Iterator[str]:
    """DATABASE_URL, or the data directory's embedded PostgreSQL, left running if it was."""
    if settings.database_url is not None:
        yield settings.database_url
        return
    server = EmbeddedPostgres(settings.data_dir / "postgres")
    running = (server.data_dir / "postmaster.pid").exists()
    url = server.start()
    try:
        yield url
    finally:
        if not running:
            server.stop()
