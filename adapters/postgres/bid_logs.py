"""Each tender's bid log in PostgreSQL: a snapshot of its state, kept from its events.

The log is event-sourced (``<ocid>:bids``; rules in ``bidding.ledger``). Replaying every
bid to decide the next one would read every ciphertext, so the event store keeps, in the
transaction that records the events, a snapshot row (``bid_logs``: the log's header,
status, size, version and root), an index of its entries (``bid_entries``: each bidder's
versions, digests, receipts and Merkle leaves) and the opened bids (``opened_bids``). They
hold nothing the events do not; ``ledger`` reads them back as the part of the log a
decision needs. The row is also the log's lock: writers take it FOR UPDATE, so bids,
deadline changes and the seal are ordered.
"""

import json
from collections.abc import Sequence
from typing import Any

from adapters.postgres import sealed_shares
from bidding import ledger as ledger_rules
from bidding.committee_log import Committee
from bidding.entries import Entry
from bidding.ledger import Ledger
from bidding.log import BidLog, LogStatus
from bidding.reconfirmation import Awaited
from procurement import tender
from schemas.bids import Receipt
from schemas.committee import (
    CommitteeConfirmation,
    CommitteeConfirmed,
    CommitteeMaterial,
    CommitteeNamed,
)
from schemas.events import (
    BidLogSealed,
    BidOpened,
    BidRejected,
    BidsOpened,
    BidSubmitted,
    BidWithdrawn,
    Envelope,
    OpeningKeyIssued,
    TenderCancelled,
    TenderDeadlineExtended,
    TenderRequirementsAmended,
)
from schemas.reconfirmations import BidReconfirmed, ReconfirmationRequested
from schemas.upcasting import read_envelope

_FOLLOWED = (
    BidSubmitted,
    BidWithdrawn,
    BidLogSealed,
    BidOpened,
    BidRejected,
    BidsOpened,
    CommitteeNamed,
    CommitteeConfirmed,
    OpeningKeyIssued,
    TenderCancelled,
    TenderDeadlineExtended,
    TenderRequirementsAmended,
    ReconfirmationRequested,
    BidReconfirmed,
)
_COLUMNS = "ocid, buyer_id, deadline, status, lots, committee, size, version, root"


def follows(envelopes: Sequence[Envelope]) -> bool:
    """Whether ``follow`` has anything to write for these events."""
    return any(
        item.aggregate_id.endswith(":bids") or isinstance(item.event, _FOLLOWED)
        for item in envelopes
    )


async def follow(connection: Any, envelopes: Sequence[Envelope]) -> None:
    """Bring the snapshots up to date with ``envelopes``, in the transaction recording them."""
    versions = {
        item.aggregate_id.removesuffix(":bids"): item.sequence
        for item in envelopes
        if item.aggregate_id.endswith(":bids")
    }
    relevant = [item for item in envelopes if isinstance(item.event, _FOLLOWED)]
    if not relevant and not versions:
        return
    entries = [item for item in relevant if isinstance(item.event, BidSubmitted | BidWithdrawn)]
    if entries:
        await _add_entries(connection, entries)
    results = [item for item in relevant if isinstance(item.event, BidOpened | BidRejected)]
    if results:
        await _add_opened(connection, results)
    for item in relevant:
        await _follow_one(connection, item)
    if not versions:
        return
    await connection.execute(
        "UPDATE bid_logs b SET version = u.version"
        " FROM unnest($1::text[], $2::int[]) AS u (ocid, version) WHERE b.ocid = u.ocid",
        list(versions),
        list(versions.values()),
    )


async def _follow_one(connection: Any, item: Envelope) -> None:
    event, aggregate_id = item.event, item.aggregate_id
    ocid = aggregate_id.removesuffix(":bids")
    if isinstance(event, CommitteeNamed):
        published = tender.replay([e.event for e in await _load(connection, ocid)])
        assert published is not None, f"a committee for {ocid}, which was never published"
        committee = {"material": event.material.model_dump(mode="json"), "confirmations": []}
        await connection.execute(
            "INSERT INTO bid_logs (ocid, buyer_id, deadline, status, lots, committee, version)"
            " VALUES ($1, $2, $3, 'open', $4, $5, $6)",
            ocid,
            published.buyer_id,
            published.submission_deadline,
            [lot.id for lot in published.requirements.lots],
            committee,
            item.sequence,
        )
    elif isinstance(event, OpeningKeyIssued):  # legacy: a log sealed to an opening key
        published = tender.replay([e.event for e in await _load(connection, ocid)])
        assert published is not None, f"an opening key for {ocid}, which was never published"
        legacy = {
            "sealing_version": 1,
            "threshold": event.threshold,
            "members": sorted({share.officer_id for share in event.shares}),
            "confirmations": [],
        }
        await connection.execute(
            "INSERT INTO bid_logs (ocid, buyer_id, deadline, status, lots, committee, version)"
            " VALUES ($1, $2, $3, 'open', $4, $5, $6) ON CONFLICT (ocid) DO NOTHING",
            ocid,
            published.buyer_id,
            published.submission_deadline,
            [lot.id for lot in published.requirements.lots],
            legacy,
            item.sequence,
        )
    elif isinstance(event, CommitteeConfirmed):
        await connection.execute(
            "UPDATE bid_logs SET committee = jsonb_set(committee, '{confirmations}',"
            " committee->'confirmations' || jsonb_build_array($2::jsonb)) WHERE ocid = $1",
            ocid,
            event.confirmation.model_dump(mode="json"),
        )
    elif isinstance(event, TenderDeadlineExtended):
        await connection.execute(
            "UPDATE bid_logs SET deadline = $2 WHERE ocid = $1", ocid, event.submission_deadline
        )
    elif isinstance(event, TenderRequirementsAmended):
        lots = [lot.id for lot in event.requirements.lots]
        await connection.execute("UPDATE bid_logs SET lots = $2 WHERE ocid = $1", ocid, lots)
    elif isinstance(event, TenderCancelled):
        await connection.execute(
            "UPDATE bid_logs SET status = 'cancelled' WHERE ocid = $1 AND status <> 'opened'", ocid
        )
        # Its bids will never be opened: the shares members handed in go too. After the
        # UPDATE, which waited for a hand-in holding the log's lock, so that one's go as well.
        await sealed_shares.drop(connection, ocid)
    elif isinstance(event, BidLogSealed):
        await connection.execute(
            "UPDATE bid_logs SET status = 'sealed', root = $2 WHERE ocid = $1",
            ocid,
            bytes.fromhex(event.root),
        )
    elif isinstance(event, BidsOpened):
        await connection.execute("UPDATE bid_logs SET status = 'opened' WHERE ocid = $1", ocid)
    elif isinstance(event, ReconfirmationRequested):
        await connection.execute(
            "UPDATE bid_entries SET awaits_requirements = $2 WHERE ocid = $1 AND bid_id = $3",
            ocid,
            event.requirements_sha256,
            event.bid_id,
        )
    elif isinstance(event, BidReconfirmed):
        await connection.execute(
            "UPDATE bid_entries SET awaits_requirements = NULL WHERE ocid = $1 AND bid_id = $2",
            ocid,
            event.bid_id,
        )


async def _add_opened(connection: Any, results: list[Envelope]) -> None:
    columns: list[list[Any]] = [[] for _ in range(8)]
    for item in results:
        event = item.event
        assert isinstance(event, BidOpened | BidRejected)
        opened = event if isinstance(event, BidOpened) else None
        rejected = event if isinstance(event, BidRejected) else None
        row = (
            event.bid_id,
            item.aggregate_id.removesuffix(":bids"),
            event.bidder_id,
            event.version,
            "opened" if opened else "rejected",
            opened.content.model_dump_json() if opened else None,
            rejected.reason_code if rejected else None,
            rejected.reason if rejected else None,
        )
        for column, value in zip(columns, row, strict=True):
            column.append(value)
    await connection.execute(
        "INSERT INTO opened_bids (bid_id, ocid, bidder_id, version, outcome, content,"
        " reason_code, reason) SELECT b, o, d, v, x, c::jsonb, rc, r FROM unnest($1::text[],"
        " $2::text[], $3::text[], $4::int[], $5::text[], $6::text[], $7::text[], $8::text[])"
        " AS u (b, o, d, v, x, c, rc, r)",
        *columns,
    )


async def _sealed_before_committees(connection: Any, aggregate_ids: set[str]) -> set[str]:
    """Which of these logs were sealed to an opening key (version 1): their leaves are hashed
    as version 1 hashed them."""
    rows = await connection.fetch(
        "SELECT ocid FROM bid_logs WHERE ocid = ANY($1) AND committee->>'sealing_version' = '1'",
        [aggregate_id.removesuffix(":bids") for aggregate_id in aggregate_ids],
    )
    return {row["ocid"] for row in rows}


async def _add_entries(connection: Any, entries: list[Envelope]) -> None:
    rows = []
    # only an entry without the committee's digest (a withdrawal, or version 1) may be legacy
    unsure = {
        e.aggregate_id
        for e in entries
        if isinstance(e.event, BidSubmitted | BidWithdrawn) and not e.event.receipt.material_sha256
    }
    legacy = await _sealed_before_committees(connection, unsure) if unsure else set()
    for item in entries:
        assert isinstance(item.event, BidSubmitted | BidWithdrawn)
        receipt = item.event.receipt
        sealing = 1 if receipt.ocid in legacy else 2
        digest = bytes.fromhex(receipt.ciphertext_sha256) if receipt.ciphertext_sha256 else None
        rows.append(
            (
                receipt.ocid,
                item.event.position,
                receipt.bidder_id,
                receipt.version,
                receipt.kind,
                receipt.bid_id,
                item.event_id,
                digest,
                ledger_rules.leaf_of(receipt, sealing),
                json.dumps(receipt.model_dump(mode="json")),
            )
        )
    await connection.execute(
        "INSERT INTO bid_entries (ocid, log_index, bidder_id, version, kind, bid_id, event_id,"
        " ciphertext_sha256, leaf_hash, receipt)"
        " SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::int[], $5::text[],"
        " $6::text[], $7::uuid[], $8::bytea[], $9::bytea[], $10::text[]::jsonb[])",
        *[list(column) for column in zip(*rows, strict=True)],
    )
    sizes: dict[str, int] = {}
    for item in entries:
        assert isinstance(item.event, BidSubmitted | BidWithdrawn)
        sizes[item.event.receipt.ocid] = item.event.position + 1
    await connection.execute(
        "UPDATE bid_logs b SET size = u.size"
        " FROM unnest($1::text[], $2::int[]) AS u (ocid, size) WHERE b.ocid = u.ocid",
        list(sizes),
        list(sizes.values()),
    )


async def ledger(
    connection: Any,
    ocid: str,
    bidders: Sequence[str] = (),
    digests: Sequence[bytes] = (),
    *,
    lock: bool = False,
    leaves: bool = False,
) -> Ledger | None:
    """The log's snapshot with the entries of ``bidders``, which of ``digests`` it holds and,
    with ``leaves``, every Merkle leaf; with ``lock``, its row is held to the commit."""
    row = await connection.fetchrow(
        f"SELECT {_COLUMNS} FROM bid_logs WHERE ocid = $1{' FOR UPDATE' if lock else ''}", ocid
    )
    if row is None:
        return None
    header = _from_row(row)
    entries: dict[str, tuple[Entry, ...]] = {}
    found: dict[tuple[str, int], Receipt] = {}
    unconfirmed: dict[str, Awaited] = {}
    if bidders:
        for entry in await connection.fetch(
            "SELECT e.bidder_id, e.version, e.kind, e.ciphertext_sha256, e.receipt,"
            " e.bid_id, e.awaits_requirements,"
            " pg_column_size(v.envelope) AS stored_bytes"
            " FROM bid_entries e JOIN events v ON v.event_id = e.event_id"
            " WHERE e.ocid = $1 AND e.bidder_id = ANY($2) ORDER BY e.log_index",
            ocid,
            list(bidders),
        ):
            digest = entry["ciphertext_sha256"]
            mine = Entry(
                entry["version"],
                entry["kind"],
                bytes(digest) if digest is not None else None,
                entry["stored_bytes"],
            )
            entries[entry["bidder_id"]] = (*entries.get(entry["bidder_id"], ()), mine)
            found[(entry["bidder_id"], entry["version"])] = Receipt.model_validate(entry["receipt"])
            unconfirmed.pop(entry["bidder_id"], None)  # in log order: the latest entry counts
            if (digest_awaited := entry["awaits_requirements"]) is not None:
                awaited = Awaited(entry["bid_id"], entry["version"], digest_awaited)
                unconfirmed[entry["bidder_id"]] = awaited
    taken: frozenset[bytes] = frozenset()
    if digests:
        taken = frozenset(
            bytes(r["ciphertext_sha256"])
            for r in await connection.fetch(
                "SELECT ciphertext_sha256 FROM bid_entries"
                " WHERE ocid = $1 AND ciphertext_sha256 = ANY($2)",
                ocid,
                list(digests),
            )
        )
    return Ledger(
        ocid=header.ocid,
        buyer_id=header.buyer_id,
        deadline=header.deadline,
        lots=header.lots,
        committee=header.committee,
        sealing_version=sealing_version(row["committee"]),
        status=header.status,
        version=row["version"],
        size=row["size"],
        root=bytes(row["root"]) if row["root"] is not None else None,
        entries=entries,
        receipts=found,
        digests=taken,
        leaves=tuple(await leaf_hashes(connection, ocid)) if leaves else (),
        unconfirmed=unconfirmed,
    )


def sealing_version(value: Any) -> int:
    """1 for a log sealed to an opening key, before committees; 2 otherwise."""
    recorded = json.loads(value) if isinstance(value, str) else value
    return int(recorded.get("sealing_version", 2))


def committee_of(value: Any) -> Committee:
    recorded = json.loads(value) if isinstance(value, str) else value
    if recorded.get("sealing_version") == 1:
        return ledger_rules.legacy_committee("", recorded["members"], recorded["threshold"])
    return Committee(
        CommitteeMaterial.model_validate(recorded["material"]),
        tuple(CommitteeConfirmation.model_validate(c) for c in recorded["confirmations"]),
    )


def _from_row(row: Any) -> BidLog:
    return BidLog(
        ocid=row["ocid"],
        buyer_id=row["buyer_id"],
        deadline=row["deadline"],
        status=LogStatus(row["status"]),
        lots=frozenset(row["lots"]),
        committee=committee_of(row["committee"]),
    )


async def read(connection: Any, ocid: str) -> tuple[BidLog, Any] | None:
    """The log's header and its snapshot row, for the public reads of the log."""
    row = await connection.fetchrow(f"SELECT {_COLUMNS} FROM bid_logs WHERE ocid = $1", ocid)
    return None if row is None else (_from_row(row), row)


async def leaf_hashes(connection: Any, ocid: str, size: int | None = None) -> list[bytes]:
    rows = await connection.fetch(
        "SELECT leaf_hash FROM bid_entries WHERE ocid = $1 AND log_index < coalesce($2, 2147483647)"
        " ORDER BY log_index",
        ocid,
        size,
    )
    return [bytes(row["leaf_hash"]) for row in rows]


async def _load(connection: Any, aggregate_id: str) -> list[Envelope]:
    rows = await connection.fetch(
        "SELECT envelope FROM events WHERE aggregate_id = $1 ORDER BY sequence", aggregate_id
    )
    return [read_envelope(row["envelope"]) for row in rows]
