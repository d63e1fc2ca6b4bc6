"""Commands that arrive together are committed together: one transaction for many, each
caller with its own answer, and a refused command does not take the others down."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from app.memory_store import MemoryEventStore, MemoryTransaction
from app.policies import Changes
from app.store import StoreTransaction
from app.unit_of_work import Context, Decide, Decision, UnitOfWork
from procurement.errors import Rejected
from schemas.commands import Actor, Role
from schemas.events import TenderDetailsAmended

OFFICER = Actor(id="officer-1", role=Role.OFFICER)


class CountingStore(MemoryEventStore):
    """The memory store, counting the transactions begun."""

    def __init__(self) -> None:
        super().__init__()
        self.transactions = 0

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[MemoryTransaction]:
        self.transactions += 1
        async with super().transaction() as transaction:
            yield transaction


def amend_wording(ocid: str) -> Decide:
    async def decide(transaction: StoreTransaction, _context: Context) -> Decision:
        version = len(await transaction.load(ocid))
        # An event no policy follows: only the unit of work is under test here.
        amended = TenderDetailsAmended(title="Hârtie", description="A4", reason="wording")
        return Decision(Changes(ocid, version, [amended]))

    return decide


async def refuse(_transaction: StoreTransaction, _context: Context) -> Decision:
    raise Rejected("the tender is closed", code="wrong_state")


async def test_commands_arriving_together_share_one_transaction() -> None:
    """Ten commands submitted at once to one lane commit in far fewer transactions."""
    store = CountingStore()
    uow = UnitOfWork(store)
    outcomes = await asyncio.gather(
        *(uow.handle(amend_wording(f"ocds-1-{n}"), OFFICER, lane=0) for n in range(10))
    )
    assert [o.aggregate_id for o in outcomes] == [f"ocds-1-{n}" for n in range(10)]
    assert len(store.recorded) == 10
    assert store.transactions <= 2  # the first alone, the nine that waited together


async def test_a_refused_command_leaves_the_rest_of_its_group_committed() -> None:
    """The refused caller hears its refusal; the others of its group are still recorded."""
    store = CountingStore()
    uow = UnitOfWork(store)
    asked = [
        amend_wording("ocds-1-a"),
        refuse,
        amend_wording("ocds-1-b"),
        amend_wording("ocds-1-a"),
    ]
    results = await asyncio.gather(
        *(uow.handle(decide, OFFICER, lane=0) for decide in asked), return_exceptions=True
    )
    assert isinstance(results[1], Rejected)
    assert [e.aggregate_id for e in store.recorded] == ["ocds-1-a", "ocds-1-b", "ocds-1-a"]
    assert [e.sequence for e in store.recorded] == [1, 1, 2]  # the later one saw the earlier


async def test_without_a_lane_a_command_has_a_transaction_of_its_own() -> None:
    """The direct path (auction commands under their lock) commits each command alone."""
    store = CountingStore()
    uow = UnitOfWork(store)
    await asyncio.gather(*(uow.handle(amend_wording(f"ocds-1-{n}"), OFFICER) for n in range(3)))
    assert store.transactions == 3


@pytest.mark.parametrize("lanes", [1, 4])
async def test_lanes_each_commit_their_own_groups(lanes: int) -> None:
    """Commands spread over lanes are all recorded, each once."""
    store = CountingStore()
    uow = UnitOfWork(store)
    await asyncio.gather(
        *(uow.handle(amend_wording(f"ocds-1-{n}"), OFFICER, lane=n % lanes) for n in range(20))
    )
    assert sorted(e.aggregate_id for e in store.recorded) == sorted(
        f"ocds-1-{n}" for n in range(20)
    )


async def test_refused_commands_cannot_multiply_the_work_of_the_others() -> None:
    """Every other command refused: each accepted one is decided at most twice, not once per
    refusal after it."""
    store = CountingStore()
    uow = UnitOfWork(store)
    decided: list[str] = []

    def counted(ocid: str) -> Decide:
        async def decide(transaction: StoreTransaction, context: Context) -> Decision:
            decided.append(ocid)
            return await amend_wording(ocid)(transaction, context)

        return decide

    blocker = asyncio.Event()

    async def first(transaction: StoreTransaction, context: Context) -> Decision:
        await blocker.wait()  # the others queue up behind it and form one group
        return await amend_wording("ocds-1-first")(transaction, context)

    pending = [asyncio.ensure_future(uow.handle(first, OFFICER, lane=0))]
    await asyncio.sleep(0)
    asked = [counted(f"ocds-1-{n}") if n % 2 else refuse for n in range(40)]
    pending += [asyncio.ensure_future(uow.handle(d, OFFICER, lane=0)) for d in asked]
    await asyncio.sleep(0)
    blocker.set()
    results = await asyncio.gather(*pending, return_exceptions=True)
    assert sum(isinstance(r, Rejected) for r in results) == 20
    assert len(store.recorded) == 21
    assert len(decided) <= 2 * 20
