"""Public reads of the tender read model, shared by the JSON API and the HTML pages.

Each tender is read as the JSON text PostgreSQL makes of it (its document with the buyer's
name and its version), so the API answers with it as it is, without parsing it; the pages
parse it.
"""

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

Document = dict[str, Any]

SELECT_TENDERS = (
    "SELECT (t.document || jsonb_build_object('buyer_name', a.name, 'version', t.version))::text"
    " AS tender, t.published_at, t.ocid"
    " FROM tenders t LEFT JOIN agencies a ON a.agency_id = t.buyer_id"
)
# One tender with what the public knows of its sealed bids, in one round trip.
ONE_TENDER = f"""
SELECT q.tender, l.ocid IS NOT NULL AS has_log, l.entries, l.tree_size, l.root, l.sealed_at,
       l.opened_at, l.participants, l.opened, l.rejected,
       (SELECT count(*) FROM public_bidders b WHERE b.ocid = q.ocid) AS bidders,
       (SELECT count(*) FROM public_bidders b WHERE b.ocid = q.ocid AND b.has_bid) AS current
FROM ({SELECT_TENDERS} WHERE t.ocid = $1) q LEFT JOIN public_bid_logs l ON l.ocid = q.ocid
"""


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


@dataclass(frozen=True)
class TextPage:
    items: list[str]  # each tender as JSON text
    next_cursor: str | None = None


def encode_cursor(published_at: datetime, ocid: str) -> str:
    return base64.urlsafe_b64encode(f"{published_at.isoformat()}|{ocid}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        published_at, ocid = base64.urlsafe_b64decode(cursor.encode()).decode().split("|", 1)
        return datetime.fromisoformat(published_at), ocid
    except (ValueError, binascii.Error, UnicodeDecodeError) as error:
        raise BadCursor(f"the cursor {cursor!r} is not one this API gave out") from error


async def tender(pool: Any, ocid: str) -> Document | None:
    text = await tender_text(pool, ocid)
    return None if text is None else _parsed(text)


async def tender_text(pool: Any, ocid: str) -> str | None:
    """One tender as JSON text, with what the public knows of its sealed bids."""
    row = await pool.fetchrow(ONE_TENDER, ocid)
    if row is None:
        return None
    tender: str = row["tender"]
    return f'{tender[:-1]}, "bids": {json.dumps(_bid_summary(row))}}}'


def _bid_summary(row: Any) -> Document | None:
    """What the public knows of a tender's sealed bids: counts, the root, the opening; the
    counts mean what they mean in ``GET /tenders/{ocid}/bids`` (docs/sealed-bids.md). Null
    until the seal: before the deadline nothing public tells how many bids a tender has,
    not even whether it has one (Directive 2014/24/EU Art. 22(3))."""
    if not row["has_log"] or row["sealed_at"] is None:
        return None
    return {
        "log_entries": row["entries"],
        "bidders_with_entries": row["bidders"],
        "current_bids": row["current"],
        "received": row["current"],  # deprecated: read current_bids
        "tree_size": row["tree_size"],
        "root": row["root"],
        "sealed_at": row["sealed_at"].isoformat() if row["sealed_at"] else None,
        "opened_at": row["opened_at"].isoformat() if row["opened_at"] else None,
        "opening_committee": row["participants"],
        "opened": row["opened"],
        "rejected": row["rejected"],
    }


async def tenders(pool: Any, where: TenderFilter, limit: int, cursor: str | None = None) -> Page:
    """Newest first, ``limit`` at a time, as Python values."""
    page = await tender_texts(pool, where, limit, cursor)
    return Page([_parsed(text) for text in page.items], page.next_cursor)


async def tender_texts(
    pool: Any, where: TenderFilter, limit: int, cursor: str | None = None
) -> TextPage:
    """Newest first, ``limit`` at a time, as JSON text; keyset paging so deep pages stay
    fast (the index ``tenders_newest`` walks this order)."""
    args: list[Any] = []
    clauses = ["true", *where.where(args)]
    if cursor:
        args += decode_cursor(cursor)
        clauses.append(f"(t.published_at, t.ocid) < (${len(args) - 1}, ${len(args)})")
    args.append(limit + 1)
    rows = await pool.fetch(
        f"{SELECT_TENDERS} WHERE {' AND '.join(clauses)}"
        f" ORDER BY t.published_at DESC, t.ocid DESC LIMIT ${len(args)}",
        *args,
    )
    page = rows[:limit]
    more = len(rows) > limit
    return TextPage(
        [row["tender"] for row in page],
        encode_cursor(page[-1]["published_at"], page[-1]["ocid"]) if more else None,
    )


def _parsed(text: str) -> Document:
    document: Document = json.loads(text)
    return document


async def agencies(pool: Any) -> list[Document]:
    rows = await pool.fetch(
        "SELECT agency_id, name, identifier, registered_at FROM agencies ORDER BY name"
    )
    return [dict(row) for row in rows]
