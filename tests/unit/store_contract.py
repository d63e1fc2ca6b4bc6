"""The event store's contract, once for every adapter: a subclass gives the ``store``
fixture and how to read the outbox (memory in tests/unit, PostgreSQL in tests/integration).
"""

import asyncio
import hashlib
import uuid
from datetime import timedelta

import pytest

from app.store import ConcurrentWrite, EventStore, HandledCommand
from bidding import ledger
from bidding.log import LogStatus, bid_log_id
from schemas.bids import Receipt
from schemas.committee import CommitteeNamed
from schemas.events import (
    BidSubmitted,
    Envelope,
    Event,
    TenderCancelled,
    TenderDetailsAmended,
    envelope,
)
from tests.unit import examples as EXAMPLES
from tests.unit.examples import EXAMPLE_EVENTS, NOW


def recorded(aggregate_id: str, sequence: int, event: Event) -> Envelope:
    return envelope(
        event,
        event_id=uuid.uuid4(),
        aggregate_id=aggregate_id,
        sequence=sequence,
        actor="officer-ana",
        occurred_at=NOW + timedelta(seconds=sequence),
    )


def amendment(number: int) -> TenderDetailsAmended:
    return TenderDetailsAmended(title=f"Paper {number}", description="A4", reason="Typo")


def fresh_id() -> str:
    return f"ocds-test-{uuid.uuid4().hex[:12]}"


class StoreContract:
    async def queued(self, store: EventStore) -> list[uuid.UUID]:
        """The event ids in the outbox, in the order they were queued."""
        raise NotImplementedError

    async def test_events_are_read_back_in_sequence_order(self, store: EventStore) -> None:
        """Appended in two transactions, an aggregate's events load in order; ``after``
        skips those already known and ``until`` stops at a sequence."""
        aggregate = fresh_id()
        first = [recorded(aggregate, n, amendment(n)) for n in (1, 2)]
        async with store.transaction() as transaction:
            await transaction.append(first)
        third = recorded(aggregate, 3, amendment(3))
        async with store.transaction() as transaction:
            await transaction.append([third])
        async with store.transaction() as transaction:
            assert await transaction.load(aggregate) == [*first, third]
            assert await transaction.load(aggregate, after=2) == [third]
            assert await transaction.load(aggregate, until=1) == first[:1]
            assert await transaction.load(aggregate, after=1, until=2) == first[1:]
            assert await transaction.load(fresh_id()) == []

    async def test_a_taken_sequence_is_refused_and_nothing_of_its_transaction_lands(
        self, store: EventStore
    ) -> None:
        """A second event at a sequence already recorded raises ``ConcurrentWrite``; the other
        events of that transaction are not recorded nor queued."""
        aggregate, other = fresh_id(), fresh_id()
        async with store.transaction() as transaction:
            await transaction.append([recorded(aggregate, 1, amendment(1))])
        before = await self.queued(store)

        async def append_both() -> None:
            async with store.transaction() as transaction:
                await transaction.append([recorded(other, 1, amendment(1))])
                await transaction.append([recorded(aggregate, 1, amendment(9))])

        with pytest.raises(ConcurrentWrite):
            await append_both()
        async with store.transaction() as transaction:
            assert await transaction.load(other) == []
            assert [e.event for e in await transaction.load(aggregate)] == [amendment(1)]
        assert await self.queued(store) == before

    async def test_a_failed_transaction_records_nothing(self, store: EventStore) -> None:
        """An error inside the transaction drops its appends."""
        aggregate = fresh_id()

        async def append_then_fail() -> None:
            async with store.transaction() as transaction:
                await transaction.append([recorded(aggregate, 1, amendment(1))])
                assert len(await transaction.load(aggregate)) == 1  # it reads its own writes
                raise RuntimeError("the decision failed")

        with pytest.raises(RuntimeError, match="decision failed"):
            await append_then_fail()
        async with store.transaction() as transaction:
            assert await transaction.load(aggregate) == []

    async def test_every_event_is_queued_in_the_outbox_in_order(self, store: EventStore) -> None:
        """What is appended is queued for the relay, in the order appended."""
        aggregate = fresh_id()
        items = [recorded(aggregate, n, amendment(n)) for n in (1, 2, 3)]
        async with store.transaction() as transaction:
            await transaction.append(items)
        queued = await self.queued(store)
        assert queued[-3:] == [item.event_id for item in items]

    async def test_events_are_found_by_id(self, store: EventStore) -> None:
        """``events`` returns those asked for, in sequence order."""
        aggregate = fresh_id()
        items = [recorded(aggregate, n, amendment(n)) for n in (1, 2, 3)]
        async with store.transaction() as transaction:
            await transaction.append(items)
        async with store.transaction() as transaction:
            found = await transaction.events([items[2].event_id, items[0].event_id])
        assert found == [items[0], items[2]]

    async def test_a_handled_command_is_recorded_once(self, store: EventStore) -> None:
        """The answer under an Idempotency-Key is kept; recording the key again is refused."""
        handled = HandledCommand(uuid.uuid4(), b"\x01" * 32, "agg-1", {"id": "agg-1", "events": []})
        async with store.transaction() as transaction:
            assert await transaction.handled(handled.command_id) is None
            await transaction.remember(handled)
        async with store.transaction() as transaction:
            assert await transaction.handled(handled.command_id) == handled
        with pytest.raises(ConcurrentWrite):
            async with store.transaction() as transaction:
                await transaction.remember(handled)

    async def test_a_command_id_is_held_until_its_transaction_ends(self, store: EventStore) -> None:
        """A second transaction locking the same command id waits for the first to commit,
        and then finds the command handled."""
        command_id = uuid.uuid4()
        handled = HandledCommand(command_id, b"\x02" * 32, "agg-2", {"id": "agg-2", "events": []})
        steps: list[str] = []
        first_holds = asyncio.Event()

        async def first() -> None:
            async with store.transaction() as transaction:
                await transaction.lock_command(command_id)
                first_holds.set()
                await asyncio.sleep(0.2)
                await transaction.remember(handled)
                steps.append("first commits")

        async def second() -> HandledCommand | None:
            await first_holds.wait()
            async with store.transaction() as transaction:
                await transaction.lock_command(command_id)
                steps.append("second holds")
                return await transaction.handled(command_id)

        _, seen = await asyncio.gather(first(), second())
        assert steps == ["first commits", "second holds"]
        assert seen == handled

    async def test_numbers_are_never_given_twice_even_after_a_rollback(
        self, store: EventStore
    ) -> None:
        """A sequence's values come in order, and those of a transaction that rolls back
        are skipped, not given again."""
        async with store.transaction() as transaction:
            first = await transaction.numbers("tender_numbers", 3)
        lost: list[int] = []

        async def failing() -> None:
            async with store.transaction() as transaction:
                lost.extend(await transaction.numbers("tender_numbers", 3))
                raise RuntimeError("the command failed")

        with pytest.raises(RuntimeError):
            await failing()
        async with store.transaction() as transaction:
            later = await transaction.numbers("tender_numbers", 3)
        assert first == sorted(first)
        assert later == sorted(later)
        assert len({*first, *lost, *later}) == 9
        assert max(first) < min(lost)
        assert max(lost) < min(later)

    async def test_the_bid_log_reads_the_same_from_its_events(self, store: EventStore) -> None:
        """After its committee and a bid, the bid log holds the bidder's entry and its
        ciphertext's digest; after the tender's cancellation it is cancelled."""
        ocid = fresh_id()
        published = EXAMPLE_EVENTS["TenderPublished"].model_copy(update={"ocid": ocid})
        issued = CommitteeNamed(
            material=EXAMPLES.MATERIAL.model_copy(update={"ocid": ocid}), named_by="officer-ana"
        )
        digest = hashlib.sha256(b"sealed").digest()
        receipt = Receipt(
            kind="bid",
            bid_id=f"bid-{uuid.uuid4().hex}",
            ocid=ocid,
            bidder_id="supplier-1",
            lots=("lot-1",),
            version=1,
            ciphertext_sha256=digest.hex(),
            material_sha256="7e" * 32,
            shares_sha256="5a" * 32,
            received_at=NOW,
            log_index=0,
        )
        bid = BidSubmitted(
            receipt=receipt,
            ciphertext=b"sealed",
            key_commitment="c0" * 32,
            material_sha256="7e" * 32,
            key_shares=EXAMPLES.KEY_SHARES,
            signature=b"\x04" * 64,
        )
        async with store.transaction() as transaction:
            await transaction.append([recorded(ocid, 1, published)])
            await transaction.append([recorded(bid_log_id(ocid), 1, issued)])
        async with store.transaction() as transaction:
            await transaction.append([recorded(bid_log_id(ocid), 2, bid)])
        async with store.transaction() as transaction:
            log = await transaction.bid_ledger(
                ocid, ["supplier-1"], [digest], lock=True, leaves=True
            )
        assert log is not None
        assert (log.status, log.version, log.size, log.threshold) == (LogStatus.OPEN, 2, 1, 2)
        assert [e.version for e in log.entries["supplier-1"]] == [1]
        assert log.receipts[("supplier-1", 1)] == receipt
        assert digest in log.digests
        assert ledger.seal(log)  # every leaf is there
        async with store.transaction() as transaction:
            await transaction.append([recorded(ocid, 2, TenderCancelled(reason="Not needed"))])
            cancelled = await transaction.bid_ledger(ocid)
        assert cancelled is not None
        assert cancelled.status is LogStatus.CANCELLED
        async with store.transaction() as transaction:
            assert await transaction.bid_ledger(fresh_id()) is None
