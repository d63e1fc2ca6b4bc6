"""The opening ceremony: committee members hand in their shares after the deadline; with
enough of them, the opening key is rebuilt in memory, every current bid is opened or
rejected, and the key is dropped.

Shares are held in this process's memory only, never written anywhere: if the process
stops before the opening, the members hand them in again. Run the ceremony's requests on
one API process (see docs/sealed-bids.md).
"""

import asyncio
import hashlib
import multiprocessing
import os
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from adapters.postgres.eventstore import PostgresEventStore
from app.policies import Changes
from app.store import EventStore, StoreTransaction
from app.unit_of_work import Clock, Context, Decision, UnitOfWork, Writes, envelopes, utc_now
from bidding import committee, keys, ledger, opening, shamir
from bidding import log as bid_log
from bidding.log import LogStatus
from procurement.errors import WrongState
from schemas.bids import OpeningShare
from schemas.commands import Actor
from schemas.events import (
    BidSubmitted,
    BidWithdrawn,
)

SigningKeys = Callable[[Sequence[str]], Awaitable[dict[str, bytes]]]


class OpeningCeremony:
    def __init__(
        self,
        pool: Any,
        store: EventStore | None = None,
        clock: Clock = utc_now,
        signing_keys: SigningKeys | None = None,
    ) -> None:
        self.pool = pool
        self._uow = UnitOfWork(store or PostgresEventStore(pool), clock)
        self._signing_keys = signing_keys or self._registered_keys
        self._held: dict[str, dict[str, shamir.Share]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def hand_in(self, ocid: str, handed: OpeningShare, actor: Actor) -> dict[str, Any]:
        async with self._locks.setdefault(ocid, asyncio.Lock()):
            held = self._held.setdefault(ocid, {})
            signing_key = (await self._signing_keys([actor.id])).get(actor.id)
            fields = committee.share_fields(ocid, actor.id, handed.x, _sha256_hex(handed.share))
            signature_valid = signing_key is not None and keys.verify(
                signing_key, handed.signature, keys.OPENING_SHARE, fields
            )
            accepted: list[tuple[shamir.Share, int]] = []

            async def accept(tx: StoreTransaction, _: Context) -> Decision:
                log = await tx.bid_ledger(ocid, lock=True)
                share = bid_log.check_share(
                    log.log if log else None, ocid, actor, handed, signature_valid, actor.id in held
                )
                assert log is not None
                accepted.append((share, log.threshold))
                events = ledger.accept_share(log, actor.id, share.x)
                return Decision(Changes(bid_log.bid_log_id(ocid), log.version, events))

            await self._uow.handle(accept, actor, what="the share")
            share, threshold = accepted[-1]
            held[actor.id] = share
            if len(held) < threshold:
                return {"threshold": threshold, "handed_in": len(held), "opened": False}
            try:
                summary = await self._open(ocid, actor, list(held.values()), sorted(held))
            finally:
                self._held.pop(ocid, None)  # the shares and the key go, whatever happened
            return {"threshold": threshold, "handed_in": len(held), "opened": True} | summary

    async def _open(
        self, ocid: str, actor: Actor, shares: list[shamir.Share], participants: list[str]
    ) -> dict[str, Any]:
        """Rebuild the key, open every current bid and record the outcome; the evaluation
        starts in the same transaction (``app.policies``)."""

        async def work(tx: StoreTransaction, writes: Writes) -> dict[str, Any]:
            log = await tx.bid_ledger(ocid, lock=True, leaves=True)
            assert log is not None
            if log.status is not LogStatus.SEALED or log.root is None:
                raise WrongState(f"the bids of {ocid} are {log.status}", code=str(log.status))
            try:
                key = committee.rebuild_opening_key(shares, log.public_key)
            except committee.KeyMismatch as error:
                raise WrongState(str(error), code="key_mismatch") from error
            entries = [
                item.event
                for item in await tx.load(bid_log.bid_log_id(ocid))
                if isinstance(item.event, BidSubmitted | BidWithdrawn)
            ]
            recorded = dict(enumerate(log.leaves))
            bidder_keys = await self._signing_keys(sorted({e.receipt.bidder_id for e in entries}))
            results = await open_in_parallel(
                opening.current_bids(entries), key, recorded, bidder_keys
            )
            matches = opening.log_matches_root(entries, log.root)
            events = ledger.record_opening(log, results, participants, matches)
            now = self._uow.clock()
            changes = Changes(bid_log.bid_log_id(ocid), log.version, events, actor.id, now)
            await self._uow.append(tx, writes, envelopes(changes, actor=actor.id, at=now))
            opened = sum(1 for r in results if r.content is not None)
            return {
                "bids_opened": opened,
                "bids_rejected": len(results) - opened,
                "log_matches_root": matches,
            }

        return await self._uow.write(work, what="the opening")

    async def _registered_keys(self, party_ids: Sequence[str]) -> dict[str, bytes]:
        rows = await self.pool.fetch(
            "SELECT party_id, signing_key FROM party_keys WHERE party_id = ANY($1)",
            list(party_ids),
        )
        return {row["party_id"]: bytes(row["signing_key"]) for row in rows}


PARALLEL_FROM = 2000  # bids; below this, starting worker processes costs more than it saves


async def open_in_parallel(
    current: list[BidSubmitted],
    key: X25519PrivateKey,
    recorded: dict[int, bytes],
    bidder_keys: dict[str, bytes],
    processes: int | None = None,
    parallel_from: int = PARALLEL_FROM,
) -> list[opening.Opened]:
    """Verify and decrypt every bid. It is CPU work that holds the GIL, so many bids are
    shared among worker processes, one per core (the key reaches them through a pipe,
    never a file); a few are opened in a thread, which keeps the API answering meanwhile."""
    processes = processes or os.cpu_count() or 1
    if len(current) < parallel_from or processes < 2:
        return await asyncio.to_thread(opening.open_bids, current, key, recorded, bidder_keys)
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    size = -(-len(current) // processes)
    chunks = [current[n : n + size] for n in range(0, len(current), size)]
    raw = key.private_bytes_raw()
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(max_workers=len(chunks), mp_context=context) as pool:
        parts = await asyncio.gather(
            *(
                loop.run_in_executor(
                    pool,
                    opening.open_bids_with_raw_key,
                    chunk,
                    raw,
                    {e.receipt.log_index: recorded[e.receipt.log_index] for e in chunk},
                    {e.receipt.bidder_id: bidder_keys.get(e.receipt.bidder_id, b"") for e in chunk},
                )
                for chunk in chunks
            )
        )
    return [opened for part in parts for opened in part]


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
