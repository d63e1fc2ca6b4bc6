"""Every table of the schema is either kept by a backup, rebuilt from the store after a
restore, or bookkeeping begun afresh: a new table cannot be forgotten by the backup."""

import re

from adapters.postgres import backup
from adapters.postgres.database import SCHEMA


def test_every_table_of_the_schema_is_classified_for_backups() -> None:
    """A table added to schema.sql fails here until adapters.postgres.backup says what becomes of it:
    kept (written in the events' transactions), rebuilt (a read model) or not kept."""
    tables = set(re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", SCHEMA.read_text()))
    classified = set(backup.RECORDS) | backup.REBUILT | backup.NOT_KEPT
    assert sorted(tables - classified) == [], "classify these tables in adapters/postgres/backup.py"
    assert not set(backup.RECORDS) & (backup.REBUILT | backup.NOT_KEPT)
