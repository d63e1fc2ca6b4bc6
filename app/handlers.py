"""Command handling: load an aggregate, let the domain decide, commit the events.

Nothing is acknowledged before PostgreSQL commits. A command with an id is handled once:
repeating it returns the first answer, even while the first is still being decided (the id
is locked from the check to the commit). Two writers racing on one aggregate cannot both win
the same sequence number; the loser decides again on the new state.
"""

import hashlib
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, get_args
from uuid import UUID, uuid4

import asyncpg

from adapters.postgres import bid_logs, credentials, eventstore
from adapters.postgres.auction_states import AuctionStates
from adapters.settings import Settings
from app import party_identifiers, registration_claims
from bidding import keys
from bidding import log as bid_log
from contracts import contract
from procurement import auction, claims, evaluation, parties, tender
from procurement.errors import NotFound, Rejected, WrongState
from schemas.auction import (
    AnyAuctionCommand,
    AuctionClosed,
    CancelAuction,
    CloseAuction,
    OpenAuction,
    ScheduleAuction,
    SubmitAuctionPrice,
)
from schemas.claims import ClaimDecision, DecideRegistrationClaim
from schemas.commands import (
    Actor,
    AmendTender,
    AnyCommand,
    CancelTender,
    CloseTender,
    Command,
    IssueOpeningKey,
    PublishTender,
    RegisterAgency,
    RegisterCommitteeKeys,
    RegisterOfficer,
    RegisterSupplier,
    Role,
)
from schemas.contracts import AnyContractCommand, DrawContract, SignContract
from schemas.evaluation import AnyEvaluationCommand, RecordAuctionResult, ScoreQuality
from schemas.events import Envelope, Event, envelope
from schemas.upcasting import read_envelope
from schemas.values import AuctionRules

Clock = Callable[[], datetime]
ATTEMPTS = 5


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Outcome:
    aggregate_id: str
    events: list[Envelope]
    token: str | None = None  # a new officer's bearer token, shown once
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


@dataclass
class _Context:
    actor: Actor
    now: datetime
    command_id: UUID | None
    extra_writes: list[Callable[[Any], Awaitable[Any]]] = field(default_factory=list)


class CommandHandler:
    def __init__(self, pool: Any, settings: Settings, clock: Clock = utc_now) -> None:
        self.pool = pool
        self.settings = settings
        self.clock = clock
        self._tender_numbers = _TenderNumbers()
        self.auctions = AuctionStates()
        self._identifiers = party_identifiers.Identifiers(pool)
        self._deciders: dict[type, Callable[[Any, Any, _Context], Awaitable[Outcome]]] = {
            PublishTender: self._publish_tender,
            AmendTender: self._change_tender,
            CancelTender: self._change_tender,
            CloseTender: self._change_tender,
            RegisterAgency: self._register_agency,
            RegisterOfficer: self._register_officer,
            RegisterSupplier: self._register_supplier,
            RegisterCommitteeKeys: self._register_committee_keys,
            DecideRegistrationClaim: self._decide_claim,
            IssueOpeningKey: self._issue_opening_key,
        }
        for command_type in get_args(AnyEvaluationCommand):
            self._deciders[command_type] = self._evaluate
        for command_type in get_args(AnyContractCommand):
            self._deciders[command_type] = self._contract
        for command_type in get_args(AnyAuctionCommand):
            self._deciders[command_type] = self._auction

    async def handle(
        self,
        command: AnyCommand
        | AnyEvaluationCommand
        | AnyContractCommand
        | AnyAuctionCommand
        | DecideRegistrationClaim,
        actor: Actor,
        command_id: UUID | None = None,
    ) -> Outcome:
        if isinstance(command, get_args(AnyAuctionCommand)):
            async with self.auctions.lock(auction.auction_id(command.ocid, command.lot_id)):
                return await self._handle(command, actor, command_id)
        return await self._handle(command, actor, command_id)

    async def _handle(
        self,
        command: AnyCommand
        | AnyEvaluationCommand
        | AnyContractCommand
        | AnyAuctionCommand
        | DecideRegistrationClaim,
        actor: Actor,
        command_id: UUID | None,
    ) -> Outcome:
        decide = self._deciders[type(command)]
        for _ in range(ATTEMPTS):
            async with self.pool.acquire() as connection:
                context = _Context(actor=actor, now=self.clock(), command_id=command_id)
                try:
                    if command_id is None:
                        outcome = await decide(connection, command, context)
                        await _commit(connection, command, outcome, context)
                        return outcome
                    return await _handle_once(connection, decide, command, context)
                except asyncpg.UniqueViolationError as race:
                    if race.constraint_name not in {
                        "events_aggregate_id_sequence_key",
                        "handled_commands_pkey",
                        "party_identifiers_pkey",  # a look-alike registered at once
                    }:
                        raise
        raise WrongState(
            f"{type(command).__name__} met too many concurrent changes; try again", code="busy"
        )

    # Deciders: each loads what it needs and calls the domain; ``handle`` commits.

    async def _publish_tender(
        self, connection: Any, command: PublishTender, ctx: _Context
    ) -> Outcome:
        number = await self._tender_numbers.next(connection)
        tender_id = f"{ctx.now.year}-{number:06d}"
        ocid = f"{self.settings.ocid_prefix}-{tender_id}"
        events = tender.publish(
            command, ctx.actor, ctx.now, self.settings.rules, tender_id=tender_id, ocid=ocid
        )
        return _outcome(ocid, 0, events, ctx)

    async def _change_tender(
        self, connection: Any, command: AmendTender | CancelTender | CloseTender, ctx: _Context
    ) -> Outcome:
        history = await eventstore.load(connection, command.ocid)
        state = tender.replay([item.event for item in history])
        if state is None:
            raise NotFound(f"there is no tender {command.ocid}")
        if isinstance(command, AmendTender):
            events = tender.amend(state, command, ctx.actor, ctx.now, self.settings.rules)
        elif isinstance(command, CancelTender):
            events = tender.cancel(state, command, ctx.actor)
        else:
            events = tender.close(state, command, ctx.actor, ctx.now)
        outcome = _outcome(command.ocid, state.version, events, ctx)
        if await bid_logs.exists(connection, command.ocid):  # the bid log follows its tender

            async def follow(conn: Any) -> None:
                for item in outcome.events:
                    await bid_logs.follow_tender(conn, item)

            ctx.extra_writes.append(follow)
        return outcome

    async def _issue_opening_key(
        self, connection: Any, command: IssueOpeningKey, ctx: _Context
    ) -> Outcome:
        state = tender.replay([e.event for e in await eventstore.load(connection, command.ocid)])
        rows = await connection.fetch(
            "SELECT c.party_id, c.agency_id, k.party_id IS NOT NULL AS has_keys"
            " FROM credentials c LEFT JOIN party_keys k USING (party_id)"
            " WHERE c.party_id = ANY($1) AND c.role = 'officer'",
            [share.officer_id for share in command.shares],
        )
        members = {
            row["party_id"]: bid_log.Member(row["party_id"], row["agency_id"], row["has_keys"])
            for row in rows
        }
        issued = await bid_logs.exists(connection, command.ocid)
        events = bid_log.issue_opening_key(state, command, ctx.actor, ctx.now, members, issued)
        assert state is not None
        ctx.extra_writes.append(lambda conn: bid_logs.create(conn, state, command))
        return _outcome(bid_log.bid_log_id(command.ocid), 0, events, ctx)

    async def _register_agency(
        self, connection: Any, command: RegisterAgency, ctx: _Context
    ) -> Outcome:
        agency_id = parties.agency_id_for(command.identifier)
        existing = await _agency(connection, agency_id)
        look_alike = await self._identifiers.look_alike(connection, "agency", command.identifier)
        events = parties.register_agency(existing, command, ctx.actor, look_alike)
        ctx.extra_writes.append(
            lambda conn: party_identifiers.remember(conn, "agency", command.identifier)
        )
        return _outcome(agency_id, 0, events, ctx)

    async def _register_officer(
        self, connection: Any, command: RegisterOfficer, ctx: _Context
    ) -> Outcome:
        agency = await _agency(connection, command.agency_id)
        officer_id = f"officer-{uuid4().hex[:16]}"
        events = parties.register_officer(agency, command, ctx.actor, officer_id=officer_id)
        token = credentials.new_token()
        officer = Actor(id=officer_id, role=command.role, agency_id=command.agency_id)

        async def store_credential(conn: Any) -> None:
            await credentials.store(conn, token, officer, self._token_expiry(ctx))

        ctx.extra_writes.append(store_credential)
        outcome = _outcome(officer_id, 0, events, ctx)
        return Outcome(outcome.aggregate_id, outcome.events, token=token)

    async def _register_supplier(
        self, connection: Any, command: RegisterSupplier, ctx: _Context
    ) -> Outcome:
        supplier_id = parties.supplier_id_for(command.identifier)
        registered = bool(await eventstore.load(connection, supplier_id))
        proof = keys.supplier_registration_fields(command.identifier, command.signing_key)
        proof_valid = keys.verify(
            command.signing_key, command.proof, keys.SUPPLIER_REGISTRATION, proof
        )
        look_alike = await self._identifiers.look_alike(connection, "supplier", command.identifier)
        holder = look_alike or (command.identifier if registered else None)
        if holder is not None:  # the number is held, perhaps by a squatter: the operator decides
            claim_id = f"claim-{uuid4().hex[:16]}"
            claimed = claims.claim_registration(command, proof_valid, holder, claim_id=claim_id)
            return _outcome(claim_id, 0, claimed, ctx)
        events = parties.register_supplier(registered, command, proof_valid, look_alike)
        token = credentials.new_token()
        supplier = Actor(id=supplier_id, role=Role.SUPPLIER)

        async def store_credentials(conn: Any) -> None:
            await credentials.store(conn, token, supplier, self._token_expiry(ctx))
            await party_identifiers.remember(conn, "supplier", command.identifier)
            await conn.execute(
                "INSERT INTO party_keys (party_id, role, signing_key) VALUES ($1, $2, $3)",
                supplier_id,
                Role.SUPPLIER.value,
                command.signing_key,
            )

        ctx.extra_writes.append(store_credentials)
        outcome = _outcome(supplier_id, 0, events, ctx)
        return Outcome(outcome.aggregate_id, outcome.events, token=token)

    async def _decide_claim(
        self, connection: Any, command: DecideRegistrationClaim, ctx: _Context
    ) -> Outcome:
        history = [item.event for item in await eventstore.load(connection, command.claim_id)]
        claim = claims.replay_claim(history)
        events = claims.decide_claim(claim, command, ctx.actor)
        outcome = _outcome(command.claim_id, len(history), events, ctx)
        if command.decision is not ClaimDecision.ACCEPT:
            return outcome
        accepted = claims.replay_claim([*history, *events])
        assert accepted is not None
        registered = claims.transferred_registration(accepted)
        version = len(await eventstore.load(connection, registered.supplier_id))
        [registration] = _outcome(registered.supplier_id, version, [registered], ctx).events
        token = credentials.new_token()  # the operator hands it to the claimant

        async def transfer(conn: Any) -> None:
            expires_at = self._token_expiry(ctx)
            await registration_claims.transfer(
                conn, accepted.claimed, registration, token, expires_at
            )

        ctx.extra_writes.append(transfer)
        return Outcome(outcome.aggregate_id, outcome.events, token=token)

    async def _register_committee_keys(
        self, connection: Any, command: RegisterCommitteeKeys, ctx: _Context
    ) -> Outcome:
        history = await eventstore.load(connection, command.officer_id)
        registered = any(e.type == "CommitteeKeysRegistered" for e in history)
        fields = keys.committee_keys_fields(
            command.officer_id, command.encryption_key, command.signing_key
        )
        proof_valid = keys.verify(command.signing_key, command.proof, keys.COMMITTEE_KEYS, fields)
        events = parties.register_committee_keys(command, ctx.actor, proof_valid, registered)

        async def store_keys(conn: Any) -> None:
            await conn.execute(
                "INSERT INTO party_keys (party_id, role, agency_id, signing_key, encryption_key)"
                " VALUES ($1, $2, $3, $4, $5)",
                command.officer_id,
                Role.OFFICER.value,
                ctx.actor.agency_id,
                command.signing_key,
                command.encryption_key,
            )

        ctx.extra_writes.append(store_keys)
        return _outcome(command.officer_id, len(history), events, ctx)

    async def _evaluate(
        self, connection: Any, command: AnyEvaluationCommand, ctx: _Context
    ) -> Outcome:
        aggregate_id = evaluation.evaluation_id(command.ocid)
        history = await eventstore.load(connection, aggregate_id)
        state = evaluation.replay(item.event for item in history)
        signature_valid = False
        if isinstance(command, ScoreQuality):  # signed with the member's committee key
            key = await connection.fetchval(
                "SELECT signing_key FROM party_keys WHERE party_id = $1 AND role = 'officer'",
                ctx.actor.id,
            )
            fields = evaluation.score_fields(
                command.ocid,
                command.lot_id,
                command.bid_id,
                command.criterion_id,
                ctx.actor.id,
                command.score,
                command.revision,
            )
            signature_valid = key is not None and keys.verify(
                bytes(key), command.signature, evaluation.QUALITY_SCORE, fields
            )
        events = evaluation.decide(
            state, command, ctx.actor, ctx.now, signature_valid=signature_valid
        )
        return _outcome(aggregate_id, len(history), events, ctx)

    async def _contract(
        self, connection: Any, command: AnyContractCommand, ctx: _Context
    ) -> Outcome:
        if isinstance(command, DrawContract):
            contract_id = contract.contract_id_for(command.ocid, command.lot_id)
            history = await eventstore.load(connection, contract_id)
            published = tender.replay(
                [e.event for e in await eventstore.load(connection, command.ocid)]
            )
            evaluated = evaluation.replay(
                e.event
                for e in await eventstore.load(connection, evaluation.evaluation_id(command.ocid))
            )
            award = None
            if published is not None and evaluated is not None:
                award = contract.award_facts(published, evaluated, command.lot_id)
            may_be_signed = evaluated is not None and evaluation.contract_may_be_signed(
                evaluated, command.lot_id, ctx.now
            )
            events = contract.decide(
                contract.replay(e.event for e in history),
                command,
                ctx.actor,
                ctx.now,
                award=award,
                contract_id=contract_id,
                may_be_signed=may_be_signed,
            )
            return _outcome(contract_id, len(history), events, ctx)
        history = await eventstore.load(connection, command.contract_id)
        signer_key = None
        if isinstance(command, SignContract):  # the key the signer registered
            found = await connection.fetchval(
                "SELECT signing_key FROM party_keys WHERE party_id = $1", ctx.actor.id
            )
            signer_key = bytes(found) if found is not None else None
        events = contract.decide(
            contract.replay(e.event for e in history),
            command,
            ctx.actor,
            ctx.now,
            signer_key=signer_key,
        )
        return _outcome(command.contract_id, len(history), events, ctx)

    async def _auction(self, connection: Any, command: AnyAuctionCommand, ctx: _Context) -> Outcome:
        aggregate_id = auction.auction_id(command.ocid, command.lot_id)
        state = await self.auctions.at(connection, aggregate_id)
        if isinstance(command, ScheduleAuction):
            evaluated = evaluation.replay(
                e.event
                for e in await eventstore.load(connection, evaluation.evaluation_id(command.ocid))
            )
            if evaluated is None:
                raise NotFound(f"the evaluation of {command.ocid} has not started")
            published = tender.replay(
                [e.event for e in await eventstore.load(connection, command.ocid)]
            )
            assert published is not None, f"{command.ocid} is evaluated but was never published"
            events = auction.schedule_from_evaluation(
                state,
                evaluated,
                published.requirements.auction or AuctionRules(),
                ctx.actor,
                lot_id=command.lot_id,
                starts_at=command.starts_at,
                now=ctx.now,
                notice=self.settings.rules.minimum_auction_notice,
            )
            return _outcome(aggregate_id, 0, events, ctx)
        live = auction.auction_must_exist(state, aggregate_id)
        if isinstance(command, SubmitAuctionPrice):
            events = auction.submit_price(live, ctx.actor.id, command.price, ctx.now)
        elif isinstance(command, OpenAuction):
            events = auction.open_auction(live, ctx.actor, ctx.now)
        elif isinstance(command, CloseAuction):
            events = auction.close_if_due(live, ctx.actor, ctx.now)
            if events:  # closed: the evaluation gets the final prices in the same transaction
                closed = events[0]
                assert isinstance(closed, AuctionClosed)
                result = auction.result(closed, live)
                ctx.extra_writes.append(lambda conn: self._record_result(conn, result, ctx))
        else:
            assert isinstance(command, CancelAuction)
            events = auction.cancel(live, ctx.actor, command.reason, ctx.now)
        return _outcome(aggregate_id, live.version, events, ctx)

    async def _record_result(
        self, connection: Any, command: RecordAuctionResult, ctx: _Context
    ) -> None:
        """The auction's final prices go to the evaluation in the closing's transaction."""
        aggregate_id = evaluation.evaluation_id(command.ocid)
        history = await eventstore.load(connection, aggregate_id)
        state = evaluation.replay(item.event for item in history)
        events = evaluation.decide(state, command, ctx.actor, ctx.now)
        await eventstore.append(
            connection, _outcome(aggregate_id, len(history), events, ctx).events
        )

    def _token_expiry(self, ctx: _Context) -> datetime:
        return ctx.now + self.settings.token_lifetime


async def _agency(connection: Any, agency_id: str) -> parties.Agency | None:
    agency: parties.Agency | None = None
    for item in await eventstore.load(connection, agency_id):
        agency = parties.evolve_agency(agency, item.event)
    return agency


def _fingerprint(command: Command, actor: Actor) -> bytes:
    asked = f"{actor.id}|{type(command).__name__}|{command.model_dump_json()}"
    return hashlib.sha256(asked.encode()).digest()


async def _handled(connection: Any, command: Command, ctx: _Context) -> Outcome | None:
    row = await connection.fetchrow(
        "SELECT aggregate_id, response, fingerprint FROM handled_commands WHERE command_id = $1",
        ctx.command_id,
    )
    if row is None:
        return None
    if row["fingerprint"] != _fingerprint(command, ctx.actor):
        msg = f"idempotency key {ctx.command_id} was already used for a different request"
        raise Rejected(msg, code="idempotency_key_reused")
    ids = [UUID(e["event_id"]) for e in row["response"]["events"]]
    rows = await connection.fetch("SELECT envelope FROM events WHERE event_id = ANY($1)", ids)
    events = sorted((read_envelope(r["envelope"]) for r in rows), key=lambda e: e.sequence)
    return Outcome(row["aggregate_id"], events, replayed=True)


async def _handle_once(
    connection: Any,
    decide: Callable[[Any, Any, _Context], Awaitable[Outcome]],
    command: Command,
    ctx: _Context,
) -> Outcome:
    """Check, decide and commit a command with an id in one transaction that holds the id's
    lock: a concurrent retry waits for the first to commit and is answered with its outcome,
    instead of deciding again on the state the first one changed."""
    assert ctx.command_id is not None
    async with connection.transaction():
        await connection.execute(
            "SELECT pg_advisory_xact_lock($1, $2)", *_lock_keys(ctx.command_id)
        )
        if (done := await _handled(connection, command, ctx)) is not None:
            return done
        outcome = await decide(connection, command, ctx)
        await _record(connection, command, outcome, ctx)
        return outcome


def _lock_keys(command_id: UUID) -> tuple[int, int]:
    """Two 32-bit advisory lock keys from the command id. The two-key lock space is apart
    from the one-key locks used elsewhere; two ids sharing keys only wait for each other."""
    raw = command_id.bytes
    return int.from_bytes(raw[:4], signed=True), int.from_bytes(raw[4:8], signed=True)


def _outcome(aggregate_id: str, version: int, events: list[Event], ctx: _Context) -> Outcome:
    envelopes = [
        envelope(
            event,
            event_id=uuid4(),
            aggregate_id=aggregate_id,
            sequence=version + number,
            actor=ctx.actor.id,
            occurred_at=ctx.now,
            command_id=ctx.command_id,
        )
        for number, event in enumerate(events, start=1)
    ]
    return Outcome(aggregate_id, envelopes)


async def _commit(connection: Any, command: Command, outcome: Outcome, ctx: _Context) -> None:
    """Record the events of a command without an id and whatever must go with them, all or
    nothing."""
    if not ctx.extra_writes:
        await eventstore.append(connection, outcome.events)  # one statement: its own transaction
        return
    async with connection.transaction():
        await _record(connection, command, outcome, ctx)


async def _record(connection: Any, command: Command, outcome: Outcome, ctx: _Context) -> None:
    """The events, their extra writes and the handled command, in the caller's transaction."""
    await eventstore.append(connection, outcome.events)
    for write in ctx.extra_writes:
        await write(connection)
    if ctx.command_id is not None:
        await connection.execute(
            "INSERT INTO handled_commands (command_id, fingerprint, aggregate_id, response)"
            " VALUES ($1, $2, $3, $4)",
            ctx.command_id,
            _fingerprint(command, ctx.actor),
            outcome.aggregate_id,
            replace(outcome, token=None).response(),  # a token is shown once, never stored
        )


class _TenderNumbers:
    """Tender numbers from the database sequence, reserved a block at a time to spare a
    round trip per tender. Numbers are unique; like any sequence's, they may skip."""

    BLOCK = 20

    def __init__(self) -> None:
        self._free: deque[int] = deque()

    async def next(self, connection: Any) -> int:
        if not self._free:
            rows = await connection.fetch(
                "SELECT nextval('tender_numbers') AS n FROM generate_series(1, $1)", self.BLOCK
            )
            self._free.extend(sorted(row["n"] for row in rows))
        return self._free.popleft()
