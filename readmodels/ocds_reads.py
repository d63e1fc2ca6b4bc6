"""Public reads of the OCDS releases read model (``readmodels.releases``): pages of releases
and of records, the latest releases, the export of all of them, each under one filter.

Releases and records are read as the JSON text PostgreSQL holds, so a page is spliced
together without parsing it. Records are compiled by the streams as they record releases;
only a procedure whose record is not stored yet has its releases parsed and merged here.
"""

import base64
import binascii
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

EXPORT_CHUNK = 1000


class BadCursor(ValueError):
    """A page cursor that this API did not give out."""


@dataclass(frozen=True)
class ReleaseFilter:
    """Which releases a reader wants; a field left out does not filter."""

    date_from: datetime | None = None  # inclusive
    date_to: datetime | None = None  # exclusive
    buyer: str | None = None
    supplier: str | None = None
    cpv: tuple[str, ...] = ()  # full codes such as 30197630-1 or prefixes such as 30: any
    status: str | None = None  # the tender's status (OCDS tenderStatus)
    tag: str | None = None  # an OCDS releaseTag

    def where(self, args: list[Any]) -> list[str]:
        """SQL conditions on the releases table, their values appended to ``args``."""
        conditions = {
            "date >= ${}": self.date_from,
            "date < ${}": self.date_to,
            "buyer_id = ${}": self.buyer,
            "supplier_ids @> ARRAY[${}]": self.supplier,
            "cpv_prefixes && ${}::text[]": list(self.cpv) or None,
            "status = ${}": self.status,
            "tags @> ARRAY[${}]": self.tag,
        }
        clauses = []
        for condition, value in conditions.items():
            if value is not None:
                args.append(value)
                clauses.append(condition.format(len(args)))
        return clauses

    def passes(self, tags: list[str], cpv: list[str]) -> bool:
        """The live feed's filter, on what a new release announces: its tags and CPV codes."""
        if self.tag is not None and self.tag not in tags:
            return False
        return not self.cpv or any(code.startswith(p) for p in self.cpv for code in cpv)


def encode_cursor(kind: str, last: str | int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{last}".encode()).decode().rstrip("=")


def decode_cursor(kind: str, cursor: str) -> str:
    """What the cursor of a page of ``kind`` says was last on it."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, binascii.Error, UnicodeDecodeError) as error:
        raise BadCursor(f"the cursor {cursor!r} is not one this API gave out") from error
    found, _, last = text.partition(":")
    if found != kind or not last:
        raise BadCursor(f"the cursor {cursor!r} is not one this API gave out for {kind}")
    return last


def _position_after(cursor: str | None) -> int:
    if cursor is None:
        return 0
    last = decode_cursor("releases", cursor)
    if not last.isdigit():
        raise BadCursor(f"the cursor {cursor!r} is not one this API gave out for releases")
    return int(last)


@dataclass(frozen=True)
class Page:
    items: list[str]  # JSON text of each release or record
    next_cursor: str | None


async def release_page(pool: Any, where: ReleaseFilter, limit: int, cursor: str | None) -> Page:
    """Releases in the order they were recorded, ``limit`` after the cursor."""
    rows = await _releases_after(pool, where, _position_after(cursor), limit + 1)
    page = rows[:limit]
    more = len(rows) > limit
    following = encode_cursor("releases", page[-1]["position"]) if more else None
    return Page([row["release"] for row in page], following)


async def _releases_after(pool: Any, where: ReleaseFilter, position: int, limit: int) -> list[Any]:
    args: list[Any] = [position]
    clauses = ["position > $1", *where.where(args)]
    args.append(limit)
    rows: list[Any] = await pool.fetch(
        "SELECT position, tags, cpv, release::text AS release FROM releases"
        f" WHERE {' AND '.join(clauses)} ORDER BY position LIMIT ${len(args)}",
        *args,
    )
    return rows


async def releases_since(pool: Any, where: ReleaseFilter, position: int, limit: int) -> list[Any]:
    """Rows (position, tags, cpv, release text) after ``position``: the live feed's catch-up."""
    return await _releases_after(pool, where, position, limit)


async def export(pool: Any, where: ReleaseFilter) -> AsyncIterator[list[str]]:
    """Every release that passes, in order, in chunks: keyset reads, so no transaction or
    cursor stays open while a slow client downloads."""
    position = 0
    while True:
        rows = await _releases_after(pool, where, position, EXPORT_CHUNK)
        if not rows:
            return
        yield [row["release"] for row in rows]
        position = rows[-1]["position"]


async def record_ocids(pool: Any, where: ReleaseFilter, limit: int, cursor: str | None) -> Page:
    """The ocids of the records with at least one release that passes, in ocid order."""
    args: list[Any] = [decode_cursor("records", cursor) if cursor else ""]
    clauses = ["ocid > $1", *where.where(args)]
    args.append(limit + 1)
    rows = await pool.fetch(
        f"SELECT DISTINCT ocid FROM releases WHERE {' AND '.join(clauses)}"
        f" ORDER BY ocid LIMIT ${len(args)}",
        *args,
    )
    ocids = [row["ocid"] for row in rows[:limit]]
    return Page(ocids, encode_cursor("records", ocids[-1]) if len(rows) > limit else None)


async def records(pool: Any, ocids: list[str]) -> dict[str, str]:
    """Each ocid's record as the streams compiled and stored it (JSON text)."""
    rows = await pool.fetch("SELECT ocid, record FROM records WHERE ocid = ANY($1)", ocids)
    return {row["ocid"]: row["record"] for row in rows}


async def record_bytes(pool: Any, ocid: str) -> bytes | None:
    """One ocid's stored record as UTF-8 JSON, if it has one."""
    found: bytes | None = await pool.fetchval(
        "SELECT convert_to(record::text, 'UTF8') FROM records WHERE ocid = $1", ocid
    )
    return found


async def record_releases(pool: Any, ocids: list[str]) -> dict[str, list[tuple[int, str]]]:
    """Each ocid's releases (position, JSON text), in order."""
    rows = await pool.fetch(
        "SELECT ocid, position, release::text AS release FROM releases WHERE ocid = ANY($1)"
        " ORDER BY ocid, position",
        ocids,
    )
    found: dict[str, list[tuple[int, str]]] = {}
    for row in rows:
        found.setdefault(row["ocid"], []).append((row["position"], row["release"]))
    return found


async def latest(pool: Any, where: ReleaseFilter, limit: int) -> list[Any]:
    """The newest releases first, with what a feed entry shows of them."""
    args: list[Any] = []
    clauses = ["true", *where.where(args)]
    args.append(limit)
    rows: list[Any] = await pool.fetch(
        "SELECT position, release_id, ocid, date, tags, cpv, status,"
        " release->'tender'->>'title' AS title, release->'tender'->>'description' AS description,"
        " release->'buyer'->>'name' AS buyer_name"
        f" FROM releases WHERE {' AND '.join(clauses)} ORDER BY position DESC LIMIT ${len(args)}",
        *args,
    )
    return rows


def parse(text: str) -> Any:
    """A release as Python values, its amounts exact."""
    return json.loads(text, parse_float=Decimal)
