"""Every command and its handler, in one table, and the one way in: ``dispatch``.

The HTTP routes, the CLI and the deadline service all dispatch here; the handler decides
(``app.handlers``), the unit of work commits (``app.unit_of_work``), and what the events
lead to elsewhere is ``app.policies``.
"""

import hashlib
import zlib
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, get_args
from uuid import UUID

from adapters.document_store import document_store
from adapters.postgres.eventstore import PostgresEventStore
from adapters.settings import Settings
from app import catalogue, enquiries, handlers, party_identifiers, records
from app.handlers import Services
from app.store import EventStore, StoreTransaction
from app.unit_of_work import Clock, Context, Decision, Outcome, UnitOfWork, utc_now
from procurement import auction
from schemas.auction import AnyAuctionCommand
from schemas.claims import DecideRegistrationClaim
from schemas.commands import (
    Actor,
    AmendTender,
    CancelTender,
    CloseTender,
    Command,
    PublishTender,
    RegisterAgency,
    RegisterCommitteeKeys,
    RegisterOfficer,
    RegisterSupplier,
)
from schemas.committee import ConfirmCommittee, NameCommittee
from schemas.conditions_complaints import AnyConditionsComplaintCommand
from schemas.contracts import AnyContractCommand
from schemas.evaluation import AnyEvaluationCommand
from schemas.reconfirmations import ReconfirmBid

# Group commit lanes: transactions under way at once, each committing the commands that
# arrived while the one before was committing.
LANES = 4
NO_TENDER = "no tender"  # the lane of commands that name no tender

Handler = Callable[[StoreTransaction, Any, Context, Services], Awaitable[Decision]]

COMMANDS: dict[type, Handler] = {
    PublishTender: handlers.publish_tender,
    AmendTender: handlers.change_tender,
    CancelTender: handlers.change_tender,
    CloseTender: handlers.change_tender,
    RegisterAgency: handlers.register_agency,
    RegisterOfficer: handlers.register_officer,
    RegisterSupplier: handlers.register_supplier,
    RegisterCommitteeKeys: handlers.register_committee_keys,
    DecideRegistrationClaim: handlers.decide_claim,
    NameCommittee: handlers.name_committee,
    ConfirmCommittee: handlers.confirm_committee,
    ReconfirmBid: handlers.reconfirm_bid,
    **dict.fromkeys(get_args(AnyEvaluationCommand), handlers.evaluate),
    **dict.fromkeys(get_args(AnyConditionsComplaintCommand), handlers.complain_about_conditions),
    **dict.fromkeys(get_args(AnyContractCommand), handlers.draw_or_sign_contract),
    **dict.fromkeys(get_args(AnyAuctionCommand), handlers.run_auction),
    **catalogue.COMMANDS,
    **enquiries.COMMANDS,
}


class CommandBus:
    """One process's way to dispatch commands: its unit of work and shared services."""

    def __init__(
        self,
        pool: Any,
        settings: Settings,
        clock: Clock = utc_now,
        store: EventStore | None = None,
        commands: dict[type, Handler] = COMMANDS,
    ) -> None:
        self.pool = pool
        self.settings = settings
        self.clock = clock
        self.store = store or PostgresEventStore(pool, keep=records.write)
        self.uow = UnitOfWork(self.store, clock)
        self.services = Services(settings, party_identifiers.Identifiers(pool))
        self.services.documents = document_store(settings.document_store, pool)
        self.auctions = self.services.auctions  # shared with the auction prices' group commit
        self.commands = commands

    async def dispatch(
        self, command: Command, actor: Actor, command_id: UUID | None = None
    ) -> Outcome:
        """Decide and commit ``command``; with ``command_id`` (an Idempotency-Key), once."""
        handler = self.commands[type(command)]

        async def decide(transaction: StoreTransaction, context: Context) -> Decision:
            return await handler(transaction, command, context, self.services)

        key = fingerprint(command, actor) if command_id is not None else b""
        what = type(command).__name__
        if isinstance(command, get_args(AnyAuctionCommand)):  # one at a time, on its own
            async with self.auctions.lock(auction.auction_id(command.ocid, command.lot_id)):
                return await self.uow.handle(decide, actor, command_id, key, what)
        return await self.uow.handle(decide, actor, command_id, key, what, self._lane(command))

    def _lane(self, command: Command) -> Hashable:
        """The group commit lane: one tender's commands in one, in order, spread over
        ``LANES`` by tender; commands of no tender (a publication, a registration) in one
        lane of their own, so that under load they commit in large groups, one round trip
        to PostgreSQL for many, rather than one each in whichever lane is free."""
        ocid = getattr(command, "ocid", None)
        if isinstance(ocid, str):
            return zlib.crc32(ocid.encode()) % LANES
        return NO_TENDER


def fingerprint(command: Command, actor: Actor) -> bytes:
    """Who asked what: a key reused for another request is refused. Only a command with an
    Idempotency-Key needs it: serializing the command costs the others CPU for nothing."""
    asked = f"{actor.id}|{type(command).__name__}|{command.model_dump_json()}"
    return hashlib.sha256(asked.encode()).digest()
