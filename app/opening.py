"""The opening ceremony: after the deadline each committee member hands in its shares of
every current bid's content key, decrypted on its own machine; with k members, each bid's
key is rebuilt in memory, checked against the bidder's commitment, and the bid opened or
rejected on its own; then the shares and keys are dropped.

Any API process may take any member's hand-in: until the opening, each member's checked
shares are held sealed in PostgreSQL (``ShareVault``), written with its hand-in. The
hand-in that reaches the threshold opens the bids in its own transaction, from the held
shares and its own, which are never written, and deletes the held ones with the opening's
events: an API process that dies takes nothing with it, and no process opens twice, for
each hand-in holds the bid log's lock.
"""

import asyncio
import multiprocessing
import os
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Protocol

from adapters.postgres.eventstore import PostgresEventStore
from app.policies import Changes
from app.store import EventStore, StoreTransaction
from app.unit_of_work import Clock, UnitOfWork, Writes, envelopes, utc_now
from bidding import committee_material, committee_opening, ledger, opening, shamir
from bidding import log as bid_log
from bidding.committee_opening import CurrentBid, WrongShare
from bidding.log import LogStatus
from bidding.reconfirmation import Awaited
from procurement import conditions_complaints, tender
from procurement.errors import Rejected, WrongState
from schemas.bids import SealedBid
from schemas.commands import Actor
from schemas.committee import CommitteeMaterial, OpeningShares
from schemas.events import BidSubmitted, BidWithdrawn

# Parties' signing keys, read on the given connection or pool.
SigningKeys = Callable[[Any, Sequence[str]], Awaitable[dict[str, bytes]]]
Held = dict[str, dict[str, shamir.Share]]  # officer, bid


class ShareVault(Protocol):
    """Where handed-in shares wait for the opening, sealed; each call runs in the caller's
    transaction (``connection``). PostgreSQL: ``adapters.postgres.sealed_shares``."""

    async def keep(
        self, connection: Any, ocid: str, officer_id: str, shares: Mapping[str, shamir.Share]
    ) -> None: ...

    async def held(self, connection: Any, ocid: str) -> Held: ...

    async def drop(self, connection: Any, ocid: str) -> None: ...


class OpeningCeremony:
    def __init__(
        self,
        pool: Any,
        vault: ShareVault,
        store: EventStore | None = None,
        clock: Clock = utc_now,
        signing_keys: SigningKeys | None = None,
    ) -> None:
        self.pool = pool
        self.vault = vault
        self._uow = UnitOfWork(store or PostgresEventStore(pool), clock)
        self._signing_keys = signing_keys or self._registered_keys

    async def hand_in(self, ocid: str, handed: OpeningShares, actor: Actor) -> dict[str, Any]:
        signing_key = (await self._signing_keys(self.pool, [actor.id])).get(actor.id)
        signature_valid = signing_key is not None and committee_material.opening_shares_valid(
            ocid, actor.id, list(handed.shares), handed.signature, signing_key
        )

        async def accept(tx: StoreTransaction, writes: Writes) -> dict[str, Any]:
            log = await tx.bid_ledger(ocid, lock=True)  # one hand-in at a time, on any process
            held = await self.vault.held(tx.connection, ocid)
            bid_log.check_hand_in(
                log.log if log else None, ocid, actor, signature_valid, actor.id in held
            )
            assert log is not None
            ledger.refuse_legacy(log)  # its bids hold no shares for a committee
            complaints = await tx.load(conditions_complaints.complaints_id(ocid))
            conditions_complaints.bids_must_not_be_opened_before_the_remedy(
                conditions_complaints.replay(ocid, (e.event for e in complaints)),
                [item.event for item in await tx.load(ocid)],
            )
            current = {e.receipt.bid_id: e for e in await _current(tx, ocid)}
            try:
                shares = committee_opening.check_handed_shares(
                    actor.id, handed.shares, {i: _sealed(e) for i, e in current.items()}
                )
            except WrongShare as error:
                raise Rejected(str(error), code="wrong_share") from error
            problems = sum(1 for item in handed.shares if item.share is None)
            events = ledger.accept_shares(log, actor.id, len(shares), problems)
            now = self._uow.clock()
            changes = Changes(bid_log.bid_log_id(ocid), log.version, events)
            await self._uow.append(tx, writes, envelopes(changes, actor=actor.id, at=now))
            held[actor.id] = shares
            answer = {"threshold": log.threshold, "handed_in": len(held), "opened": False}
            if len(held) < log.threshold:
                await self.vault.keep(tx.connection, ocid, actor.id, shares)
                return answer
            summary = await self._open(tx, writes, ocid, actor, held, sorted(held))
            await self.vault.drop(tx.connection, ocid)  # with the opening, or not at all
            return answer | {"opened": True} | summary

        return await self._uow.write(accept, what="the shares")

    async def _open(
        self,
        tx: StoreTransaction,
        writes: Writes,
        ocid: str,
        actor: Actor,
        held: Mapping[str, Mapping[str, shamir.Share]],
        participants: list[str],
    ) -> dict[str, Any]:
        """Rebuild each bid's key, open every current bid and record the outcome, in the
        transaction of the hand-in that reached the threshold; the evaluation starts in it
        too (``app.policies``)."""
        entries = [
            item.event
            for item in await tx.load(bid_log.bid_log_id(ocid))
            if isinstance(item.event, BidSubmitted | BidWithdrawn)
        ]
        bidders = sorted({e.receipt.bidder_id for e in entries})
        log = await tx.bid_ledger(ocid, bidders, lock=True, leaves=True)
        assert log is not None
        if log.status is not LogStatus.SEALED or log.root is None:
            raise WrongState(f"the bids of {ocid} are {log.status}", code=str(log.status))
        published = tender.replay([item.event for item in await tx.load(ocid)])
        assert published is not None
        currencies = {lot.id: lot.value.currency for lot in published.requirements.lots}
        # A bid waiting for a reconfirmation that never came is not opened at all.
        unconfirmed = [
            opening.not_reconfirmed(e.receipt, awaited)
            for e in opening.current_bids(entries)
            if (awaited := _awaited(log, e)) is not None
        ]
        current = [
            CurrentBid(e.receipt, _sealed(e), log.leaves[e.position])
            for e in opening.current_bids(entries)
            if _awaited(log, e) is None
        ]
        shares: dict[str, list[shamir.Share]] = {}
        for officer in participants:
            for bid_id, share in held[officer].items():
                shares.setdefault(bid_id, []).append(share)
        # On the transaction's own connection: a second one from the pool, taken while this
        # one is held, deadlocked the API once as many openings ran as the pool has.
        bidder_keys = await self._signing_keys(tx.connection, bidders)
        material = log.committee.material
        decrypted = await open_in_parallel(current, material, shares, bidder_keys)
        results = [opening.bid_must_fit_the_tender(r, currencies) for r in decrypted]
        results += unconfirmed
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

    async def my_shares(self, ocid: str, actor: Actor) -> list[dict[str, Any]]:
        """The member's sealed share of every current bid, once the log is sealed."""

        async def read(tx: StoreTransaction, _: Writes) -> list[dict[str, Any]]:
            log = await tx.bid_ledger(ocid)
            bid_log.check_hand_in(log.log if log else None, ocid, actor, True, False)
            if log is not None:
                ledger.refuse_legacy(log)
            found = []
            for entry in await _current(tx, ocid):
                mine = next(s for s in entry.key_shares if s.officer_id == actor.id)
                receipt = entry.receipt
                found.append(
                    {
                        "bid_id": receipt.bid_id,
                        "lots": list(receipt.lots),
                        "bidder_id": receipt.bidder_id,
                        "version": receipt.version,
                        "x": mine.x,
                        "sealed_share": mine.model_dump(mode="json")["sealed_share"],
                        "share_sha256": mine.share_sha256,
                    }
                )
            return found

        return await self._uow.write(read, what="the member's shares")

    async def _registered_keys(self, connection: Any, party_ids: Sequence[str]) -> dict[str, bytes]:
        rows = await connection.fetch(
            "SELECT party_id, signing_key FROM party_keys WHERE party_id = ANY($1)",
            list(party_ids),
        )
        return {row["party_id"]: bytes(row["signing_key"]) for row in rows}


PARALLEL_FROM = 2000  # bids; below this, starting worker processes costs more than it saves


async def open_in_parallel(
    current: list[CurrentBid],
    material: CommitteeMaterial,
    shares: dict[str, list[shamir.Share]],
    bidder_keys: dict[str, bytes],
    processes: int | None = None,
    parallel_from: int = PARALLEL_FROM,
) -> list[opening.Opened]:
    """Verify, rebuild each key and decrypt every bid. It is CPU work that holds the GIL,
    so many bids are shared among worker processes, one per core (each bid's shares reach
    them through a pipe, never a file); a few are opened in a thread, which keeps the API
    answering meanwhile."""
    processes = processes or os.cpu_count() or 1
    if len(current) < parallel_from or processes < 2:
        return await asyncio.to_thread(
            committee_opening.open_bids, current, material, shares, bidder_keys
        )
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    size = -(-len(current) // processes)
    chunks = [current[n : n + size] for n in range(0, len(current), size)]
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(max_workers=len(chunks), mp_context=context) as pool:
        parts = await asyncio.gather(
            *(
                loop.run_in_executor(
                    pool,
                    committee_opening.open_bids,
                    chunk,
                    material,
                    {e.receipt.bid_id: shares.get(e.receipt.bid_id, []) for e in chunk},
                    {e.receipt.bidder_id: bidder_keys.get(e.receipt.bidder_id, b"") for e in chunk},
                )
                for chunk in chunks
            )
        )
    return [opened for part in parts for opened in part]


async def _current(tx: StoreTransaction, ocid: str) -> list[BidSubmitted]:
    entries = [
        item.event
        for item in await tx.load(bid_log.bid_log_id(ocid))
        if isinstance(item.event, BidSubmitted | BidWithdrawn)
    ]
    return opening.current_bids(entries)


def _awaited(log: ledger.Ledger, entry: BidSubmitted) -> Awaited | None:
    awaited = log.unconfirmed.get(entry.receipt.bidder_id)
    return awaited if awaited is not None and awaited.bid_id == entry.receipt.bid_id else None


def _sealed(entry: BidSubmitted) -> SealedBid:
    """The bid as the bidder sent it, from its recorded entry."""
    receipt = entry.receipt
    return SealedBid(
        ocid=receipt.ocid,
        lots=receipt.lots,
        bidder_id=receipt.bidder_id,
        version=receipt.version,
        ciphertext=entry.ciphertext,
        key_commitment=entry.key_commitment,
        material_sha256=entry.material_sha256,
        key_shares=entry.key_shares,
        signature=entry.signature,
    )
