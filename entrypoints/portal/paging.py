"""Keyset paging of the portal's long lists: plain "Newer" and "Older" links that carry the
sort key of the row at the edge of the page, so that a deep page costs what the first does
and rows added meanwhile are neither repeated nor skipped.

Each list is ordered by a few columns, all descending, that together tell its rows apart. A
cursor is the direction and the edge row's values of those columns, as base64url JSON
(``["older", "2026-05-04T10:00:00+00:00", "ocds-…"]``); the portal checks every value
before a query sees it, and answers anything else with 400.
"""

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from typing import Any
from urllib.parse import urlencode

PAGE_SIZE = 50
LONGEST_CURSOR = 1_000  # characters; the cursors the portal gives out are far shorter
LONGEST_VALUE = 300

Row = dict[str, Any]


class BadCursor(ValueError):
    """A page link that the portal did not give out."""


@dataclass(frozen=True)
class Keyset:
    """The columns a list is ordered by, descending, with the type of each."""

    columns: tuple[str, ...]  # SQL expressions such as ``t.published_at``
    types: tuple[type, ...]  # datetime or str

    def key(self, row: Row) -> tuple[Any, ...]:
        return tuple(row[column.rpartition(".")[2]] for column in self.columns)


@dataclass(frozen=True)
class Cursor:
    older: bool  # the rows after the key in the list's order, else the rows before it
    key: tuple[Any, ...]


@dataclass(frozen=True)
class Window:
    """One page of a list and the cursors of its neighbours: ``None`` when there is no such
    page, ``""`` for the first page."""

    rows: list[Row]
    newer: str | None = None
    older: str | None = None


def encode(cursor: Cursor) -> str:
    values = [v.isoformat() if isinstance(v, datetime) else v for v in cursor.key]
    raw = json.dumps(["older" if cursor.older else "newer", *values], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(token: str | None, keyset: Keyset) -> Cursor | None:
    """The cursor of a page link, ``None`` for the first page; ``BadCursor`` for anything
    that is not a cursor of this list."""
    if not token:
        return None
    try:
        if len(token) > LONGEST_CURSOR:
            raise ValueError("too long")
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        direction, *values = json.loads(raw)
        if direction not in ("older", "newer") or len(values) != len(keyset.types):
            raise ValueError("not this list's key")
        key = tuple(_value(v, t) for v, t in zip(values, keyset.types, strict=True))
    except (ValueError, TypeError, OverflowError) as error:  # binascii, JSON, Unicode errors too
        raise BadCursor(f"the page link {token[:80]!r} is not one the portal gave out") from error
    return Cursor(direction == "older", key)


def _value(value: Any, expected: type) -> Any:
    """One value of a key as the database takes it: text it can store, or a time with its
    offset."""
    if not isinstance(value, str) or len(value) > LONGEST_VALUE or "\x00" in value:
        raise ValueError("not a key value")
    value.encode()  # lone surrogates cannot be sent
    if expected is datetime:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise ValueError("a time without its offset")
        return moment.astimezone(UTC)  # OverflowError at the ends of the calendar
    return value


async def fetch(
    pool: Any,
    select: str,
    clauses: Sequence[str],
    args: Sequence[Any],
    keyset: Keyset,
    cursor: Cursor | None,
    size: int,
) -> Window:
    """The page of ``select ... WHERE clauses`` that the cursor points to, newest first."""
    older = cursor is None or cursor.older
    where, values = list(clauses) or ["true"], list(args)
    if cursor is not None:
        marks = [f"${len(values) + i + 1}" for i in range(len(cursor.key))]
        values += cursor.key
        columns = ", ".join(keyset.columns)
        where.append(f"({columns}) {'<' if older else '>'} ({', '.join(marks)})")
    order = ", ".join(f"{c} {'DESC' if older else 'ASC'}" for c in keyset.columns)
    values.append(size + 1)
    found = await pool.fetch(
        f"{select} WHERE {' AND '.join(where)} ORDER BY {order} LIMIT ${len(values)}", *values
    )
    rows = [dict(row) for row in found[:size]]
    more = len(found) > size
    if not older:
        rows.reverse()
    if not rows:
        return Window([], newer=None if cursor is None else "")
    has_newer = cursor is not None if older else more
    has_older = more if older else True
    return Window(
        rows,
        encode(Cursor(False, keyset.key(rows[0]))) if has_newer else None,
        encode(Cursor(True, keyset.key(rows[-1]))) if has_older else None,
    )


def href(path: str, params: Mapping[str, str | None]) -> str:
    """``path`` with the non-empty parameters as its query, percent-encoded."""
    query = urlencode([(name, value) for name, value in params.items() if value])
    return f"{path}?{query}" if query else path


def pager(
    window: Window, path: str, params: Mapping[str, str | None], name: str, fragment: str = ""
) -> str:
    """The links to the newer and older pages of one list, as ``path`` with ``params`` but
    for the list's own cursor ``name``, then ``#fragment``; nothing when the list fits one
    page."""
    jump = f"#{fragment}" if fragment else ""
    parts = [
        f'<a href="{escape(href(path, {**params, name: token}) + jump)}">{label}</a>'
        for token, label in ((window.newer, "&larr; Newer"), (window.older, "Older &rarr;"))
        if token is not None
    ]
    return f'<p class="pages">{" ".join(parts)}</p>' if parts else ""


def head_links(window: Window, path: str, params: Mapping[str, str | None], name: str) -> str:
    """``<link rel=prev/next>`` for a page that is one list."""
    return "".join(
        f'<link rel="{rel}" href="{escape(href(path, {**params, name: token}))}">'
        for token, rel in ((window.newer, "prev"), (window.older, "next"))
        if token is not None
    )
