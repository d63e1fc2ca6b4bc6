"""Backing the platform up, and restoring it on a new database.

A backup holds what cannot be rebuilt: the event store and the records written in the
events' own transactions (tokens, parties' public keys, the bid logs and their receipts,
the opened bids, handled commands), the transparency log's entries and signed heads, all
read in one REPEATABLE READ snapshot, and the receipt-signing key, sealed with a
passphrase. It is verified once written, by reading it back. A restore loads it into an
empty database and puts every event back in the outbox: the relay publishes the store
again and the stream workers rebuild every read model from it, as they do after a broker
loses its log.
"""

import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from adapters import private_files
from adapters.postgres.backup_archive import (
    Backup,
    BackupRefused,
    Table,
    events_summary,
    read,
    write,
)
from adapters.postgres.database import connect_pool

# Each table kept, with the order its rows are written in.
RECORDS = {
    "events": "position",
    "credentials": "token_sha256",
    "party_keys": "party_id",
    "party_identifiers": "kind, skeleton",
    "bid_logs": "ocid",
    "bid_entries": "ocid, log_index",
    "opened_bids": "bid_id",
    "handled_commands": "command_id",
    "catalogue_offer_index": "offer_id",
    "direct_purchase_spend": "ocid",
    # The transparency log: its leaves and signed heads are public commitments, which a
    # rebuilt log would contradict (new times, new signatures), so they are kept as written.
    "transparency_entries": "leaf_index",
    "transparency_heads": "tree_size",
    # A sealed bid log's signed head carries an authority's time-stamp that cannot be remade.
    "bid_log_heads": "ocid",
    # Notices and their mail are kept, so that a restored platform sends no mail twice;
    # feed links and what each party has read, since no event holds them.
    "notices": "event_id, recipient_id",
    "mail_outbox": "event_id, recipient_id, address",
    "feed_links": "party_id",
    "inbox_reads": "party_id",
    # The procurement documents' bytes, which the events name only by their digests.
    "document_contents": "sha256",
}
SEQUENCES = ("tender_numbers",)
# The read models, which the stream workers rebuild from the restored store.
REBUILT = frozenset(
    {
        "agencies",
        "tenders",
        "public_bid_logs",
        "public_bidders",
        "awards",
        "contracts",
        "auctions",
        "lot_savings",
        "releases",
        "records",
        "catalogue_offers",
        "catalogue_procedures",
        "party_contacts",
    }
)
# The streams' own bookkeeping, begun afresh: what the broker has, what was applied, what
# failed; the platform republishes and reapplies the whole store.
NOT_KEPT = frozenset(
    {
        "outbox",
        "relay_watermarks",
        "applied_events",
        "dead_letters",
        # A restored platform signs its records with a new key and starts its epochs afresh.
        "stream_keys",
        "forged_records",
        "broker_epochs",
        "readiness_heartbeat",
        # Queued again by the restored events' trigger; the appender skips those logged.
        "transparency_queue",
        # Shares of an opening under way, sealed under the old key: the members hand in again.
        "sealed_shares",
    }
)

__all__ = ["BackupRefused", "restore", "take", "verify"]


async def take(pool: Any, key_path: Path, destination: Path, passphrase: str) -> dict[str, Any]:
    """Write a verified backup to ``destination`` (a new file); what it holds."""
    pem = _key_for(destination, key_path)
    with tempfile.TemporaryDirectory(dir=destination.parent, prefix=".backup-") as work:
        copies = Path(work)
        async with pool.acquire() as connection:
            async with connection.transaction(isolation="repeatable_read", readonly=True):
                names = [name for name in RECORDS if await _exists(connection, name)]
                tables = [await _copy_out(connection, name, copies) for name in names]
            sequences = {name: await _sequence(connection, name) for name in SEQUENCES}
        summary = {
            "taken_at": datetime.now(UTC).isoformat(),
            "events": events_summary(copies / "events.copy"),
            "sequences": sequences,
        }
        write(destination, tables, copies, summary, pem, passphrase)
    try:
        _verify(destination, passphrase, pem)
    except BackupRefused:
        _discard(destination)
        raise
    return summary


async def restore(
    source: Path, passphrase: str, database_url: str, key_path: Path
) -> dict[str, Any]:
    """Rebuild a platform from the backup at ``source`` on an empty database, its receipt
    key written (0600) to ``key_path``; what was restored."""
    with tempfile.TemporaryDirectory(prefix="procurement-restore-") as work:
        backup = read(source, passphrase, Path(work))
        pool = await connect_pool(database_url)
        try:
            if held := await pool.fetchval("SELECT count(*) FROM events"):
                msg = f"the database already holds {held} events: restore into a new, empty one"
                raise BackupRefused(msg)
            _write_key(key_path, backup.signing_key_pem)
            try:
                await _load(pool, backup)
            except BaseException:
                _discard(key_path)
                raise
        finally:
            await pool.close()
    return {"events": backup.manifest["events"], "taken_at": backup.manifest["taken_at"]}


def verify(source: Path, passphrase: str) -> dict[str, Any]:
    """Check a backup without restoring it: its manifest, or ``BackupRefused``."""
    with tempfile.TemporaryDirectory(prefix="procurement-verify-") as work:
        return read(source, passphrase, Path(work)).manifest


def _key_for(destination: Path, key_path: Path) -> bytes:
    if destination.exists():
        raise BackupRefused(f"{destination} exists already; name a new file")
    return key_path.read_bytes()


def _discard(path: Path) -> None:
    path.unlink(missing_ok=True)


def _verify(destination: Path, passphrase: str, pem: bytes) -> None:
    with tempfile.TemporaryDirectory(dir=destination.parent, prefix=".verify-") as check:
        if read(destination, passphrase, Path(check)).signing_key_pem != pem:
            raise BackupRefused("the key read back from the backup is not the key written")


async def _exists(connection: Any, table: str) -> bool:
    """False for a table that an older schema did not have yet."""
    return bool(await connection.fetchval("SELECT to_regclass($1) IS NOT NULL", table))


async def _copy_out(connection: Any, name: str, directory: Path) -> Table:
    columns = [
        row["column_name"]
        for row in await connection.fetch(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
            name,
        )
    ]
    path = directory / f"{name}.copy"
    listed = ", ".join(f'"{column}"' for column in columns)
    query = f"SELECT {listed} FROM {name} ORDER BY {RECORDS[name]}"
    await connection.copy_from_query(query, output=str(path), format="text")
    return Table.of(name, columns, path)


async def _sequence(connection: Any, name: str) -> dict[str, Any]:
    row = await connection.fetchrow(f"SELECT last_value, is_called FROM {name}")
    return {"last_value": row["last_value"], "is_called": row["is_called"]}


def _write_key(path: Path, pem: bytes) -> None:
    private_files.directory(path.parent)
    try:
        private_files.create(path, pem)
    except FileExistsError:
        msg = f"{path} exists: restore into a new data directory, or move that key away first"
        raise BackupRefused(msg) from None


async def _load(pool: Any, backup: Backup) -> None:
    """All the tables in one transaction, the sequences past what they had handed out, and
    every event in the outbox, to be published again."""
    events = backup.manifest["events"]
    async with pool.acquire() as connection, connection.transaction():
        for table in backup.manifest["tables"]:
            await connection.copy_to_table(
                table["name"],
                source=str(backup.table_file(table["name"])),
                columns=table["columns"],
                format="text",
            )
        if events["count"]:
            await connection.execute(
                "SELECT setval(pg_get_serial_sequence('events', 'position'), $1)",
                events["last_position"],
            )
        for name, value in backup.manifest["sequences"].items():
            await connection.execute(
                "SELECT setval($1::regclass, $2, $3)", name, value["last_value"], value["is_called"]
            )
        await connection.execute("INSERT INTO outbox (position) SELECT position FROM events")
        loaded = await connection.fetchrow(
            "SELECT count(*) AS count, coalesce(max(position), 0) AS last_position FROM events"
        )
        if dict(loaded) != events:
            raise BackupRefused(f"the database holds {dict(loaded)} after loading, not {events}")
