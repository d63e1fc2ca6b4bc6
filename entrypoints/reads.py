"""Public reads of the tender read model, shared by the JSON API and the HTML pages."""

import base64
import binascii
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

Document = dict[str, Any]

_SELECT = (
    "SELECT t.document, t.version, t.published_at, t.ocid, a.name AS buyer_name"
    " FROM tenders t LEFT JOIN agencies a ON a.agency_id = t.buyer_id"
)


class BadCursor(ValueError):
    """A page cursor that this API did not give out."""


@dataclass(frozen=True)
class TenderFilter:
    status: str | None = None
    buyer: str | None = None
    cpv: str | None = None  # a full code such as 30197630-1, or a prefix such as 30

    def where(self, args: list[Any]) -> list[str]:
        clauses = []
        if self.status:
            args.append(self.status)
            clauses.append(f"t.status = ${len(args)}")
        if self.buyer:
            args.append(self.buyer)
            clauses.append(f"t.buyer_id = ${len(args)}")
        if self.cpv and "-" in self.cpv:
            args.append(self.cpv)
            clauses.append(f"t.cpv @> ARRAY[${len(args)}]")
        elif self.cpv:
            args.append(self.cpv + "%")
            clauses.append(f"EXISTS (SELECT 1 FROM unnest(t.cpv) c WHERE c LIKE ${len(args)})")
        return clauses


@dataclass(frozen=True)
class Page:
    items: list[Document] = field(default_factory=list)
    next_cursor: str | None = None


def _public(row: Any) -> Document:
    document: Document = row["document"]
    return document | {"buyer_name": row["buyer_name"], "version": row["version"]}


def encode_cursor(published_at: datetime, ocid: str) -> str:
    return base64.urlsafe_b64encode(f"{published_at.isoformat()}|{ocid}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        published_at, ocid = base64.urlsafe_b64decode(cursor.encode()).decode().split("|", 1)
        return datetime.fromisoformat(published_at), ocid
    except (ValueError, binascii.Error, UnicodeDecodeError) as error:
        raise BadCursor(f"the cursor {cursor!r} is not one this API gave out") from error


async def tender(pool: Any, ocid: str) -> Document | None:
    row = await pool.fetchrow(f"{_SELECT} WHERE t.ocid = $1", ocid)
    if row is None:
        return None
    return _public(row) | {"bids": await bid_summary(pool, ocid)}


async def bid_summary(pool: Any, ocid: str) -> Document | None:
    """What the public knows of a tender's sealed bids: counts, the root, the opening."""
    row = await pool.fetchrow(
        "SELECT l.*, (SELECT count(*) FROM public_bidders b WHERE b.ocid = l.ocid AND b.has_bid)"
        " AS bidders FROM public_bid_logs l WHERE l.ocid = $1",
        ocid,
    )
    if row is None:
        return None
    return {
        "received": row["bidders"],  # bidders whose latest entry is a bid
        "log_entries": row["entries"],
        "tree_size": row["tree_size"],
        "root": row["root"],
        "sealed_at": row["sealed_at"].isoformat() if row["sealed_at"] else None,
        "opened_at": row["opened_at"].isoformat() if row["opened_at"] else None,
        "opening_committee": row["participants"],
        "opened": row["opened"],
        "rejected": row["rejected"],
    }


async def tenders(pool: Any, where: TenderFilter, limit: int, cursor: str | None = None) -> Page:
    """Newest first, ``limit`` at a time; keyset paging so deep pages stay fast."""
    args: list[Any] = []
    clauses = ["true", *where.where(args)]
    if cursor:
        args += decode_cursor(cursor)
        clauses.append(f"(t.published_at, t.ocid) < (${len(args) - 1}, ${len(args)})")
    args.append(limit + 1)
    rows = await pool.fetch(
        f"{_SELECT} WHERE {' AND '.join(clauses)}"
        f" ORDER BY t.published_at DESC, t.ocid DESC LIMIT ${len(args)}",
        *args,
    )
    page = rows[:limit]
    more = len(rows) > limit
    return Page(
        [_public(row) for row in page],
        encode_cursor(page[-1]["published_at"], page[-1]["ocid"]) if more else None,
    )


async def agencies(pool: Any) -> list[Document]:
    rows = await pool.fetch(
        "SELECT agency_id, name, identifier, registered_at FROM agencies ORDER BY name"
    )
    return [dict(row) for row in rows]
