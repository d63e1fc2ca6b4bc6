"""The public portal's read queries: keyword search, a tender's public history, awards,
contracts and auctions, and the parties' names. Only what anyone may know is read:
counts and commitments of sealed bids, never their contents, and each lot's offered prices
once the lot is awarded, as the OCDS record publishes them."""

import json
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from bidding.log import bid_log_id
from entrypoints.portal import paging as portal_paging
from procurement.conditions_complaints import complaints_id
from procurement.evaluation import evaluation_id
from readmodels import reads
from schemas.events import EVENT_TYPES, Envelope, SupplierRegistered
from schemas.upcasting import read_envelope

Row = dict[str, Any]

# The recorded events the public may read, in the tender's timeline: those whose class says
# ``public = True``. Bids, their opening one by one, the committee's work and auction prices
# stay out: counts say enough.
PUBLIC_EVENTS = tuple(sorted(name for name, cls in EVENT_TYPES.items() if cls.public))


def _like(words: str) -> str:
    """An ILIKE pattern that matches the words literally, wherever they are."""
    escaped = words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# The orders of the portal's long lists, newest first; each set of columns tells rows apart.
TENDERS_ORDER = portal_paging.Keyset(("t.published_at", "t.ocid"), (datetime, str))
AWARDS_ORDER = portal_paging.Keyset(("w.decided_at", "w.ocid", "w.lot_id"), (datetime, str, str))
# By id, not by the last change: a payment must not move a contract to another page.
CONTRACTS_ORDER = portal_paging.Keyset(("contract_id",), (str,))


async def search(
    pool: Any,
    where: reads.TenderFilter,
    keyword: str | None,
    buyer: str | None,
    cursor: portal_paging.Cursor | None,
    size: int,
) -> portal_paging.Window:
    """Newest first, a page at a time: the tenders that match the filter, whose buyer has this id or a name
    that holds ``buyer``, and whose title or description holds the keyword. A plain ILIKE
    scan: fast enough for a portal's tens of thousands of tenders."""
    args: list[Any] = []
    clauses = where.where(args)
    if buyer:
        args += [buyer, _like(buyer)]
        clauses.append(f"(t.buyer_id = ${len(args) - 1} OR a.name ILIKE ${len(args)})")
    if keyword:
        args.append(_like(keyword))
        clauses.append(
            f"(t.document->>'title' ILIKE ${len(args)} OR t.document->>'description' ILIKE ${len(args)})"
        )
    found = await portal_paging.fetch(
        pool,
        "SELECT t.document, t.published_at, t.ocid, a.name AS buyer_name FROM tenders t"
        " LEFT JOIN agencies a ON a.agency_id = t.buyer_id",
        clauses,
        args,
        TENDERS_ORDER,
        cursor,
        size,
    )
    rows = [dict(row["document"]) | {"buyer_name": row["buyer_name"]} for row in found.rows]
    return replace(found, rows=rows)


_AWARDS = (
    "SELECT w.*, t.document->>'title' AS title, t.buyer_id, l.estimated, l.best_initial,"
    " l.final_after_auction,"
    " (SELECT c.contract_id FROM contracts c WHERE c.ocid = w.ocid AND c.lot_id = w.lot_id"
    "  ORDER BY c.updated_at DESC LIMIT 1) AS contract_id"
    " FROM awards w JOIN tenders t ON t.ocid = w.ocid"
    " LEFT JOIN LATERAL (SELECT s.lot->>'estimated' AS estimated,"
    "  s.lot->>'best_initial' AS best_initial,"
    "  s.lot->>'final_after_auction' AS final_after_auction"
    "  FROM lot_savings s WHERE s.ocid = w.ocid AND s.lot_id = w.lot_id) l ON true"
)


async def awards(pool: Any, ocid: str) -> list[Row]:
    """The awards of one tender, all of them: a tender has a few lots."""
    rows = await pool.fetch(
        f"{_AWARDS} WHERE w.ocid = $1 ORDER BY w.decided_at DESC, w.ocid, w.lot_id", ocid
    )
    return [dict(row) for row in rows]


async def party_awards(
    pool: Any, column: str, value: str, cursor: portal_paging.Cursor | None, size: int
) -> portal_paging.Window:
    """One page of the awards of a buyer (``buyer_id``) or supplier (``bidder_id``)."""
    assert column in {"buyer_id", "bidder_id"}, column  # never from the request
    where = f"{'t.buyer_id' if column == 'buyer_id' else 'w.bidder_id'} = $1"
    return await portal_paging.fetch(pool, _AWARDS, [where], [value], AWARDS_ORDER, cursor, size)


async def contracts(
    pool: Any, column: str, value: str, cursor: portal_paging.Cursor | None, size: int
) -> portal_paging.Window:
    """One page of the contracts of a buyer (``buyer_id``) or supplier (``supplier_id``)."""
    assert column in {"buyer_id", "supplier_id"}, column  # never from the request
    return await portal_paging.fetch(
        pool, "SELECT * FROM contracts", [f"{column} = $1"], [value], CONTRACTS_ORDER, cursor, size
    )


@dataclass(frozen=True)
class TenderActivity:
    """What a tender page shows beside the tender and its awards, read in one round trip."""

    fingerprint: str  # changes with any committed change to what the page shows
    timeline: list[Envelope]  # the public events, in the order they were recorded
    offers: list[Row]  # each tenderer's price for each decided lot
    auctions: list[Row]  # each auction's public facts (the ranking is the buyer's)


async def tender_activity(pool: Any, ocid: str) -> TenderActivity:
    own = [ocid, bid_log_id(ocid), evaluation_id(ocid), complaints_id(ocid)]
    row = await pool.fetchrow(_ACTIVITY, ocid, own)
    return TenderActivity(
        fingerprint=row["fingerprint"],
        timeline=[read_envelope(e) for e in json.loads(row["timeline"] or "[]")],
        offers=_offers(json.loads(row["bids"] or "[]", parse_float=Decimal)),
        auctions=json.loads(row["auctions"] or "[]"),
    )


def _offers(details: list[Row]) -> list[Row]:
    """The ``bids`` of the latest OCDS release (each release is a snapshot of everything
    public): every offer for a lot that is awarded or cancelled, and each bid that could not
    be opened; by lot and price."""
    offers = []
    for bid in details:
        price = bid.get("value", {})
        offers.append(
            {
                "lot_id": (bid.get("relatedLots") or [None])[0],
                "bidder_id": bid["tenderers"][0]["id"],
                "name": bid["tenderers"][0].get("name"),
                "amount": price.get("amount"),
                "currency": price.get("currency"),
                "status": bid["status"],
            }
        )
    return sorted(offers, key=lambda o: (o["lot_id"] is None, o["lot_id"] or "", o["amount"] or 0))


# $1 the ocid, $2 the tender's own aggregates (the tender, its bid log, its evaluation, the
# complaints about its conditions). The
# fingerprint is each read-model row's transaction id (``xmin``: PostgreSQL gives a row a new
# one whenever a transaction changes it), the latest release's position and each aggregate's
# last sequence: any committed change to what the page shows changes it.
_ACTIVITY = f"""
WITH aggregates AS (
    SELECT unnest($2::text[]) AS id
    UNION ALL SELECT auction_id FROM auctions WHERE ocid = $1
    UNION ALL SELECT contract_id FROM contracts WHERE ocid = $1
), latest AS (
    SELECT position, release FROM releases WHERE ocid = $1 ORDER BY position DESC LIMIT 1
)
SELECT
  (SELECT release->'bids'->>'details' FROM latest) AS bids,
  (SELECT json_agg(document ORDER BY lot_id)::text FROM auctions WHERE ocid = $1) AS auctions,
  (SELECT json_agg(envelope ORDER BY position)::text FROM events
    WHERE aggregate_id = ANY(ARRAY(SELECT id FROM aggregates))  -- by the index
      AND type IN ({", ".join(f"'{t}'" for t in PUBLIC_EVENTS)})) AS timeline,
  concat_ws('/',
    (SELECT t.xmin::text || '.' || coalesce(a.xmin::text, '-')
       FROM tenders t LEFT JOIN agencies a ON a.agency_id = t.buyer_id WHERE t.ocid = $1),
    (SELECT xmin::text FROM public_bid_logs WHERE ocid = $1),
    (SELECT string_agg(xmin::text, ',' ORDER BY lot_id, bid_id) FROM awards WHERE ocid = $1),
    (SELECT string_agg(xmin::text, ',' ORDER BY lot_id) FROM lot_savings WHERE ocid = $1),
    (SELECT string_agg(xmin::text, ',' ORDER BY auction_id) FROM auctions WHERE ocid = $1),
    (SELECT string_agg(xmin::text, ',' ORDER BY contract_id) FROM contracts WHERE ocid = $1),
    (SELECT position::text FROM latest),
    (SELECT string_agg(coalesce((SELECT max(sequence) FROM events e
                                 WHERE e.aggregate_id = g.id), 0)::text, ',' ORDER BY g.id)
       FROM aggregates g)) AS fingerprint
"""


async def supplier(pool: Any, supplier_id: str) -> Row | None:
    """A supplier's public registration: name, national identifier, whether it is an SME."""
    row = await pool.fetchrow(
        # The latest: an accepted claim registers the number's new holder after the old.
        "SELECT envelope FROM events WHERE aggregate_id = $1 AND type = 'SupplierRegistered'"
        " ORDER BY sequence DESC LIMIT 1",
        supplier_id,
    )
    if row is None:
        return None
    event = read_envelope(row["envelope"]).event
    if not isinstance(event, SupplierRegistered):
        return None
    return {"name": event.name, "identifier": event.identifier, "is_sme": event.is_sme}


async def party_names(pool: Any, ids: set[str]) -> dict[str, str]:
    """The names of these suppliers and agencies, by id; unknown ids are left out."""
    if not ids:
        return {}
    rows = await pool.fetch(
        "SELECT agency_id AS id, name FROM agencies WHERE agency_id = ANY($1)"
        " UNION ALL SELECT aggregate_id, envelope->'event'->>'name' FROM events"
        " WHERE aggregate_id = ANY($1) AND type = 'SupplierRegistered'",
        sorted(ids),
    )
    return {row["id"]: row["name"] for row in rows}


async def agency(pool: Any, agency_id: str) -> Row | None:
    row = await pool.fetchrow(
        "SELECT agency_id, name, identifier, registered_at FROM agencies WHERE agency_id = $1",
        agency_id,
    )
    return None if row is None else dict(row)


async def tenders_bid_in(
    pool: Any, supplier_id: str, cursor: portal_paging.Cursor | None, size: int
) -> portal_paging.Window:
    """The tenders whose opened bids include the supplier's: taking part is public once the
    bids are opened, never before."""
    return await portal_paging.fetch(
        pool,
        "SELECT t.ocid, t.published_at, t.document->>'title' AS title, t.status"
        " FROM public_bidders b"
        " JOIN public_bid_logs l ON l.ocid = b.ocid AND l.opened_at IS NOT NULL"
        " JOIN tenders t ON t.ocid = b.ocid",
        ["b.bidder_id = $1", "b.has_bid"],
        [supplier_id],
        TENDERS_ORDER,
        cursor,
        size,
    )
