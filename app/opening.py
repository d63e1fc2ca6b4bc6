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
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from adapters.postgres import bid_logs, eventstore
from bidding import committee, keys, opening, shamir
from bidding import log as bid_log
from procurement import evaluation, tender
from procurement.errors import WrongState
from schemas.bids import OpeningShare
from schemas.commands import Actor, Role
from schemas.evaluation import StartEvaluation
from schemas.events import (
    BidOpened,
    BidsOpened,
    BidSubmitted,
    BidWithdrawn,
    Event,
    OpeningShareAccepted,
    envelope,
)
from schemas.upcasting import read_envelope


class OpeningCeremony:
    def __init__(self, pool: Any) -> None:
        self.pool = pool
        self._held: dict[str, dict[str, shamir.Share]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def hand_in(self, ocid: str, handed: OpeningShare, actor: Actor) -> dict[str, Any]:
        async with self._locks.setdefault(ocid, asyncio.Lock()):
            held = self._held.setdefault(ocid, {})
            found = await bid_logs.read(self.pool, ocid)
            signing_key = await self.pool.fetchval(
                "SELECT signing_key FROM party_keys WHERE party_id = $1", actor.id
            )
            fields = committee.share_fields(ocid, actor.id, handed.x, _sha256_hex(handed.share))
            signature_valid = signing_key is not None and keys.verify(
                signing_key, handed.signature, keys.OPENING_SHARE, fields
            )
            log = found[0] if found else None
            share = bid_log.check_share(log, ocid, actor, handed, signature_valid, actor.id in held)
            assert log is not None
            await self._record(ocid, [OpeningShareAccepted(officer_id=actor.id, x=share.x)], actor)
            held[actor.id] = share
            if len(held) < log.threshold:
                return {"threshold": log.threshold, "handed_in": len(held), "opened": False}
            try:
                summary = await self._open(ocid, actor, list(held.values()), sorted(held))
            finally:
                self._held.pop(ocid, None)  # the shares and the key go, whatever happened
            return {"threshold": log.threshold, "handed_in": len(held), "opened": True} | summary

    async def _record(self, ocid: str, events: list[Event], actor: Actor) -> None:
        async with self.pool.acquire() as connection, connection.transaction():
            _, row = (await bid_logs.lock(connection, [ocid]))[ocid]
            await eventstore.append(connection, _envelopes(ocid, row["version"], events, actor))
            await connection.execute(
                "UPDATE bid_logs SET version = $2 WHERE ocid = $1",
                ocid,
                row["version"] + len(events),
            )

    async def _open(
        self, ocid: str, actor: Actor, shares: list[shamir.Share], participants: list[str]
    ) -> dict[str, Any]:
        async with self.pool.acquire() as connection, connection.transaction():
            log, row = (await bid_logs.lock(connection, [ocid]))[ocid]
            if log.status is not bid_log.LogStatus.SEALED:
                raise WrongState(f"the bids of {ocid} are {log.status}", code=str(log.status))
            try:
                key = committee.rebuild_opening_key(shares, bytes(row["public_key"]))
            except committee.KeyMismatch as error:
                raise WrongState(str(error), code="key_mismatch") from error
            entries, recorded = await _load_log(connection, ocid)
            bidder_keys = {
                r["party_id"]: bytes(r["signing_key"])
                for r in await connection.fetch(
                    "SELECT party_id, signing_key FROM party_keys WHERE party_id = ANY($1)",
                    sorted({e.receipt.bidder_id for e in entries}),
                )
            }
            results = await open_in_parallel(
                opening.current_bids(entries), key, recorded, bidder_keys
            )
            matches = opening.log_matches_root(entries, bytes(row["root"]))
            opened = sum(1 for r in results if r.content is not None)
            events: list[Event] = [r.event() for r in results]
            events.append(
                BidsOpened(
                    participants=participants,
                    opened=opened,
                    rejected=len(results) - opened,
                    tree_size=len(entries),
                    root=bytes(row["root"]).hex(),
                    log_matches_root=matches,
                )
            )
            await eventstore.append(connection, _envelopes(ocid, row["version"], events, actor))
            await _start_evaluation(connection, ocid, log, entries, events)
            await connection.execute(
                "INSERT INTO opened_bids (bid_id, ocid, bidder_id, version, outcome, content,"
                " reason_code, reason) SELECT b, $1, d, v, o, c::jsonb, rc, r FROM unnest("
                "$2::text[], $3::text[], $4::int[], $5::text[], $6::text[], $7::text[], $8::text[])"
                " AS x (b, d, v, o, c, rc, r)",
                ocid,
                [r.bid_id for r in results],
                [r.bidder_id for r in results],
                [r.version for r in results],
                ["opened" if r.content is not None else "rejected" for r in results],
                [r.content.model_dump_json() if r.content is not None else None for r in results],
                [r.reason_code for r in results],
                [r.reason for r in results],
            )
            await connection.execute(
                "UPDATE bid_logs SET status = 'opened', version = $2 WHERE ocid = $1",
                ocid,
                row["version"] + len(events),
            )
        return {
            "bids_opened": opened,
            "bids_rejected": len(results) - opened,
            "log_matches_root": matches,
        }


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


EVALUATION_SERVICE = Actor(id="opening-ceremony", role=Role.SYSTEM)


async def _start_evaluation(
    connection: Any,
    ocid: str,
    log: bid_log.BidLog,
    entries: list[BidSubmitted | BidWithdrawn],
    events: list[Event],
) -> None:
    """The opened bids go to the committee's evaluation, in the same transaction."""
    opened = [event for event in events if isinstance(event, BidOpened)]
    if not opened:
        return
    history = await eventstore.load(connection, ocid)
    published = tender.replay([item.event for item in history])
    assert published is not None, f"bids opened for {ocid}, which was never published"
    received = {e.receipt.bid_id: e.receipt.received_at for e in entries}
    now = datetime.now(UTC)
    command = StartEvaluation(
        ocid=ocid,
        facts=evaluation.facts_from_tender(published, sorted(log.members)),
        bids=tuple(evaluation.opened_bid(bid, received[bid.bid_id]) for bid in opened),
    )
    started = evaluation.decide(None, command, EVALUATION_SERVICE, now)
    await eventstore.append(
        connection,
        [
            envelope(
                event,
                event_id=uuid4(),
                aggregate_id=evaluation.evaluation_id(ocid),
                sequence=number,
                actor=EVALUATION_SERVICE.id,
                occurred_at=now,
            )
            for number, event in enumerate(started, start=1)
        ],
    )


async def _load_log(
    connection: Any, ocid: str
) -> tuple[list[BidSubmitted | BidWithdrawn], dict[int, bytes]]:
    rows = await connection.fetch(
        "SELECT b.log_index, b.leaf_hash, e.envelope FROM bid_entries b"
        " JOIN events e USING (event_id) WHERE b.ocid = $1 ORDER BY b.log_index",
        ocid,
    )
    entries: list[BidSubmitted | BidWithdrawn] = []
    for row in rows:
        event = read_envelope(row["envelope"]).event
        assert isinstance(event, BidSubmitted | BidWithdrawn)
        entries.append(event)
    return entries, {row["log_index"]: bytes(row["leaf_hash"]) for row in rows}


def _envelopes(ocid: str, version: int, events: list[Event], actor: Actor) -> list[Any]:
    now = datetime.now(UTC)
    return [
        envelope(
            event,
            event_id=uuid4(),
            aggregate_id=bid_log.bid_log_id(ocid),
            sequence=version + number,
            actor=actor.id,
            occurred_at=now,
        )
        for number, event in enumerate(events, start=1)
    ]


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
