"""The command handlers: each loads what its command needs, lets the domain decide, and
returns the ``Decision`` (events, and the edge rows that go with them). None writes: the
unit of work (``app.unit_of_work``) commits, and ``app.command_bus`` maps commands here.

What an event leads to in another aggregate is not here but in ``app.policies``.
"""

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import uuid4

from adapters.document_store import DocumentStore, MemoryDocuments
from adapters.postgres import credentials
from adapters.postgres.auction_states import AuctionStates
from adapters.settings import Settings
from app import party_identifiers
from app.committee_candidates import committee_candidates
from app.policies import Changes
from app.records import Credential, HandOver, Identifier, PartyKeys
from app.store import StoreTransaction
from app.unit_of_work import Clock, Context, Decision, Outcome, utc_now
from bidding import committee_log, keys, ledger, reconfirmation, suites
from bidding import log as bid_log
from contracts import contract
from procurement import auction, claims, conditions_complaints, evaluation, parties, tender
from procurement.errors import NotFound
from schemas.auction import (
    AnyAuctionCommand,
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
    CancelTender,
    CloseTender,
    PublishTender,
    RegisterAgency,
    RegisterCommitteeKeys,
    RegisterOfficer,
    RegisterSupplier,
    Role,
)
from schemas.committee import ConfirmCommittee, NameCommittee
from schemas.conditions_complaints import AnyConditionsComplaintCommand
from schemas.contracts import AnyContractCommand, DrawContract, SignContract
from schemas.evaluation import AnyEvaluationCommand, ScoreQuality
from schemas.events import CommitteeKeysRegistered
from schemas.reconfirmations import ReconfirmBid
from schemas.values import AuctionRules

__all__ = ["Clock", "Outcome", "Services", "utc_now"]


@dataclass
class Services:
    """What the handlers share in one process: settings and the few caches of the edge."""

    settings: Settings
    identifiers: party_identifiers.Identifiers
    auctions: AuctionStates = field(default_factory=AuctionStates)
    tender_numbers: "TenderNumbers" = field(default_factory=lambda: TenderNumbers())
    documents: DocumentStore = field(default_factory=MemoryDocuments)  # procurement documents

    def token_expiry(self, ctx: Context) -> datetime:
        return ctx.now + self.settings.token_lifetime


def _decision(aggregate_id: str, version: int, events: list[Any], **more: Any) -> Decision:
    return Decision(Changes(aggregate_id, version, events), **more)


async def publish_tender(
    tx: StoreTransaction, command: PublishTender, ctx: Context, s: Services
) -> Decision:
    number = await s.tender_numbers.next(tx)
    tender_id = f"{ctx.now.year}-{number:06d}"
    ocid = f"{s.settings.ocid_prefix}-{tender_id}"
    events = tender.publish(
        command, ctx.actor, ctx.now, s.settings.rules, tender_id=tender_id, ocid=ocid
    )
    return _decision(ocid, 0, events)


async def change_tender(
    tx: StoreTransaction,
    command: AmendTender | CancelTender | CloseTender,
    ctx: Context,
    s: Services,
) -> Decision:
    history = [item.event for item in await tx.load(command.ocid)]
    state = tender.replay(history)
    if state is None:
        raise NotFound(f"there is no tender {command.ocid}")
    complaints = conditions_complaints.replay(
        command.ocid,
        (e.event for e in await tx.load(conditions_complaints.complaints_id(command.ocid))),
    )
    remedy_due = bool(conditions_complaints.awaiting_remedy(complaints, history))
    if isinstance(command, AmendTender):
        events = tender.amend(
            state, command, ctx.actor, ctx.now, s.settings.rules, remedy_due=remedy_due
        )
    elif isinstance(command, CancelTender):
        evaluated = evaluation.replay(
            e.event for e in await tx.load(evaluation.evaluation_id(command.ocid))
        )
        contracted = [] if evaluated is None else evaluation.contracted_lots(evaluated)
        events = tender.cancel(state, command, ctx.actor, contracted)
    else:
        conditions_complaints.tender_must_not_close_before_its_remedy(complaints, history)
        events = tender.close(state, command, ctx.actor, ctx.now)
    return _decision(command.ocid, state.version, events)


async def complain_about_conditions(
    tx: StoreTransaction, command: AnyConditionsComplaintCommand, ctx: Context, s: Services
) -> Decision:
    """A supplier's complaint about the tender's conditions, or the review body's ruling."""
    aggregate_id = conditions_complaints.complaints_id(command.ocid)
    history = await tx.load(aggregate_id)
    state = conditions_complaints.replay(command.ocid, (e.event for e in history))
    published = tender.replay([e.event for e in await tx.load(command.ocid)])
    events = conditions_complaints.decide(state, command, ctx.actor, ctx.now, published)
    return _decision(aggregate_id, len(history), events)


async def name_committee(
    tx: StoreTransaction, command: NameCommittee, ctx: Context, s: Services
) -> Decision:
    """The committee with each member's keys as its own registration recorded them."""
    state = tender.replay([e.event for e in await tx.load(command.ocid)])
    candidates = await committee_candidates(tx, command.members)
    registered = {}
    for officer_id in sorted(set(command.members)):
        history = [e.event for e in await tx.load(officer_id)]
        recorded = [e for e in history if isinstance(e, CommitteeKeysRegistered)]
        if recorded:
            latest = recorded[-1]
            registered[officer_id] = committee_log.RegisteredKeys(
                bytes(latest.encryption_key),
                bytes(latest.hybrid_encryption_key) if latest.hybrid_encryption_key else None,
                bytes(latest.signing_key),
            )
    log = await tx.bid_ledger(command.ocid)
    existing = log.committee if log else None
    events = committee_log.name_committee(
        state, command, ctx.actor, ctx.now, candidates, registered, existing
    )
    return _decision(bid_log.bid_log_id(command.ocid), 0, list(events))


async def confirm_committee(
    tx: StoreTransaction, command: ConfirmCommittee, ctx: Context, s: Services
) -> Decision:
    log = await tx.bid_ledger(command.ocid, lock=True)
    events = ledger.confirm(log, command.ocid, command.confirmation, ctx.actor)
    return _decision(bid_log.bid_log_id(command.ocid), log.version if log else 0, events)


async def reconfirm_bid(
    tx: StoreTransaction, command: ReconfirmBid, ctx: Context, s: Services
) -> Decision:
    """A bidder's signed word that its bid stands after a significant amendment."""
    item = command.reconfirmation
    log = await tx.bid_ledger(command.ocid, [item.bidder_id], lock=True)
    key = await tx.connection.fetchval(
        "SELECT signing_key FROM party_keys WHERE party_id = $1 AND role = 'supplier'",
        item.bidder_id,
    )
    valid = key is not None and reconfirmation.reconfirmation_signature_valid(item, bytes(key))
    events = ledger.reconfirm(log, item, ctx.actor, ctx.now, signature_valid=valid)
    return _decision(bid_log.bid_log_id(command.ocid), log.version if log else 0, events)


async def register_agency(
    tx: StoreTransaction, command: RegisterAgency, ctx: Context, s: Services
) -> Decision:
    agency_id = parties.agency_id_for(command.identifier)
    existing = await _agency(tx, agency_id)
    look_alike = await s.identifiers.look_alike(tx.connection, "agency", command.identifier)
    events = parties.register_agency(existing, command, ctx.actor, look_alike)
    return _decision(agency_id, 0, events, records=[Identifier("agency", command.identifier)])


async def register_officer(
    tx: StoreTransaction, command: RegisterOfficer, ctx: Context, s: Services
) -> Decision:
    agency = await _agency(tx, command.agency_id)
    officer_id = f"officer-{uuid4().hex[:16]}"
    events = parties.register_officer(agency, command, ctx.actor, officer_id=officer_id)
    token = credentials.new_token()
    officer = Actor(id=officer_id, role=command.role, agency_id=command.agency_id)
    kept = [Credential(token, officer, s.token_expiry(ctx))]
    return _decision(officer_id, 0, events, records=kept, token=token)


async def register_supplier(
    tx: StoreTransaction, command: RegisterSupplier, ctx: Context, s: Services
) -> Decision:
    supplier_id = parties.supplier_id_for(command.identifier)
    registered = bool(await tx.load(supplier_id))
    proof = keys.supplier_registration_fields(command.identifier, command.signing_key)
    proof_valid = keys.verify(command.signing_key, command.proof, keys.SUPPLIER_REGISTRATION, proof)
    look_alike = await s.identifiers.look_alike(tx.connection, "supplier", command.identifier)
    holder = look_alike or (command.identifier if registered else None)
    if holder is not None:  # the number is held, perhaps by a squatter: the operator decides
        claim_id = f"claim-{uuid4().hex[:16]}"
        claimed = claims.claim_registration(command, proof_valid, holder, claim_id=claim_id)
        return _decision(claim_id, 0, claimed)
    events = parties.register_supplier(registered, command, proof_valid, look_alike)
    token = credentials.new_token()
    kept = [
        Credential(token, Actor(id=supplier_id, role=Role.SUPPLIER), s.token_expiry(ctx)),
        Identifier("supplier", command.identifier),
        PartyKeys(supplier_id, Role.SUPPLIER, command.signing_key),
    ]
    return _decision(supplier_id, 0, events, records=kept, token=token)


async def decide_claim(
    tx: StoreTransaction, command: DecideRegistrationClaim, ctx: Context, s: Services
) -> Decision:
    """An accepted claimant gets its registration (``app.policies``), its key and a token
    the operator hands over; the holder is suspended."""
    history = [item.event for item in await tx.load(command.claim_id)]
    claim = claims.replay_claim(history)
    events = claims.decide_claim(claim, command, ctx.actor)
    if command.decision is not ClaimDecision.ACCEPT:
        return _decision(command.claim_id, len(history), events)
    assert claim is not None
    claimant = Actor(id=claim.claimed.claimant_id, role=Role.SUPPLIER)
    token = credentials.new_token()
    kept = [HandOver(claim.claimed), Credential(token, claimant, s.token_expiry(ctx))]
    return _decision(command.claim_id, len(history), events, records=kept, token=token)


async def register_committee_keys(
    tx: StoreTransaction, command: RegisterCommitteeKeys, ctx: Context, s: Services
) -> Decision:
    history = await tx.load(command.officer_id)
    registered = any(e.type == "CommitteeKeysRegistered" for e in history)
    fields = keys.committee_keys_fields(
        command.officer_id,
        command.encryption_key,
        command.signing_key,
        command.hybrid_encryption_key,
    )
    proof_valid = keys.verify(command.signing_key, command.proof, keys.COMMITTEE_KEYS, fields)
    unsealable = suites.unsealable_key(command.encryption_key, command.hybrid_encryption_key)
    events = parties.register_committee_keys(
        command, ctx.actor, proof_valid, registered, unsealable
    )
    kept = [
        PartyKeys(
            command.officer_id,
            Role.OFFICER,
            command.signing_key,
            agency_id=ctx.actor.agency_id,
            encryption_key=command.encryption_key,
        )
    ]
    return _decision(command.officer_id, len(history), events, records=kept)


async def evaluate(
    tx: StoreTransaction, command: AnyEvaluationCommand, ctx: Context, s: Services
) -> Decision:
    aggregate_id = evaluation.evaluation_id(command.ocid)
    history = await tx.load(aggregate_id)
    state = evaluation.replay(item.event for item in history)
    signature_valid = False
    if isinstance(command, ScoreQuality):  # signed with the member's committee key
        key = await tx.connection.fetchval(
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
    events = evaluation.decide(state, command, ctx.actor, ctx.now, signature_valid=signature_valid)
    return _decision(aggregate_id, len(history), events)


async def draw_or_sign_contract(
    tx: StoreTransaction, command: AnyContractCommand, ctx: Context, s: Services
) -> Decision:
    if isinstance(command, DrawContract):
        published = tender.replay([e.event for e in await tx.load(command.ocid)])
        evaluated = evaluation.replay(
            e.event for e in await tx.load(evaluation.evaluation_id(command.ocid))
        )
        number = 1  # each award of the lot has its own contract
        if evaluated is not None:
            evaluation.lot_must_have_an_award_to_contract(evaluated, command.lot_id)
            number = max(evaluated.lots[command.lot_id].awards_decided, 1)
        contract_id = contract.contract_id_for(command.ocid, command.lot_id, number)
        history = await tx.load(contract_id)
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
        return _decision(contract_id, len(history), events)
    history = await tx.load(command.contract_id)
    signer_key = None
    if isinstance(command, SignContract):  # the key the signer registered
        found = await tx.connection.fetchval(
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
    return _decision(command.contract_id, len(history), events)


async def run_auction(
    tx: StoreTransaction, command: AnyAuctionCommand, ctx: Context, s: Services
) -> Decision:
    """The auction's commands; its closing's result goes to the evaluation by policy."""
    aggregate_id = auction.auction_id(command.ocid, command.lot_id)
    state = await auction_state(tx, s.auctions, aggregate_id)
    if isinstance(command, ScheduleAuction):
        evaluated = evaluation.replay(
            e.event for e in await tx.load(evaluation.evaluation_id(command.ocid))
        )
        if evaluated is None:
            raise NotFound(f"the evaluation of {command.ocid} has not started")
        evaluation.lot_must_await_its_auction(evaluated, command.lot_id)
        published = tender.replay([e.event for e in await tx.load(command.ocid)])
        assert published is not None, f"{command.ocid} is evaluated but was never published"
        events = auction.schedule_from_evaluation(
            state,
            evaluated,
            published.requirements.auction or AuctionRules(),
            ctx.actor,
            lot_id=command.lot_id,
            starts_at=command.starts_at,
            now=ctx.now,
            notice=s.settings.rules.minimum_auction_notice,
        )
        return _decision(aggregate_id, 0, events)
    live = auction.auction_must_exist(state, aggregate_id)
    if isinstance(command, SubmitAuctionPrice):
        events = auction.submit_price(live, ctx.actor.id, command.price, ctx.now)
    elif isinstance(command, OpenAuction):
        events = auction.open_auction(live, ctx.actor, ctx.now)
    elif isinstance(command, CloseAuction):
        events = auction.close_if_due(live, ctx.actor, ctx.now)
    else:
        assert isinstance(command, CancelAuction)
        events = auction.cancel(live, ctx.actor, command.reason, ctx.now)
    return _decision(aggregate_id, live.version, events)


async def auction_state(
    tx: StoreTransaction, states: AuctionStates, auction_id: str
) -> auction.Auction | None:
    """The auction as this process last saw it, brought up to date with the events since:
    an auction takes hundreds of prices a second, too many to replay for each."""
    state = states.last_known(auction_id)
    for item in await tx.load(auction_id, after=state.version if state else 0):
        state = auction.evolve(state, item.event)
    states.remember(state)
    return state


async def _agency(tx: StoreTransaction, agency_id: str) -> parties.Agency | None:
    agency: parties.Agency | None = None
    for item in await tx.load(agency_id):
        agency = parties.evolve_agency(agency, item.event)
    return agency


class TenderNumbers:
    """Tender numbers from the database sequence, reserved a block at a time to spare a
    round trip per tender. Numbers are unique; like any sequence's, they may skip, and with
    several API processes, each drawing on its own block, they do not follow the order of
    publication: an ocid names a procedure, its release dates order them."""

    BLOCK = 20

    def __init__(self) -> None:
        self._free: deque[int] = deque()

    async def next(self, tx: StoreTransaction) -> int:
        if not self._free:
            self._free.extend(await tx.numbers("tender_numbers", self.BLOCK))
        return self._free.popleft()
