"""Taking sealed bids in: check, record, and answer with a signed receipt.

Bids arriving together are written together (the unit of work's group commit): one
transaction per group locks the bid logs concerned, lets ``bidding.ledger`` decide each bid
in order on what the previous ones left, records the events and commits once. A receipt is
sent only after that commit. Ed25519 signatures are deterministic, so a repeated
submission gets the very same receipt again. The receipt binds the platform to the entry's
leaf and its time of receipt, but tells nothing of the others: no position and no tree
size, so that no bidder learns how many bids came before its own (Directive 2014/24/EU
Art. 22(3)); the sealed head, published at the deadline, places every receipt. Each
bidder's versions follow one another, within what one bidder may store
(``bidding.entries``).
"""

import hashlib
import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from uuid import uuid4

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters.postgres.eventstore import PostgresEventStore
from app.policies import Changes
from app.store import EventStore, StoreTransaction
from app.unit_of_work import Clock, GroupCommit, UnitOfWork, Writes, envelopes, utc_now
from bidding import committee_sealing, entries, ledger, receipts, sealing
from bidding import log as bid_log
from bidding.entries import BidLimits, Entry
from bidding.ledger import Ledger
from procurement.errors import NotFound, Rejected
from schemas.bids import BidWithdrawal, Receipt, SealedBid, SignedReceipt
from schemas.commands import Actor
from schemas.events import Envelope

MAX_BATCH = 500


@dataclass(frozen=True)
class Answer:
    receipt: SignedReceipt
    replayed: bool  # True when this exact submission was already in the log


@dataclass(frozen=True)
class _Sent:
    item: SealedBid | BidWithdrawal
    actor: Actor
    received_at: datetime

    @property
    def digest(self) -> bytes | None:
        if isinstance(self.item, SealedBid):
            return hashlib.sha256(self.item.ciphertext).digest()
        return None


@dataclass(frozen=True)
class _Taken:
    receipt: Receipt
    replayed: bool


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


SigningKeys = Callable[[str], Awaitable[bytes | None]]


class BidIntake:
    def __init__(
        self,
        pool: Any,
        platform_key: Ed25519PrivateKey,
        clock: Clock = utc_now,
        limits: BidLimits | None = None,
        store: EventStore | None = None,
        signing_keys: SigningKeys | None = None,
    ) -> None:
        self.pool = pool
        self.platform_key = platform_key
        self.clock = clock
        self.limits = limits or limits_from_env()
        self._find_key = signing_keys or self._registered_key
        self._keys: dict[str, bytes] = {}  # suppliers' signing keys never change
        self._uow = UnitOfWork(store or PostgresEventStore(pool), clock)
        self._group: GroupCommit[_Sent, _Taken] = GroupCommit(
            self._uow, self._record, max_group=MAX_BATCH, what="the bids"
        )

    async def submit(self, bid: SealedBid, actor: Actor) -> Answer:
        received_at = self.clock()
        bid_log.bidder_must_act_for_itself(actor, bid.bidder_id)
        if not committee_sealing.bid_signature_valid(bid, await self._signing_key(bid.bidder_id)):
            msg = f"the signature is not {bid.bidder_id}'s over this tender, lots, version, ciphertext, key commitment, committee and shares"
            raise Rejected(msg, code="invalid_signature")
        return await self._answer(_Sent(bid, actor, received_at))

    async def withdraw(self, withdrawal: BidWithdrawal, actor: Actor) -> Answer:
        received_at = self.clock()
        bid_log.bidder_must_act_for_itself(actor, withdrawal.bidder_id)
        key = await self._signing_key(withdrawal.bidder_id)
        if not sealing.withdrawal_signature_valid(withdrawal, key):
            msg = f"the signature is not {withdrawal.bidder_id}'s over this withdrawal"
            raise Rejected(msg, code="invalid_signature")
        return await self._answer(_Sent(withdrawal, actor, received_at))

    async def _answer(self, sent: _Sent) -> Answer:
        taken = await self._group.submit(sent)
        # Signed once committed, outside the transaction: the signature is deterministic, so
        # a repeated submission gets the same receipt again.
        return Answer(receipts.sign_receipt(taken.receipt, self.platform_key), taken.replayed)

    async def _signing_key(self, bidder_id: str) -> bytes:
        if (known := self._keys.get(bidder_id)) is not None:
            return known
        key = await self._find_key(bidder_id)
        if key is None:
            raise NotFound(f"there is no registered supplier {bidder_id}", code="unknown_bidder")
        self._keys[bidder_id] = bytes(key)
        return bytes(key)

    async def _registered_key(self, bidder_id: str) -> bytes | None:
        key = await self.pool.fetchval(
            "SELECT signing_key FROM party_keys WHERE party_id = $1 AND role = 'supplier'",
            bidder_id,
        )
        return None if key is None else bytes(key)

    async def _record(
        self, tx: StoreTransaction, writes: Writes, group: list[_Sent]
    ) -> list[_Taken | Exception]:
        """Decide each bid of the group in order, on the logs as the earlier ones left them,
        and record the accepted ones together."""
        logs = _GroupLogs()
        for ocid in sorted({sent.item.ocid for sent in group}):  # locked in a fixed order
            of_log = [sent for sent in group if sent.item.ocid == ocid]
            log = await tx.bid_ledger(
                ocid,
                sorted({sent.item.bidder_id for sent in of_log}),
                [digest for sent in of_log if (digest := sent.digest) is not None],
                lock=True,
            )
            logs.add(log, ocid)
        answers: list[_Taken | Exception] = []
        recorded = []
        for sent in group:
            try:
                taken, more = self._decide(logs, sent)
            except Rejected as refusal:
                answers.append(refusal)
                continue
            answers.append(taken)
            recorded.extend(more)
        if recorded:
            await self._uow.append(tx, writes, recorded)
        return answers

    def _decide(self, logs: "_GroupLogs", sent: _Sent) -> tuple["_Taken", list[Envelope]]:
        item = sent.item
        mine = logs.part(item.ocid, item.bidder_id, sent.digest)
        decided = ledger.take(
            mine,
            item,
            sent.actor,
            sent.received_at,
            bid_id=f"bid-{uuid4().hex}",
            limits=self.limits,
        )
        if decided.event is None:
            return _Taken(decided.receipt, replayed=True), []
        assert mine is not None
        after = ledger.evolve(mine, decided.event)
        logs.took(after, item.bidder_id)
        changes = Changes(bid_log.bid_log_id(item.ocid), mine.version, [decided.event])
        taken = _Taken(decided.receipt, replayed=False)
        return taken, envelopes(changes, actor=sent.actor.id, at=sent.received_at)


class _GroupLogs:
    """The logs of one group as it is decided: each bid sees a small part of its log (the
    header and its bidder's entries), so that deciding a group stays linear in its size."""

    def __init__(self) -> None:
        self._headers: dict[str, Ledger | None] = {}
        self._entries: dict[tuple[str, str], tuple[Entry, ...]] = {}
        self._receipts: dict[tuple[str, str], dict[tuple[str, int], Receipt]] = {}
        self._taken: dict[str, set[bytes]] = {}

    def add(self, log: Ledger | None, ocid: str) -> None:
        self._headers[ocid] = (
            None if log is None else replace(log, entries={}, receipts={}, digests=frozenset())
        )
        if log is None:
            return
        for bidder_id, mine in log.entries.items():
            self._entries[(ocid, bidder_id)] = mine
        for key, receipt in log.receipts.items():
            self._receipts.setdefault((ocid, key[0]), {})[key] = receipt
        self._taken[ocid] = set(log.digests)

    def part(self, ocid: str, bidder_id: str, digest: bytes | None) -> Ledger | None:
        header = self._headers[ocid]
        if header is None:
            return None
        taken = digest is not None and digest in self._taken[ocid]
        return replace(
            header,
            entries={bidder_id: self._entries.get((ocid, bidder_id), ())},
            receipts=self._receipts.get((ocid, bidder_id), {}),
            digests=frozenset({digest}) if taken and digest is not None else frozenset(),
        )

    def took(self, after: Ledger, bidder_id: str) -> None:
        """Keep what one bidder's new entry changed."""
        ocid = after.ocid
        header = self._headers[ocid]
        assert header is not None
        self._headers[ocid] = replace(header, version=after.version, size=after.size)
        self._entries[(ocid, bidder_id)] = after.entries[bidder_id]
        self._receipts[(ocid, bidder_id)] = dict(after.receipts)
        self._taken[ocid] |= after.digests
