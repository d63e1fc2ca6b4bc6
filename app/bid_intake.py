"""Taking sealed bids in: check, record, and answer with a signed receipt.

Bids arriving together are written together (group commit): one transaction per batch
locks the bid logs concerned, numbers the entries, records their events and outbox rows,
and commits once. A receipt is sent only after that commit. Ed25519 signatures are
deterministic, so a repeated submission gets the very same receipt again. Each bidder's
versions follow one another, within what one bidder may store (``bidding.entries``).
"""

import asyncio
import hashlib
import json
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import asyncpg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters.postgres import bid_logs, eventstore
from bidding import entries, receipts, sealing
from bidding import log as bid_log
from bidding.entries import BidLimits
from procurement.errors import NotFound, Rejected, WrongState
from schemas.bids import BidWithdrawal, Receipt, SealedBid, SignedReceipt
from schemas.commands import Actor
from schemas.events import BidSubmitted, BidWithdrawn, Envelope, envelope

log = logging.getLogger(__name__)

MAX_BATCH = 500
ATTEMPTS = 5


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Answer:
    receipt: SignedReceipt
    replayed: bool  # True when this exact submission was already in the log


@dataclass
class _Pending:
    item: SealedBid | BidWithdrawal
    actor: Actor
    received_at: datetime
    future: "asyncio.Future[Answer]"
    receipt: Receipt | None = None
    replayed: bool = False
    error: Rejected | None = None


@dataclass
class _Batch:
    logs: dict[str, tuple[bid_log.BidLog, Any]]
    history: dict[tuple[str, str], list[entries.Entry]]  # per tender and bidder
    receipts: dict[tuple[str, str, int], dict[str, Any]]  # per tender, bidder and version
    taken: set[tuple[str, bytes]]
    sizes: dict[str, int] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)
    events: list[Envelope] = field(default_factory=list)
    written: list[str] = field(default_factory=list)  # the events as JSON


def limits_from_env(env: Mapping[str, str] = os.environ) -> BidLimits:
    """What one bidder may send to one tender: PROCUREMENT_MAX_BID_VERSIONS versions, taking
    at most PROCUREMENT_MAX_BID_BYTES in the store."""
    defaults = BidLimits()
    limits = BidLimits(
        versions=_positive(env, "PROCUREMENT_MAX_BID_VERSIONS", defaults.versions),
        stored_bytes=_positive(env, "PROCUREMENT_MAX_BID_BYTES", defaults.stored_bytes),
    )
    if limits.stored_bytes < entries.LARGEST_ENTRY:
        msg = f"PROCUREMENT_MAX_BID_BYTES={limits.stored_bytes} would refuse a bid of the largest size; it must be at least {entries.LARGEST_ENTRY}"
        raise ValueError(msg)
    return limits


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    text = env.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"{name}={text!r} is not a positive whole number")
    return int(text)


class BidIntake:
    def __init__(
        self,
        pool: Any,
        platform_key: Ed25519PrivateKey,
        clock: Callable[[], datetime] = utc_now,
        limits: BidLimits | None = None,
    ) -> None:
        self.pool = pool
        self.platform_key = platform_key
        self.clock = clock
        self.limits = limits or limits_from_env()
        self._queue: list[_Pending] = []
        self._writer: asyncio.Task[None] | None = None
        self._keys: dict[str, bytes] = {}  # suppliers' signing keys never change

    async def submit(self, bid: SealedBid, actor: Actor) -> Answer:
        received_at = self.clock()
        bid_log.bidder_must_act_for_itself(actor, bid.bidder_id)
        if not sealing.bid_signature_valid(bid, await self._signing_key(bid.bidder_id)):
            msg = f"the signature is not {bid.bidder_id}'s over this tender, lots, version and ciphertext"
            raise Rejected(msg, code="invalid_signature")
        return await self._enqueue(bid, actor, received_at)

    async def withdraw(self, withdrawal: BidWithdrawal, actor: Actor) -> Answer:
        received_at = self.clock()
        bid_log.bidder_must_act_for_itself(actor, withdrawal.bidder_id)
        key = await self._signing_key(withdrawal.bidder_id)
        if not sealing.withdrawal_signature_valid(withdrawal, key):
            msg = f"the signature is not {withdrawal.bidder_id}'s over this withdrawal"
            raise Rejected(msg, code="invalid_signature")
        return await self._enqueue(withdrawal, actor, received_at)

    async def _signing_key(self, bidder_id: str) -> bytes:
        if (known := self._keys.get(bidder_id)) is not None:
            return known
        key = await self.pool.fetchval(
            "SELECT signing_key FROM party_keys WHERE party_id = $1 AND role = 'supplier'",
            bidder_id,
        )
        if key is None:
            raise NotFound(f"there is no registered supplier {bidder_id}", code="unknown_bidder")
        self._keys[bidder_id] = key
        return bytes(key)

    async def _enqueue(
        self, item: SealedBid | BidWithdrawal, actor: Actor, received_at: datetime
    ) -> Answer:
        pending = _Pending(item, actor, received_at, asyncio.get_running_loop().create_future())
        self._queue.append(pending)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain())
        return await pending.future

    async def _drain(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            failure: Exception | None = None
            try:
                await self._write(batch)
            except Exception as error:
                log.exception("could not record %d bids", len(batch))
                failure = error
            for pending in batch:
                if pending.future.done():
                    continue
                if failure is not None:
                    pending.future.set_exception(failure)
                elif pending.error is not None:
                    pending.future.set_exception(pending.error)
                else:
                    assert pending.receipt is not None
                    signed = receipts.sign_receipt(pending.receipt, self.platform_key)
                    pending.future.set_result(Answer(signed, pending.replayed))

    async def _write(self, batch: list[_Pending]) -> None:
        for _ in range(ATTEMPTS):
            try:
                async with self.pool.acquire() as connection, connection.transaction():
                    await self._record(connection, batch)
                return
            except asyncpg.UniqueViolationError:  # another API process won a race: decide again
                for pending in batch:
                    pending.receipt, pending.replayed, pending.error = None, False, None
        raise WrongState("too many concurrent submissions; try again", code="busy")

    async def _record(self, connection: Any, batch: list[_Pending]) -> None:
        ocids = sorted({p.item.ocid for p in batch})
        bidders = sorted({(p.item.ocid, p.item.bidder_id) for p in batch})
        digests = [
            (p.item.ocid, hashlib.sha256(p.item.ciphertext).digest())
            for p in batch
            if isinstance(p.item, SealedBid)
        ]
        logs = await bid_logs.lock(connection, ocids)
        state = _Batch(logs=logs, history={}, receipts={}, taken=set())
        # What an event takes in the store is read from its row, not from its contents.
        for row in await connection.fetch(
            "SELECT e.ocid, e.bidder_id, e.version, e.kind, e.ciphertext_sha256, e.receipt,"
            " pg_column_size(v.envelope) AS stored_bytes"
            " FROM bid_entries e JOIN unnest($1::text[], $2::text[]) AS p (ocid, bidder_id)"
            " USING (ocid, bidder_id) JOIN events v ON v.event_id = e.event_id",
            [o for o, _ in bidders],
            [b for _, b in bidders],
        ):
            digest = row["ciphertext_sha256"]
            state.history.setdefault((row["ocid"], row["bidder_id"]), []).append(
                entries.Entry(
                    row["version"],
                    row["kind"],
                    bytes(digest) if digest is not None else None,
                    row["stored_bytes"],
                )
            )
            state.receipts[(row["ocid"], row["bidder_id"], row["version"])] = row["receipt"]
        for row in await connection.fetch(
            "SELECT e.ocid, e.ciphertext_sha256 FROM bid_entries e"
            " JOIN unnest($1::text[], $2::bytea[]) AS d (ocid, digest)"
            " ON e.ocid = d.ocid AND e.ciphertext_sha256 = d.digest",
            [o for o, _ in digests],
            [d for _, d in digests],
        ):
            state.taken.add((row["ocid"], bytes(row["ciphertext_sha256"])))
        for ocid, (_, row) in state.logs.items():
            state.sizes[ocid], state.versions[ocid] = row["size"], row["version"]

        for pending in batch:
            try:
                self._decide(state, pending)
            except Rejected as error:
                pending.error = error
        if not state.events:
            return
        await eventstore.append(connection, state.events, state.written)
        fresh = [p for p in batch if p.receipt is not None and not p.replayed]
        await connection.execute(
            "INSERT INTO bid_entries (ocid, log_index, bidder_id, version, kind, bid_id, event_id,"
            " ciphertext_sha256, leaf_hash, receipt)"
            " SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::int[], $5::text[],"
            " $6::text[], $7::uuid[], $8::bytea[], $9::bytea[], $10::text[]::jsonb[])",
            *_columns(fresh, state.events),
        )
        await connection.execute(
            "UPDATE bid_logs b SET size = u.size, version = u.version"
            " FROM unnest($1::text[], $2::int[], $3::int[]) AS u (ocid, size, version)"
            " WHERE b.ocid = u.ocid",
            list(state.sizes),
            list(state.sizes.values()),
            [state.versions[ocid] for ocid in state.sizes],
        )

    def _decide(self, state: _Batch, pending: _Pending) -> None:
        item, at = pending.item, pending.received_at
        locked = state.logs.get(item.ocid)
        current = locked[0] if locked else None
        if isinstance(item, SealedBid):
            bid_log.check_bid(current, item, pending.actor, at)
            digest: bytes | None = hashlib.sha256(item.ciphertext).digest()
        else:
            bid_log.check_withdrawal(current, item, pending.actor, at)
            digest = None
        sent = entries.Sent(item.ocid, item.bidder_id, item.version, digest)
        mine = state.history.setdefault((item.ocid, item.bidder_id), [])
        if entries.check_order(mine, sent) is not None:
            first = state.receipts[(item.ocid, item.bidder_id, item.version)]
            pending.receipt, pending.replayed = Receipt.model_validate(first), True
            return
        if digest is not None and (item.ocid, digest) in state.taken:
            msg = "this ciphertext was already submitted to this tender: each bid is sealed afresh"
            raise WrongState(msg, code="duplicate_ciphertext")

        index, sequence = state.sizes[item.ocid], state.versions[item.ocid] + 1
        receipt = Receipt(
            kind="bid" if digest is not None else "withdrawal",
            bid_id=f"bid-{uuid4().hex}",
            ocid=item.ocid,
            bidder_id=item.bidder_id,
            lots=item.lots if isinstance(item, SealedBid) else (),
            version=item.version,
            ciphertext_sha256=digest.hex() if digest is not None else None,
            received_at=at,
            log_index=index,
        )
        event = (
            BidSubmitted(receipt=receipt, ciphertext=item.ciphertext, signature=item.signature)
            if isinstance(item, SealedBid)
            else BidWithdrawn(receipt=receipt, signature=item.signature)
        )
        recorded = envelope(
            event,
            event_id=uuid4(),
            aggregate_id=bid_log.bid_log_id(item.ocid),
            sequence=sequence,
            actor=pending.actor.id,
            occurred_at=at,
        )
        written = recorded.model_dump_json()  # serialized once: measured here, stored as is
        stored_bytes = len(written.encode())
        entries.bid_must_stay_within_the_limits(mine, sent, stored_bytes, self.limits)

        state.sizes[item.ocid], state.versions[item.ocid] = index + 1, sequence
        state.events.append(recorded)
        state.written.append(written)
        pending.receipt = receipt
        mine.append(entries.Entry(item.version, receipt.kind, digest, stored_bytes))
        state.receipts[(item.ocid, item.bidder_id, item.version)] = receipt.model_dump(mode="json")
        if digest is not None:
            state.taken.add((item.ocid, digest))


def _columns(fresh: list[_Pending], events: list[Envelope]) -> list[list[Any]]:
    rows = []
    for pending, item in zip(fresh, events, strict=True):
        receipt = pending.receipt
        assert receipt is not None
        digest = bytes.fromhex(receipt.ciphertext_sha256) if receipt.ciphertext_sha256 else None
        rows.append(
            (
                receipt.ocid,
                receipt.log_index,
                receipt.bidder_id,
                receipt.version,
                receipt.kind,
                receipt.bid_id,
                item.event_id,
                digest,
                receipts.leaf_hash(receipt),
                json.dumps(receipt.model_dump(mode="json")),
            )
        )
    return [list(column) for column in zip(*rows, strict=True)]
