"""The one writer: every command's events reach the store through here.

In one transaction it lets a decision load what it needs and decide, wraps the events in
envelopes numbered after the aggregate's version, appends them with their outbox rows,
runs the policies their events trigger (``app.policies``), keeps the edge rows that go
with them and, for a command with an Idempotency-Key, records its answer. Another writer
taking a sequence number first (``ConcurrentWrite``) means deciding again, a few times.

A command with a key is handled once: its id is locked from the check to the commit, so a
retry arriving meanwhile waits and gets the first answer instead of deciding again.
Commands arriving together may be committed together (``GroupCommit``).
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable, Sequence
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar
from uuid import UUID, uuid4

from app.policies import POLICIES, Changes, Policy
from app.store import ConcurrentWrite, EventStore, HandledCommand, StoreTransaction
from procurement.errors import Rejected, WrongState
from schemas.commands import Actor
from schemas.events import Envelope, envelope

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
ATTEMPTS = 5  # decisions of one command, or one group, before answering "busy"
MAX_GROUP = 500  # commands in one group commit


def utc_now() -> datetime:
    """The write side's clock; a test gives the unit of work another."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Outcome:
    aggregate_id: str
    events: list[Envelope]
    token: str | None = None  # a new party's bearer token, shown once
    replayed: bool = False

    def response(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.aggregate_id,
            "events": [
                {"type": e.type, "sequence": e.sequence, "event_id": str(e.event_id)}
                for e in self.events
            ],
        }
        if self.token is not None:
            body["token"] = self.token
        return body


@dataclass(frozen=True)
class Decision:
    """What a command decided: its aggregate's ``changes``, the edge rows to keep
    (``app.records``) and a token to show once. What the events lead to in other aggregates
    is the policies' (``app.policies``)."""

    changes: Changes
    records: Sequence[object] = ()
    token: str | None = None


@dataclass(frozen=True)
class Context:
    actor: Actor
    now: datetime
    command_id: UUID | None = None


Decide = Callable[[StoreTransaction, Context], Awaitable[Decision]]
T = TypeVar("T")


@dataclass(frozen=True)
class Asked:
    """A command waiting for its decision: how to decide it, who asked, and its key."""

    decide: Decide
    actor: Actor
    command_id: UUID | None
    fingerprint: bytes
    what: str


class Dropped(Exception):
    """The group's command at ``index`` failed with ``error``; the others go again without it."""

    def __init__(self, index: int, error: Exception) -> None:
        super().__init__(f"command {index} of the group failed: {error}")
        self.index = index
        self.error = error


def envelopes(
    changes: Changes, *, actor: str, at: datetime, command_id: UUID | None = None
) -> list[Envelope]:
    """The events of ``changes``, numbered after the aggregate's version: the only place
    envelopes are made."""
    return [
        envelope(
            event,
            event_id=uuid4(),
            aggregate_id=changes.aggregate_id,
            sequence=changes.version + number,
            actor=changes.actor or actor,
            occurred_at=changes.occurred_at or at,
            command_id=command_id,
        )
        for number, event in enumerate(changes.events, start=1)
    ]


@dataclass
class Writes:
    """What one transaction records, in order."""

    recorded: list[Envelope] = field(default_factory=list)


class UnitOfWork:
    def __init__(
        self,
        store: EventStore,
        clock: Clock = utc_now,
        policies: dict[str, Policy] = POLICIES,
    ) -> None:
        self.store = store
        self.clock = clock
        self.policies = policies
        self._together: GroupCommit[tuple[Hashable, Asked], Outcome] = GroupCommit(
            self, self._decide_group, lane=lambda item: item[0], what="the commands"
        )

    async def handle(
        self,
        decide: Decide,
        actor: Actor,
        command_id: UUID | None = None,
        fingerprint: bytes = b"",
        what: str = "the command",
        lane: Hashable | None = None,
    ) -> Outcome:
        """Decide and commit one command; with ``command_id``, once. With a ``lane``, in the
        next group commit of that lane, with the commands that arrive meanwhile."""
        asked = Asked(decide, actor, command_id, fingerprint, what)
        if lane is not None:
            return await self._together.submit((lane, asked))
        return await self.write(lambda tx, writes: self._decide(tx, writes, asked), what=what)

    async def _decide(self, transaction: StoreTransaction, writes: Writes, asked: Asked) -> Outcome:
        context = Context(asked.actor, self.clock(), asked.command_id)
        if (command_id := asked.command_id) is not None:
            await transaction.lock_command(command_id)
            if (done := await transaction.handled(command_id)) is not None:
                return await _replayed(transaction, done, asked.fingerprint)
        decision = await asked.decide(transaction, context)
        outcome = await self.record(transaction, writes, decision, context)
        if command_id is not None:
            answer = replace(outcome, token=None).response()  # a token is shown once
            handled = HandledCommand(command_id, asked.fingerprint, outcome.aggregate_id, answer)
            await transaction.remember(handled)
        return outcome

    async def _decide_group(
        self, transaction: StoreTransaction, writes: Writes, group: list[tuple[Hashable, Asked]]
    ) -> list[Outcome]:
        """Each command of the group in order, on what the earlier ones wrote. One that fails
        takes the transaction down with it: it alone gets its error, the others go again."""
        outcomes = []
        for at, (_lane, asked) in enumerate(group):
            try:
                outcomes.append(await self._decide(transaction, writes, asked))
            except ConcurrentWrite:
                raise  # the group goes again, on what the other writer left
            except Exception as error:
                raise Dropped(at, error) from error
        return outcomes

    async def write(
        self,
        work: Callable[[StoreTransaction, Writes], Awaitable[T]],
        what: str = "the command",
    ) -> T:
        """Run ``work`` in a transaction, again on a concurrent write, a few times."""
        for _ in range(ATTEMPTS):
            try:
                async with self.store.transaction() as transaction:
                    return await work(transaction, Writes())
            except ConcurrentWrite as race:
                log.debug("%s met a concurrent write: %s", what, race)
        raise WrongState(f"{what} met too many concurrent changes; try again", code="busy")

    async def record(
        self, transaction: StoreTransaction, writes: Writes, decision: Decision, context: Context
    ) -> Outcome:
        """Append a decision's events and what its policies decide, and keep its rows."""
        mine = envelopes(
            decision.changes, actor=context.actor.id, at=context.now, command_id=context.command_id
        )
        await self.append(transaction, writes, mine)
        if decision.records:
            await transaction.keep(decision.records)
        return Outcome(decision.changes.aggregate_id, mine, token=decision.token)

    async def append(
        self,
        transaction: StoreTransaction,
        writes: Writes,
        items: list[Envelope],
        written: Sequence[str] | None = None,
    ) -> None:
        """Append ``items``, then the events of the policies they trigger, and theirs."""
        await transaction.append(items, written)
        writes.recorded.extend(items)
        waiting = list(items)
        while waiting:
            cause = waiting.pop(0)
            policy = self.policies.get(cause.type)
            if policy is None:
                continue
            read = await policy.read(transaction, cause, writes.recorded)
            for changes in policy.react(cause, read):
                caused = envelopes(changes, actor=cause.actor, at=cause.occurred_at)
                await transaction.append(caused)
                writes.recorded.extend(caused)
                waiting.extend(caused)


async def _replayed(
    transaction: StoreTransaction, done: HandledCommand, fingerprint: bytes
) -> Outcome:
    if done.fingerprint != fingerprint:
        msg = f"idempotency key {done.command_id} was already used for a different request"
        raise Rejected(msg, code="idempotency_key_reused")
    ids = [UUID(item["event_id"]) for item in done.response["events"]]
    return Outcome(done.aggregate_id, await transaction.events(ids), replayed=True)


Item = TypeVar("Item")
Result = TypeVar("Result")


@dataclass
class _Waiting(Generic[Item, Result]):
    item: Item
    answer: "asyncio.Future[Result]"


class GroupCommit(Generic[Item, Result]):
    """Commands that arrive while a group is being committed wait, and are decided in order
    and committed together in the next transaction: one commit for many, instead of one
    disk wait each. Each caller gets its own answer (or refusal), after the commit.

    ``lane`` keeps apart commands that need not wait for one another (one auction's prices
    from another's); ``guard`` is held around each of a lane's transactions.
    """

    def __init__(
        self,
        uow: UnitOfWork,
        write_group: Callable[[StoreTransaction, Writes, list[Item]], Awaitable[list[Any]]],
        *,
        lane: Callable[[Item], Hashable] = lambda _item: None,
        guard: Callable[[Hashable], AbstractAsyncContextManager[Any]] = lambda _lane: nullcontext(),
        committed: Callable[[list[Any]], None] = lambda _results: None,
        max_group: int = MAX_GROUP,
        what: str = "the group",
    ) -> None:
        self.uow = uow
        self.write_group = write_group
        self.lane = lane
        self.guard = guard
        self.committed = committed  # told each group's results once committed
        self.max_group = max_group
        self.what = what
        self._waiting: dict[Hashable, list[_Waiting[Item, Result]]] = {}
        self._writers: dict[Hashable, asyncio.Task[None]] = {}

    async def submit(self, item: Item) -> Result:
        lane = self.lane(item)
        answer: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(lane, []).append(_Waiting(item, answer))
        if lane not in self._writers:
            self._writers[lane] = asyncio.create_task(self._drain(lane))
        return await answer

    async def _drain(self, lane: Hashable) -> None:
        try:
            while waiting := self._waiting.pop(lane, None):
                group, rest = waiting[: self.max_group], waiting[self.max_group :]
                if rest:
                    self._waiting[lane] = rest + self._waiting.get(lane, [])
                await self._commit(lane, group)
        finally:
            del self._writers[lane]

    async def _commit(self, lane: Hashable, group: list[_Waiting[Item, Result]]) -> None:
        parts = [group]
        while parts:
            part = parts.pop(0)
            try:
                results = await self._write(lane, [waiting.item for waiting in part])
            except Dropped as dropped:
                # Its caller's answer. The ones before it go again together (they were fine),
                # then the ones after: each refusal costs one more transaction, not a rerun of
                # everything after it, so refused commands cannot multiply the others' work.
                if not (failed := part[dropped.index]).answer.done():
                    failed.answer.set_exception(dropped.error)
                before, after = part[: dropped.index], part[dropped.index + 1 :]
                parts[:0] = [p for p in (before, after) if p]
                continue
            except Exception as error:
                if not isinstance(error, Rejected):  # a refusal is the callers' answer, not a fault
                    log.exception("could not record a group of %d", len(part))
                for waiting in part:
                    if not waiting.answer.done():
                        waiting.answer.set_exception(error)
                continue
            self.committed(results)
            for waiting, result in zip(part, results, strict=True):
                if waiting.answer.done():
                    continue
                if isinstance(result, Exception):
                    waiting.answer.set_exception(result)
                else:
                    waiting.answer.set_result(result)

    async def _write(self, lane: Hashable, items: list[Item]) -> list[Any]:
        async with self.guard(lane):
            return await self.uow.write(
                lambda transaction, writes: self.write_group(transaction, writes, items),
                what=self.what,
            )
