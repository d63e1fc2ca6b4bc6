"""Read models fed by the streams: the public tender list, the agencies, bid logs, awards
and contracts (auctions: ``readmodels.auction_views``; OCDS releases: ``readmodels.releases``).

Each event id is applied once per projection, whatever Kafka redelivers. Events of one
tender are applied in sequence order: if one arrives before its predecessors (a broker
that lost its log, say), the missing ones are read from the event store first. An event
a projection cannot apply is set aside as a dead letter (``adapters.postgres.dead_letters``) and the
others go on.
"""

import asyncio
import logging
import math
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import asyncpg
from pydantic import ValidationError

from adapters.kafka.topology import (
    AUCTIONS,
    BIDS,
    CATALOGUE,
    CONTRACTS,
    EVALUATIONS,
    PARTIES,
    TENDERS,
    Topic,
)
from adapters.postgres import dead_letters, eventstore
from readmodels import auction_views, catalogue, notices, releases, savings_view
from schemas.contracts import (
    ContractActivated,
    ContractAmended,
    ContractCompleted,
    ContractDrawn,
    ContractTerminated,
    PaymentRecorded,
)
from schemas.evaluation import (
    AwardAnnulled,
    AwardDecided,
    ComplaintDismissed,
    ComplaintFiled,
    ComplaintSubject,
    ComplaintUpheld,
    LotCancelled,
    ProcedureCancelled,
    Remedy,
)
from schemas.events import (
    AgencyRegistered,
    BidLogSealed,
    BidsOpened,
    BidSubmitted,
    BidWithdrawn,
    Envelope,
    TenderCancelled,
    TenderClosed,
    TenderDeadlineExtended,
    TenderDetailsAmended,
    TenderPublished,
    TenderRequirementsAmended,
    TenderUnsuccessful,
)
from schemas.upcasting import read_envelope
from schemas.values import Requirements

log = logging.getLogger(__name__)

Document = dict[str, Any]


def tender_document(document: Document | None, item: Envelope) -> Document:
    """The public view of a tender after one more event (pure)."""
    event = item.event
    when = item.occurred_at.isoformat()
    if isinstance(event, TenderPublished):
        return {
            "ocid": event.ocid,
            "tender_id": event.tender_id,
            "buyer_id": event.buyer_id,
            "title": event.title,
            "description": event.description,
            "status": "active",
            "procedure_type": event.procedure_type.value,
            **_requirements(event.requirements),
            "submission_deadline": event.submission_deadline.isoformat(),
            "published_at": when,
            "amendments": [],
        }
    assert document is not None, f"{item.type} for {item.aggregate_id} before its publication"
    document = dict(document)
    if isinstance(event, TenderDetailsAmended):
        document.update(title=event.title, description=event.description)
        document["amendments"] = [*document["amendments"], _amendment(item, event.reason)]
    elif isinstance(event, TenderRequirementsAmended):
        document.update(_requirements(event.requirements))
        document["amendments"] = [*document["amendments"], _amendment(item, event.reason)]
    elif isinstance(event, TenderDeadlineExtended):
        document["submission_deadline"] = event.submission_deadline.isoformat()
        change = _amendment(item, event.reason) | {
            "previous_deadline": event.previous_deadline.isoformat(),
            "required_by_rules": event.required_by_rules,
        }
        document["amendments"] = [*document["amendments"], change]
    elif isinstance(event, TenderCancelled):
        document.update(status="cancelled", cancellation={"date": when, "reason": event.reason})
    elif isinstance(event, TenderClosed):
        document.update(status="closed", closed_at=when)
    elif isinstance(event, TenderUnsuccessful):
        document.update(status="unsuccessful", outcome={"date": when, "reason": event.reason})
    return document


def _requirements(requirements: Requirements) -> Document:
    estimated = requirements.estimated_value.model_dump(mode="json")
    return requirements.model_dump(mode="json") | {"estimated_value": estimated}


def _amendment(item: Envelope, reason: str) -> Document:
    return {"date": item.occurred_at.isoformat(), "type": item.type, "reason": reason}


async def _first_time(
    connection: Any, projection: str, envelopes: Sequence[Envelope]
) -> list[Envelope]:
    """Mark the events applied; return those that had not been, in their order."""
    fresh = await connection.fetch(
        "INSERT INTO applied_events (projection, event_id) SELECT $1, unnest($2::uuid[])"
        " ON CONFLICT DO NOTHING RETURNING event_id",
        projection,
        [item.event_id for item in envelopes],
    )
    new_ids = {row["event_id"] for row in fresh}
    first_times = []
    for item in envelopes:  # a redelivered event can appear twice in one batch
        if item.event_id in new_ids:
            new_ids.discard(item.event_id)
            first_times.append(item)
    return first_times


_UPSERT_TENDER = """
INSERT INTO tenders (ocid, buyer_id, status, cpv, submission_deadline, published_at, version, document)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (ocid) DO UPDATE SET status = $3, cpv = $4, submission_deadline = $5,
                                 version = $7, document = $8
"""


async def _apply_tender_events(connection: Any, envelopes: Sequence[Envelope]) -> None:
    by_tender: dict[str, list[Envelope]] = {}
    for item in envelopes:
        by_tender.setdefault(item.aggregate_id, []).append(item)
    rows = await connection.fetch(
        "SELECT ocid, version, document FROM tenders WHERE ocid = ANY($1) ORDER BY ocid FOR UPDATE",
        sorted(by_tender),
    )
    current = {row["ocid"]: (row["version"], row["document"]) for row in rows}
    upserts = []
    for ocid, events in by_tender.items():
        version, document = current.get(ocid, (0, None))
        pending = sorted((e for e in events if e.sequence > version), key=lambda e: e.sequence)
        if not pending:
            continue
        if pending[0].sequence > version + 1:  # earlier events have not reached us: use the store
            history = await eventstore.load(connection, ocid, after=version)
            pending = [e for e in history if e.sequence <= pending[-1].sequence]
            if not pending:  # the store has never heard of them: they are not ours to apply
                log.error(
                    "skipping events of %s after %d: they are not in the event store", ocid, version
                )
                continue
            await _first_time(connection, TENDERS.name, pending)
        for item in pending:
            document = tender_document(document, item)
        assert document is not None
        upserts.append(
            (
                ocid,
                document["buyer_id"],
                document["status"],
                [document["cpv"], *document["additional_cpv"]],
                datetime.fromisoformat(document["submission_deadline"]),
                datetime.fromisoformat(document["published_at"]),
                pending[-1].sequence,
                document,
            )
        )
    await connection.executemany(_UPSERT_TENDER, upserts)


async def _apply_party_events(connection: Any, envelopes: Sequence[Envelope]) -> None:
    agencies = [
        (item.event.agency_id, item.event.name, item.event.identifier, item.occurred_at)
        for item in envelopes
        if isinstance(item.event, AgencyRegistered)
    ]
    await connection.executemany(
        "INSERT INTO agencies (agency_id, name, identifier, registered_at)"
        " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        agencies,
    )


async def _apply_bid_events(connection: Any, envelopes: Sequence[Envelope]) -> None:
    """The public face of each bid log: how many entries and bidders, the sealed root, and
    the outcome of the opening. Never a bid's contents."""
    entries: dict[str, int] = {}
    bidders: dict[tuple[str, str], bool] = {}
    for item in sorted(envelopes, key=lambda e: (e.aggregate_id, e.sequence)):
        event = item.event
        if isinstance(event, BidSubmitted | BidWithdrawn):
            ocid = event.receipt.ocid
            entries[ocid] = entries.get(ocid, 0) + 1
            bidders[ocid, event.receipt.bidder_id] = isinstance(event, BidSubmitted)
    if entries:
        await connection.executemany(
            "INSERT INTO public_bid_logs (ocid, entries) VALUES ($1, $2)"
            " ON CONFLICT (ocid) DO UPDATE SET entries = public_bid_logs.entries + $2",
            list(entries.items()),
        )
        await connection.executemany(
            "INSERT INTO public_bidders (ocid, bidder_id, has_bid) VALUES ($1, $2, $3)"
            " ON CONFLICT (ocid, bidder_id) DO UPDATE SET has_bid = $3",
            [(ocid, bidder, has_bid) for (ocid, bidder), has_bid in bidders.items()],
        )
    for item in envelopes:
        ocid = item.aggregate_id.removesuffix(":bids")
        if isinstance(item.event, BidLogSealed):
            await connection.execute(
                "INSERT INTO public_bid_logs (ocid, tree_size, root, sealed_at)"
                " VALUES ($1, $2, $3, $4) ON CONFLICT (ocid)"
                " DO UPDATE SET tree_size = $2, root = $3, sealed_at = $4",
                ocid,
                item.event.tree_size,
                item.event.root,
                item.occurred_at,
            )
        elif isinstance(item.event, BidsOpened):
            await connection.execute(
                "UPDATE public_bid_logs SET opened_at = $2, participants = $3, opened = $4,"
                " rejected = $5 WHERE ocid = $1",
                ocid,
                item.occurred_at,
                item.event.participants,
                item.event.opened,
                item.event.rejected,
            )


async def _apply_evaluation_events(connection: Any, envelopes: Sequence[Envelope]) -> None:
    """Awards per lot, what complaints and cancellations do to them, and the savings."""
    for item in sorted(envelopes, key=lambda e: (e.aggregate_id, e.sequence)):
        ocid, event = item.aggregate_id.removesuffix(":evaluation"), item.event
        if isinstance(event, AwardDecided):
            await connection.execute(
                "INSERT INTO awards (ocid, lot_id, bid_id, bidder_id, amount, currency,"
                " decided_at, standstill_ends, status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8,"
                " 'awarded') ON CONFLICT (ocid, lot_id) DO UPDATE SET bid_id = $3,"
                " bidder_id = $4, amount = $5, currency = $6, decided_at = $7,"
                " standstill_ends = $8, status = 'awarded'",
                ocid,
                event.lot_id,
                event.bid_id,
                event.bidder_id,
                event.value.amount,
                event.value.currency,
                event.decided_at,
                event.standstill_ends,
            )
        elif isinstance(event, ComplaintUpheld) and event.remedy is Remedy.ANNUL_CANCELLATION:
            await connection.execute(  # the lot resumes: an award it had stands again
                "UPDATE awards SET status = 'awarded' WHERE ocid = $1 AND lot_id = $2",
                ocid,
                event.lot_id,
            )
        elif isinstance(event, ComplaintFiled | ComplaintDismissed) and (
            event.subject is ComplaintSubject.AWARD
        ):
            status = "suspended" if isinstance(event, ComplaintFiled) else "awarded"
            await connection.execute(
                "UPDATE awards SET status = $3 WHERE ocid = $1 AND lot_id = $2",
                ocid,
                event.lot_id,
                status,
            )
        elif isinstance(event, ComplaintUpheld) and event.remedy is Remedy.RE_EVALUATE:
            await connection.execute(
                "DELETE FROM awards WHERE ocid = $1 AND lot_id = $2", ocid, event.lot_id
            )
        elif isinstance(event, ComplaintUpheld | LotCancelled):
            await connection.execute(
                "UPDATE awards SET status = 'cancelled' WHERE ocid = $1 AND lot_id = $2",
                ocid,
                event.lot_id,
            )
        elif isinstance(event, ProcedureCancelled):
            await connection.execute("UPDATE awards SET status = 'cancelled' WHERE ocid = $1", ocid)
        elif isinstance(event, AwardAnnulled):
            await connection.execute(
                "UPDATE awards SET status = 'annulled' WHERE ocid = $1 AND lot_id = $2 AND bid_id = $3",
                ocid,
                event.lot_id,
                event.bid_id,
            )
    await savings_view.apply(connection, envelopes)


async def _apply_contract_events(connection: Any, envelopes: Sequence[Envelope]) -> None:
    """Each contract's supplier, current value, status and what was paid."""
    for item in sorted(envelopes, key=lambda e: (e.aggregate_id, e.sequence)):
        event, contract_id = item.event, item.aggregate_id
        if isinstance(event, ContractDrawn):
            await connection.execute(
                "INSERT INTO contracts (contract_id, ocid, lot_id, buyer_id, supplier_id, amount,"
                " currency, status, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8)"
                " ON CONFLICT (contract_id) DO NOTHING",
                contract_id,
                event.ocid,
                event.lot_id,
                event.buyer_id,
                event.supplier_id,
                event.value.amount,
                event.value.currency,
                item.occurred_at,
            )
            continue
        change: tuple[str, Any] | None = None
        if isinstance(event, ContractActivated):
            change = ("status = 'active'", None)
        elif isinstance(event, ContractAmended):
            change = ("amount = $3", event.value.amount)
        elif isinstance(event, PaymentRecorded):
            change = ("paid = paid + $3", event.value.amount)
        elif isinstance(event, ContractCompleted):
            change = ("status = 'terminated'", None)  # OCDS: a completed contract is terminated
        elif isinstance(event, ContractTerminated):
            change = (
                "status = CASE status WHEN 'pending' THEN 'cancelled' ELSE 'terminated' END",
                None,
            )
        if change is not None:
            setting, value = change
            arguments = [contract_id, item.occurred_at] + ([value] if value is not None else [])
            await connection.execute(
                f"UPDATE contracts SET {setting}, updated_at = $2 WHERE contract_id = $1",
                *arguments,
            )


# The topics whose events change what is public also record the OCDS releases they make;
# those whose events tell parties something (and the parties' addresses) write the notices.
PROJECTORS = {
    TENDERS.name: notices.after(releases.after(_apply_tender_events)),
    PARTIES.name: notices.after(_apply_party_events),
    BIDS.name: notices.after(releases.after(_apply_bid_events)),
    EVALUATIONS.name: notices.after(releases.after(_apply_evaluation_events)),
    AUCTIONS.name: auction_views.apply,
    CONTRACTS.name: releases.after(_apply_contract_events),
    CATALOGUE.name: catalogue.apply,  # writes its own releases
}


async def apply(pool: Any, topic: Topic, envelopes: Sequence[Envelope]) -> int:
    """Apply a batch in one transaction; returns how many events were new.

    If the batch fails for something other than the database being away, the events are
    applied one by one, and each that still fails is set aside as a dead letter (and
    marked applied), so that one event never stops those behind it.
    """
    try:
        return await _apply_together(pool, topic, envelopes)
    except Exception as error:
        if dead_letters.is_transient(error):
            raise
        log.warning(
            "%d events failed together on %s (%s); applying them one by one",
            len(envelopes),
            topic.name,
            dead_letters.describe(error),
        )
    applied = 0
    for item in envelopes:
        applied += await _apply_alone(pool, topic, item)
    return applied


async def _apply_together(pool: Any, topic: Topic, envelopes: Sequence[Envelope]) -> int:
    projector = PROJECTORS[topic.name]
    attempt = 1
    while True:
        try:
            async with pool.acquire() as connection, connection.transaction():
                fresh = await _first_time(connection, topic.name, envelopes)
                if fresh:
                    await projector(connection, fresh)
                return len(fresh)
        except asyncpg.DeadlockDetectedError:  # two workers during a rebalance
            if attempt == 5:
                raise  # transient: the worker tries the batch again later
            log.warning(
                "deadlock applying %d events to %s; retry %d", len(envelopes), topic.name, attempt
            )
            await asyncio.sleep(0.05 * attempt)
            attempt += 1


async def _apply_alone(pool: Any, topic: Topic, item: Envelope) -> int:
    try:
        return await _apply_together(pool, topic, [item])
    except Exception as error:
        if dead_letters.is_transient(error):
            raise
        await set_aside(pool, topic, [(item.event_id, dead_letters.describe(error))])
        return 0


async def set_aside(pool: Any, topic: Topic, failures: list[tuple[uuid.UUID, str]]) -> None:
    """Record events as dead letters of this projection and mark them applied, in one
    transaction, so that neither the stream nor the repair timer tries them again."""
    for event_id, error in failures:
        log.error("set aside event %s on %s as a dead letter: %s", event_id, topic.name, error)
    async with pool.acquire() as connection, connection.transaction():
        await dead_letters.set_aside(connection, topic.name, failures)
        await connection.execute(
            "INSERT INTO applied_events (projection, event_id) SELECT $1, unnest($2::uuid[])"
            " ON CONFLICT DO NOTHING",
            topic.name,
            [event_id for event_id, _ in failures],
        )


class Repair:
    """Applies events that the stream has not delivered within a few seconds: the safety
    net for a broker that lost records, since the event store is the truth.

    It remembers the position below which every event is known to be applied, so each
    pass reads only what is newer. Positions are allocated before commit, so the mark only
    passes events recorded long enough ago that no transaction can still be committing
    them.
    """

    SETTLE = 2.0  # seconds the stream gets to deliver an event before the store is asked
    # While this worker's stream of the topic delivers, an event it has not reached yet is
    # lag, not loss: applying it here would only do the stream's work twice.
    SETTLE_WHILE_DELIVERING = 30.0
    DELIVERING_WITHIN = 5.0  # seconds since the stream's last batch, one repair tick
    SETTLED_FOR_GOOD = 60.0  # seconds after which no transaction is still committing

    def __init__(self, topic: Topic, clock: Callable[[], float] = time.monotonic) -> None:
        self.topic = topic
        self.verified = 0  # every event at or below this position is applied
        self.clock = clock
        self.delivered_at = -math.inf

    def delivered(self) -> None:
        """The stream has just applied a batch of the topic."""
        self.delivered_at = self.clock()

    @property
    def settle(self) -> float:
        """Seconds an event is left to the stream before the store is asked for it."""
        delivering = self.clock() - self.delivered_at < self.DELIVERING_WITHIN
        return self.SETTLE_WHILE_DELIVERING if delivering else self.SETTLE

    async def run(self, pool: Any) -> int:
        missing = await pool.fetch(
            """
            SELECT e.event_id, e.envelope FROM events e
            WHERE e.position > $4 AND e.type = ANY($1)
              AND e.recorded_at < clock_timestamp() - make_interval(secs => $3)
              AND NOT EXISTS (SELECT 1 FROM applied_events a
                              WHERE a.projection = $2 AND a.event_id = e.event_id)
            ORDER BY e.position
            LIMIT 1000
            """,
            sorted(self.topic.event_types),
            self.topic.name,
            self.settle,
            self.verified,
        )
        applied = 0
        readable = await self._readable(pool, missing)
        if readable:
            applied = await apply(pool, self.topic, readable)
            log.warning(
                "repaired %s: applied %d events that the stream had not delivered",
                self.topic.name,
                applied,
            )
        if len(missing) < 1000:  # all caught up: move the mark past what has long settled
            self.verified = await pool.fetchval(
                "SELECT coalesce(max(position), $1) FROM events"
                " WHERE position > $1 AND recorded_at < clock_timestamp() - make_interval(secs => $2)",
                self.verified,
                self.SETTLED_FOR_GOOD,
            )
        return applied

    async def _readable(self, pool: Any, rows: Sequence[Any]) -> list[Envelope]:
        """The events these rows hold; those that no longer read (a bad upcast, say) are set
        aside, or they would stop every pass at the same place."""
        readable, unreadable = [], []
        for row in rows:
            try:
                readable.append(read_envelope(row["envelope"]))
            except (ValidationError, ValueError) as error:
                unreadable.append((row["event_id"], dead_letters.describe(error)))
        if unreadable:
            await set_aside(pool, self.topic, unreadable)
        return readable
