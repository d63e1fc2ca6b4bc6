"""One whole procedure driven through the pure domain, as the platform would drive it.

``World`` keeps the procedure's history as envelopes in store order (the tender, its bids,
its evaluation, each lot's auction and contract), decides each command with the domain's own
``decide`` functions and records what they accept. Where the platform reacts by itself (the
deadline closes the tender, the opening starts the evaluation, a closed auction's prices go
to the evaluation, a cancellation stops what follows it, both signatures conclude the lot) the
world calls ``app.policies``' own pure reactions, or does what they do with the same domain
calls where their input is the sealed log the world does not keep.

The sealed bid log (``bidding.ledger``) is not driven here: sealing and opening need each
bidder's and member's keys and the committee's key material, so bids are kept as receipts and
the prices they will open to, and the opening writes the ``BidOpened`` and ``BidRejected``
events the ceremony would, with ``bidding.opening``'s rules.

``progress`` lists every command, other than a cancellation, that some authorised actor could
give at a plausible time and that the domain accepts: a live procedure with none is stuck.
``violations`` names each broken invariant with the issue item it belongs to.

Where the world mirrors the platform rather than calling it, and so must follow it when the
platform changes: ``_opening`` (``app.opening.OpeningCeremony._open`` and
``app.policies.start_evaluation``), ``_follow`` (the policy table ``app.policies.POLICIES``),
``run_auction`` (the auction's timer), ``draw`` (``app.handlers.draw_or_sign_contract``),
``reconfirm`` (``app.bid_intake``'s reconfirmation, without the sealed log), and ``amend``,
``close`` and the complaints about the conditions (``app.handlers.change_tender`` and
``complain_about_conditions``: an upheld complaint holds the close and the opening).
"""

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app import policies
from bidding import keys
from bidding import opening as bid_opening
from bidding import reconfirmation as reconfirmations
from contracts import contract as contracts
from procurement import auction as auctions
from procurement import conditions_complaints as conditions
from procurement import evaluation as evaluations
from procurement import tender as tenders
from procurement.errors import Rejected
from procurement.evaluation.state import LIVE
from procurement.rules import ProcedureRules
from publication import ocds
from publication.savings import awarded_lots
from schemas.auction import AuctionClosed
from schemas.bids import BidContent, Receipt
from schemas.commands import Actor, AmendTender, CancelTender, CloseTender, PublishTender, Role
from schemas.conditions_complaints import (
    ConditionsComplaintUpheld,
    DismissConditionsComplaint,
    FileConditionsComplaint,
    UpholdConditionsComplaint,
)
from schemas.contracts import (
    ContractActivated,
    DrawContract,
    Party,
    Period,
    SignContract,
    TerminateContract,
)
from schemas.evaluation import (
    AcceptJustification,
    AnnulAward,
    AnnulmentReason,
    AnswerClarification,
    AnyEvaluationCommand,
    AwardAnnulled,
    AwardDecided,
    ComplaintSubject,
    CompleteLotEvaluation,
    DecideAward,
    DismissComplaint,
    LotCancelled,
    ProcedureCancelled,
    QualifyBid,
    RejectJustification,
    Remedy,
    RequestJustification,
    StartEvaluation,
    SubmitJustification,
    UpholdComplaint,
)
from schemas.events import (
    BidLogSealed,
    BidOpened,
    BidsOpened,
    Envelope,
    Event,
    TenderCancelled,
    TenderClosed,
    TenderRequirementsAmended,
    TenderUnsuccessful,
    envelope,
)
from schemas.values import AuctionRules, Item, Lot, ProcedureType, Requirements, Value

START = datetime(2030, 3, 2, 9, 0, tzinfo=UTC)
BUYER_ZONE = ZoneInfo("Europe/Bucharest")
DAY = timedelta(days=1)
RULES = ProcedureRules()

OCID = "ocds-000000-0911"
BUYER = "agency-RO-CUI-4305857"
OFFICER = Actor(id="officer-ana", role=Role.OFFICER, agency_id=BUYER)  # buyer and member
MEMBER = Actor(id="officer-dan", role=Role.OFFICER, agency_id=BUYER)
COMMITTEE = (OFFICER.id, MEMBER.id)
REVIEWER = Actor(id="reviewer-cnsc", role=Role.REVIEWER, agency_id="agency-CNSC")
SYSTEM = Actor(id="platform", role=Role.SYSTEM)
SUPPLIERS = tuple(f"supplier-RO-CUI-{n}" for n in (101, 102, 103, 104))
SIGNING_KEYS = {
    party: Ed25519PrivateKey.from_private_bytes(bytes([n]) * 32)
    for n, party in enumerate((OFFICER.id, *SUPPLIERS), 1)
}
LOTS = ("lot-1", "lot-2")
ESTIMATE = Decimal("1000.00")
PERIOD = Period(start_date=date(2030, 9, 1), end_date=date(2031, 8, 31))


def supplier(bidder_id: str) -> Actor:
    return Actor(id=bidder_id, role=Role.SUPPLIER)


def requirements(lots: int, *, auction: bool, estimate: Decimal = ESTIMATE) -> Requirements:
    return Requirements(
        cpv="30197630-1",
        lots=[
            Lot(
                id=lot_id,
                title=f"Office paper, part {n}",
                value=Value(amount=estimate, currency="RON"),
                items=[
                    Item(
                        id=f"{lot_id}-paper",
                        description="A4 paper, 80 g/m2",
                        cpv="30197630-1",
                        quantity=Decimal(500),
                        unit="ream",
                    )
                ],
            )
            for n, lot_id in enumerate(LOTS[:lots], 1)
        ],
        auction=AuctionRules() if auction else None,
    )


def bid_id(bidder_id: str) -> str:
    """Each bidder's bid, by its place among the suppliers: bid-1 is the first supplier's."""
    return f"bid-{SUPPLIERS.index(bidder_id) + 1}"


def auction_id(lot_id: str) -> str:
    return auctions.auction_id(OCID, lot_id)


@dataclass(frozen=True)
class Move:
    """A command some actor may give: what it is, and the decision that records it."""

    name: str
    decide: Callable[[], list[Event]]
    aggregate_id: str
    actor: Actor
    at: datetime


@dataclass(frozen=True)
class Violation:
    item: str  # the issue item it belongs to, e.g. "item 11", or "new"
    what: str


@dataclass
class World:
    """One procedure and its history; ``now`` only moves forward."""

    now: datetime = START
    history: list[Envelope] = field(default_factory=list)
    sequences: Counter[str] = field(default_factory=Counter)
    bids: dict[str, dict[str, Value]] = field(default_factory=dict)  # bidder -> lot -> price
    receipts: dict[str, Receipt] = field(default_factory=dict)  # bidder -> its current bid's
    entries: int = 0  # the bid log's entries: bids, new versions and withdrawals
    awaited: dict[str, reconfirmations.Awaited] = field(default_factory=dict)  # by bidder
    reconfirmed: dict[str, datetime] = field(default_factory=dict)  # bidder -> when, lastly
    valid_until: dict[str, date] = field(default_factory=dict)  # bidder -> its bid's validity
    opened: bool = False  # the opening ran and its bids are recorded
    award_ids: list[str] = field(default_factory=list)  # every award made, in order
    refused: list[str] = field(default_factory=list)  # commands the domain refused
    published: tuple[int, list["Violation"]] = (0, [])  # OCDS checked at this history length

    # The history

    def record(self, aggregate_id: str, events: list[Event], actor: Actor | str) -> None:
        """Append the events, then what the platform's policies do in reaction to each."""
        added = []
        for event in events:
            self.sequences[aggregate_id] += 1
            added.append(
                envelope(
                    event,
                    event_id=UUID(int=len(self.history) + 1),
                    aggregate_id=aggregate_id,
                    sequence=self.sequences[aggregate_id],
                    actor=actor if isinstance(actor, str) else actor.id,
                    occurred_at=self.now,
                )
            )
            self.history.append(added[-1])
            if isinstance(event, AwardDecided):
                self.award_ids.append(
                    evaluations.award_id(event.lot_id, event.bid_id, event.award_number)
                )
        for item in added:
            for change in self._follow(item):
                self.record(change.aggregate_id, list(change.events), change.actor or item.actor)

    def _follow(self, item: Envelope) -> list[policies.Changes]:
        """What ``app.policies.POLICIES`` adds after the event, with its own pure reactions
        where the world holds what they read."""
        event = item.event
        if isinstance(event, TenderClosed):  # the log is sealed; empty, the tender ends
            sealed = BidLogSealed(tree_size=self.entries, root="ab" * 32)
            return [policies.Changes(f"{OCID}:bids", 0, [sealed], item.actor)]
        if isinstance(event, BidLogSealed):
            return policies.unsuccessful_without_bids(item, self.tender)
        if isinstance(event, TenderRequirementsAmended):  # the bids sent wait for their word
            requested = reconfirmations.request_reconfirmation(
                self.receipts.values(),
                reconfirmations.requirements_sha256(event.requirements),
                event.reason,
            )
            self.awaited |= {r.bidder_id: reconfirmations.awaiting(r) for r in requested}
            return []
        if isinstance(event, TenderCancelled | ProcedureCancelled | LotCancelled | AwardAnnulled):
            return policies.stop_what_follows(item, self._procedure(item))
        if isinstance(event, AuctionClosed):  # the final prices go to the evaluation
            scheduled = auctions.replay(self.events(item.aggregate_id)[:1])
            return policies.record_auction_result(
                item, (scheduled, self.events(self.evaluation_id))
            )
        if isinstance(event, ContractActivated):
            drawn = contracts.replay(self.events(item.aggregate_id)[:1])
            evaluated = [e for e in self.history if e.aggregate_id == self.evaluation_id]
            return policies.record_contract_concluded(item, (drawn, evaluated))
        return []

    def _procedure(self, cause: Envelope) -> policies._Procedure:
        """What ``app.policies._read_procedure`` reads from the store."""
        evaluated = self.evaluation
        drawn, versions, scheduled = {}, {}, {}
        for lot_id, number in policies._affected(cause.event, evaluated):
            drawn_id = contracts.contract_id_for(OCID, lot_id, number)
            drawn[drawn_id] = contracts.replay(self.events(drawn_id))
            versions[drawn_id] = len(self.events(drawn_id))
            scheduled[auction_id(lot_id)] = self.auction(lot_id)
        version = len(self.events(self.evaluation_id))
        return policies._Procedure(self.tender, evaluated, version, drawn, versions, scheduled)

    def events(self, aggregate_id: str) -> list[Event]:
        return [item.event for item in self.history if item.aggregate_id == aggregate_id]

    def attempt(self, move: Move) -> bool:
        """Decide the move and record what it decides; False when the domain refuses it."""
        self.now = max(self.now, move.at)
        try:
            events = move.decide()
        except Rejected as refusal:
            self.refused.append(f"{move.name}: {refusal.code}")
            return False
        self.record(move.aggregate_id, events, move.actor)
        return True

    @property
    def tender(self) -> tenders.Tender | None:
        return tenders.replay(self.events(OCID))

    evaluation_id = evaluations.evaluation_id(OCID)

    @property
    def evaluation(self) -> evaluations.Evaluation | None:
        return evaluations.replay(self.events(self.evaluation_id))

    def contract_id(self, lot_id: str) -> str:
        """The contract of the lot's latest award: each award has its own."""
        evaluated = self.evaluation
        lot = evaluated.lots.get(lot_id) if evaluated is not None else None
        return contracts.contract_id_for(OCID, lot_id, max(lot.awards_decided, 1) if lot else 1)

    def contract(self, lot_id: str) -> contracts.Contract | None:
        return contracts.replay(self.events(self.contract_id(lot_id)))

    def auction(self, lot_id: str) -> auctions.Auction | None:
        return auctions.replay(self.events(auction_id(lot_id)))

    complaints_id = conditions.complaints_id(OCID)

    @property
    def complaints(self) -> conditions.ConditionsComplaints | None:
        return conditions.replay(OCID, self.events(self.complaints_id))

    def awaiting_remedy(self) -> list[str]:
        """The upheld complaints about the conditions the buyer has not yet remedied."""
        return conditions.awaiting_remedy(self.complaints, self.events(OCID))

    def held(self) -> bool:
        """The tender, past its deadline or not, is held open until its remedy."""
        tender = self.tender
        return (
            tender is not None
            and tender.status is tenders.TenderStatus.ACTIVE
            and bool(self.awaiting_remedy())
        )

    # The tender

    def publish(self, lots: int, *, auction: bool) -> None:
        command = PublishTender(
            title="Office paper for 2031",
            description="A4 paper delivered monthly to the town hall.",
            procedure_type=ProcedureType.OPEN_WITH_AUCTION if auction else ProcedureType.OPEN,
            requirements=requirements(lots, auction=auction),
            submission_deadline=self.now + 31 * DAY,
        )
        events = tenders.publish(command, OFFICER, self.now, RULES, tender_id="t-911", ocid=OCID)
        self.record(OCID, events, OFFICER)

    def amend(self, *, estimate: Decimal | None = None, drop_last_lot: bool = False) -> Move:
        """An officer changes the requirements: a lot's estimate, or one lot less."""
        tender = self.tender
        assert tender is not None
        lots = list(tender.requirements.lots)
        if drop_last_lot and len(lots) > 1:
            lots = lots[:-1]
        if estimate is not None:
            lots = [
                lot.model_copy(update={"value": Value(amount=estimate, currency="RON")})
                for lot in lots
            ]
        changed = tender.requirements.model_copy(update={"lots": lots})
        command = AmendTender(ocid=OCID, reason="The quantities were revised", requirements=changed)
        due = bool(self.awaiting_remedy())  # as app.handlers.change_tender reads it
        return Move(
            "amend",
            lambda: tenders.amend(tender, command, OFFICER, self.now, RULES, remedy_due=due),
            OCID,
            OFFICER,
            self.now,
        )

    def cancel_tender(self) -> Move:
        tender = self.tender
        assert tender is not None
        command = CancelTender(ocid=OCID, reason="The budget was withdrawn")
        return Move(
            "cancel tender",
            lambda: tenders.cancel(tender, command, OFFICER),
            OCID,
            OFFICER,
            self.now,
        )

    # Complaints about the conditions, on "<ocid>:complaints" (app.handlers.complain_about_conditions)

    def complain_about_conditions(self, supplier_id: str) -> Move:
        """A registered supplier, bidder or not, asks the review body to review the conditions."""
        state, tender, actor = self.complaints, self.tender, supplier(supplier_id)
        command = FileConditionsComplaint(ocid=OCID, grounds="The paper grade favours one mill.")
        return Move(
            "complain about the conditions",
            lambda: conditions.decide(state, command, actor, self.now, tender),
            self.complaints_id,
            actor,
            self.now,
        )

    def rule_on_conditions(self, complaint_id: str, *, uphold: bool) -> Move:
        """A review officer of another body than the buyer's upholds or dismisses it."""
        state, tender = self.complaints, self.tender
        names = {"ocid": OCID, "complaint_id": complaint_id}
        command = (
            UpholdConditionsComplaint(**names, reason="The grade is a brand in disguise.")
            if uphold
            else DismissConditionsComplaint(**names, reason="Any mill makes that grade.")
        )
        return Move(
            "uphold" if uphold else "dismiss",
            lambda: conditions.decide(state, command, REVIEWER, self.now, tender),
            self.complaints_id,
            REVIEWER,
            self.now,
        )

    # Bids, kept as the prices they open to

    def bidding_open(self) -> bool:
        tender = self.tender
        return (
            tender is not None
            and tender.status is tenders.TenderStatus.ACTIVE
            and self.now < tender.submission_deadline
        )

    def submit(
        self, bidder_id: str, prices: dict[str, Value], valid_until: date = date(2031, 9, 1)
    ) -> None:
        """A bid, or a new version of the bidder's bid: it stands as sent, so a
        reconfirmation it was awaited for is no longer needed."""
        assert self.bidding_open()
        self.bids[bidder_id] = prices
        self.valid_until[bidder_id] = valid_until
        previous = self.receipts.get(bidder_id)
        self.receipts[bidder_id] = Receipt(
            kind="bid",
            bid_id=bid_id(bidder_id),
            ocid=OCID,
            bidder_id=bidder_id,
            lots=tuple(prices),
            version=previous.version + 1 if previous else 1,
            ciphertext_sha256="cd" * 32,
            received_at=self.now,
        )
        self.awaited.pop(bidder_id, None)
        self.entries += 1
        self.now += timedelta(minutes=1)

    def withdraw(self, bidder_id: str) -> None:
        assert self.bidding_open()
        if self.bids.pop(bidder_id, None) is not None:
            self.receipts.pop(bidder_id)
            self.awaited.pop(bidder_id, None)
            self.entries += 1

    def reconfirm(self, bidder_id: str) -> bool:
        """The bidder signs that its bid stands on the amended requirements, with
        ``bidding.reconfirmation``'s rules (the bid log's own checks aside); False when
        they refuse it."""
        tender, receipt = self.tender, self.receipts.get(bidder_id)
        assert tender is not None
        assert self.bidding_open()
        digest = reconfirmations.requirements_sha256(tender.requirements)
        item = reconfirmations.reconfirm_bid(
            OCID, bidder_id, bid_id(bidder_id), digest, SIGNING_KEYS[bidder_id]
        )
        try:
            awaited = reconfirmations.bid_must_await_reconfirmation(
                self.awaited.get(bidder_id), item
            )
            reconfirmations.reconfirmation_must_name_the_latest_amendment(awaited, item)
        except Rejected as refusal:
            self.refused.append(f"reconfirm: {refusal.code}")
            return False
        assert receipt is not None
        if not set(receipt.lots) <= {lot.id for lot in tender.requirements.lots}:
            self.refused.append("reconfirm: unknown_lot")
            return False
        del self.awaited[bidder_id]
        self.reconfirmed[bidder_id] = self.now
        return True

    def close(self) -> Move:
        """The deadline passes and the platform closes the tender."""
        tender = self.tender
        assert tender is not None
        at = max(self.now, tender.submission_deadline)
        complaints, history = self.complaints, self.events(OCID)

        def decide() -> list[Event]:
            conditions.tender_must_not_close_before_its_remedy(complaints, history)
            return tenders.close(tender, CloseTender(ocid=OCID), SYSTEM, at)

        return Move(
            "close",
            decide,
            OCID,
            SYSTEM,
            at,
        )

    def _opening(self) -> tuple[list[Event], str, list[Event]]:
        """What the opening records in the bid log, then where its start goes and what it
        records: the evaluation's start, or the tender's unsuccessful end when no bid opened.
        Each bid is opened or rejected on its own (``app.opening``, ``bidding.opening``)."""
        tender = self.tender
        assert tender is not None
        if tender.status is not tenders.TenderStatus.CLOSED or self.opened:
            raise Rejected("the bids open once, after the close", code="not_closed")
        conditions.bids_must_not_be_opened_before_the_remedy(self.complaints, self.events(OCID))
        currencies = {lot.id: lot.value.currency for lot in tender.requirements.lots}
        results = [
            bid_opening.bid_must_fit_the_tender(
                bid_opening.Opened(
                    receipt.bid_id,
                    bidder,
                    receipt.version,
                    _content(bidder, self.bids[bidder], self.valid_until[bidder]),
                ),
                currencies,
            )
            for bidder, receipt in sorted(self.receipts.items())
            if bidder not in self.awaited
        ]
        results += [
            bid_opening.not_reconfirmed(self.receipts[bidder], awaited)
            for bidder, awaited in sorted(self.awaited.items())
        ]
        opened = [r.event() for r in results if r.content is not None]
        summary = BidsOpened(
            participants=list(COMMITTEE),
            opened=len(opened),
            rejected=len(results) - len(opened),
            tree_size=self.entries,
            root="ab" * 32,
            log_matches_root=True,
        )
        logged: list[Event] = [*(r.event() for r in results), summary]
        if not opened:  # app.policies.start_evaluation: the tender ends unsuccessful
            why = f"none of its bids could be opened ({summary.rejected} rejected)"
            ended = TenderUnsuccessful(reason=f"The tender closed with no bid to evaluate: {why}.")
            return logged, OCID, [ended]
        command = StartEvaluation(
            ocid=OCID,
            facts=evaluations.facts_from_tender(tender, COMMITTEE, sorted(self.receipts)),
            bids=tuple(
                evaluations.opened_bid(bid, self.receipts[bid.bidder_id].received_at)
                for bid in opened
                if isinstance(bid, BidOpened)
            ),
        )
        return logged, self.evaluation_id, evaluations.decide(None, command, SYSTEM, self.now)

    def open_bids(self) -> Move:
        """The committee opens the bids and the evaluation starts (the check: see ``open``)."""
        return Move("open bids", lambda: self._opening()[2], self.evaluation_id, SYSTEM, self.now)

    def open(self) -> bool:
        """Open the bids and start the evaluation, or record nothing when it is refused."""
        try:
            log_events, started_in, started = self._opening()
        except Rejected as refusal:
            self.refused.append(f"open bids: {refusal.code}")
            return False
        self.record(f"{OCID}:bids", log_events, SYSTEM)
        self.record(started_in, started, SYSTEM)
        self.opened = True
        return True

    # The evaluation

    def evaluate(
        self, name: str, command: AnyEvaluationCommand, actor: Actor, at: datetime | None = None
    ) -> Move:
        state, when = self.evaluation, at or self.now
        return Move(
            name,
            lambda: evaluations.decide(state, command, actor, when, signature_valid=True),
            self.evaluation_id,
            actor,
            when,
        )

    # The auction of a lot, run by the platform with the bidders' prices

    def schedule_auction(self, lot_id: str) -> Move:
        state, evaluated = self.auction(lot_id), self.evaluation
        assert evaluated is not None
        tender = self.tender
        assert tender is not None
        rules = tender.requirements.auction

        def decide() -> list[Event]:
            if rules is None:
                raise Rejected(f"{OCID} has no auction", code="no_auction")
            return auctions.schedule_from_evaluation(
                state,
                evaluated,
                rules,
                SYSTEM,
                lot_id=lot_id,
                starts_at=self.now + 3 * DAY,
                now=self.now,
            )

        return Move(f"schedule auction {lot_id}", decide, auction_id(lot_id), SYSTEM, self.now)

    def run_auction(self, lot_id: str, cuts: dict[str, Decimal]) -> bool:
        """Open the scheduled auction, take each bidder's price (``cuts``: bidder -> new
        price), close it and hand its result to the evaluation, as the platform does."""
        state = self.auction(lot_id)
        if state is None or state.status is not auctions.AuctionStatus.SCHEDULED:
            return False
        self.now = max(self.now, state.starts_at)
        self.record(auction_id(lot_id), auctions.open_auction(state, SYSTEM, self.now), SYSTEM)
        for bidder_id, price in sorted(cuts.items()):
            live = self.auction(lot_id)
            assert live is not None
            self.now += timedelta(seconds=10)
            self.record(
                auction_id(lot_id),
                auctions.submit_price(live, bidder_id, price, self.now),
                supplier(bidder_id),
            )
        live = self.auction(lot_id)
        assert live is not None
        self.now = max(self.now, auctions.closes_at(live))
        before = len(self.history)
        self.record(auction_id(lot_id), auctions.close_if_due(live, SYSTEM, self.now), SYSTEM)
        return any(item.aggregate_id == self.evaluation_id for item in self.history[before:])

    # Contracts

    def draw(self, lot_id: str, at: datetime | None = None) -> Move:
        tender, evaluated, state, when = (
            self.tender,
            self.evaluation,
            self.contract(lot_id),
            at or self.now,
        )

        def decide() -> list[Event]:
            award = None
            if evaluated is not None:
                evaluations.lot_must_have_an_award_to_contract(evaluated, lot_id)
            if tender is not None and evaluated is not None:
                award = contracts.award_facts(tender, evaluated, lot_id)
            may = evaluated is not None and evaluations.contract_may_be_signed(
                evaluated, lot_id, when
            )
            command = DrawContract(ocid=OCID, lot_id=lot_id, period=PERIOD)
            return contracts.decide(
                state,
                command,
                OFFICER,
                when,
                award=award,
                contract_id=self.contract_id(lot_id),
                may_be_signed=may,
            )

        return Move(f"draw {lot_id}", decide, self.contract_id(lot_id), OFFICER, when)

    def sign(self, lot_id: str, actor: Actor) -> Move:
        state = self.contract(lot_id)

        def decide() -> list[Event]:
            drawn = contracts.contract_must_be_drawn(state, self.contract_id(lot_id))
            party = Party.BUYER if actor.role is Role.OFFICER else Party.SUPPLIER
            fields = contracts.signature_fields(
                drawn.contract_id, drawn.drawn.document_sha256, party
            )
            key = SIGNING_KEYS[actor.id]
            command = SignContract(
                contract_id=drawn.contract_id,
                signature=keys.sign(key, contracts.CONTRACT_SIGNATURE, fields),
            )
            return contracts.decide(
                drawn, command, actor, self.now, signer_key=keys.raw_public(key)
            )

        return Move(
            f"sign {lot_id} as {actor.id}", decide, self.contract_id(lot_id), actor, self.now
        )

    def annul(self, lot_id: str, reason: AnnulmentReason = AnnulmentReason.REFUSED_TO_SIGN) -> Move:
        """The buyer annuls the lot's award: the winner refuses, or fails its checks."""
        command = AnnulAward(ocid=OCID, lot_id=lot_id, reason_code=reason, reason="As recorded")
        return self.evaluate("annul", command, OFFICER)

    def terminate(self, lot_id: str) -> Move:
        state = self.contract(lot_id)
        command = TerminateContract(
            contract_id=self.contract_id(lot_id), reason="The supplier refused to sign"
        )
        return Move(
            f"terminate {lot_id}",
            lambda: contracts.decide(state, command, OFFICER, self.now),
            self.contract_id(lot_id),
            OFFICER,
            self.now,
        )

    # What could move the procedure toward an end

    def lots_live(self) -> list[str]:
        """The lots not at an end (contracted, unsuccessful or cancelled), of a tender that
        has not ended either."""
        tender = self.tender
        if tender is None or tender.status in (
            tenders.TenderStatus.CANCELLED,
            tenders.TenderStatus.UNSUCCESSFUL,
        ):
            return []
        evaluated = self.evaluation
        if evaluated is None:
            return [lot.id for lot in tender.requirements.lots]
        if evaluated.cancelled:
            return []
        return [lot_id for lot_id, lot in evaluated.lots.items() if lot.status in LIVE]

    def progress(self, lot_id: str) -> Iterator[Move]:
        """Every command other than a cancellation that an authorised actor may give for the
        lot, now or once a period ran out (a clarification's, a standstill's); and while an
        upheld complaint holds the tender, the buyer's remedies, its cancellation among them."""
        tender = self.tender
        assert tender is not None
        evaluated = self.evaluation
        if evaluated is None and self.awaiting_remedy():
            yield from self._remedies()
        if tender.status is tenders.TenderStatus.ACTIVE:
            yield self.close()
            return
        if evaluated is None:
            yield self.open_bids()
            return
        later = self.now + 40 * DAY  # past any time to answer and any standstill
        lot = evaluated.lots[lot_id]
        for when in (self.now, later):
            for bid in evaluated.bids.values():
                decision = lot.decisions.get(bid.bid_id)
                undecided = decision is None or not decision.admissible
                if (
                    lot.status is evaluations.LotStatus.EVALUATION
                    and lot_id in bid.lot_ids
                    and undecided
                ):
                    qualify = QualifyBid(ocid=OCID, bid_id=bid.bid_id, lot_id=lot_id)
                    yield self.evaluate("qualify", qualify, MEMBER, when)
            yield self.evaluate(
                "complete", CompleteLotEvaluation(ocid=OCID, lot_id=lot_id), OFFICER, when
            )
            yield self.evaluate("award", DecideAward(ocid=OCID, lot_id=lot_id), OFFICER, when)
            for bid_id in lot.flags or {}:
                yield from self._justification_moves(lot_id, bid_id, when)
            yield self.draw(lot_id, when)
        yield self.annul(lot_id)
        for request in evaluated.clarifications.values():
            if lot_id not in request.lot_ids:  # a question about the bid for another lot
                continue
            answer = AnswerClarification(ocid=OCID, request_id=request.request_id, answer="Yes.")
            yield self.evaluate("answer", answer, supplier(request.bidder_id))
        for complaint in evaluated.complaints.values():
            if complaint.lot_id != lot_id:
                continue
            name = f"rule on the {complaint.subject}"
            for ruling in (
                DismissComplaint(
                    ocid=OCID, complaint_id=complaint.complaint_id, reason="No grounds"
                ),
                UpholdComplaint(
                    ocid=OCID,
                    complaint_id=complaint.complaint_id,
                    remedy=Remedy.ANNUL_CANCELLATION
                    if complaint.subject is ComplaintSubject.CANCELLATION
                    else Remedy.RE_EVALUATE,
                    reason="Grounds",
                ),
            ):
                yield self.evaluate(name, ruling, REVIEWER)
        if tender.requirements.auction is not None:
            yield self.schedule_auction(lot_id)
            state = self.auction(lot_id)
            if state is not None and state.status is auctions.AuctionStatus.SCHEDULED:
                scheduled = state  # the platform's timer opens it when it is due
                opening = lambda: auctions.open_auction(scheduled, SYSTEM, scheduled.starts_at)  # noqa: E731
                yield Move("run auction", opening, auction_id(lot_id), SYSTEM, state.starts_at)
        contract = self.contract(lot_id)
        if contract is not None:
            yield self.sign(lot_id, OFFICER)
            yield self.sign(lot_id, supplier(contract.supplier_id))

    def _remedies(self) -> Iterator[Move]:
        """The buyer's legal moves while an upheld complaint holds the tender: a significant
        amendment (only while the tender is open), or its cancellation."""
        tender = self.tender
        assert tender is not None
        estimate = tender.requirements.lots[0].value.amount
        yield self.amend(estimate=ESTIMATE if estimate != ESTIMATE else 2 * ESTIMATE)
        yield self.cancel_tender()

    def _justification_moves(self, lot_id: str, bid_id: str, when: datetime) -> Iterator[Move]:
        evaluated = self.evaluation
        assert evaluated is not None
        bidder = supplier(evaluated.bids[bid_id].bidder_id)
        names = {"ocid": OCID, "lot_id": lot_id, "bid_id": bid_id}
        request = RequestJustification(
            **names, question="How is this price possible?", respond_by=when + 5 * DAY
        )
        yield self.evaluate("request justification", request, OFFICER, when)
        yield self.evaluate(
            "justify", SubmitJustification(**names, justification="Own stock."), bidder, when
        )
        yield self.evaluate(
            "accept", AcceptJustification(**names, reason="Convincing"), OFFICER, when
        )
        yield self.evaluate(
            "reject", RejectJustification(**names, reason="Not convincing"), OFFICER, when
        )

    def stuck(self) -> list[str]:
        """The live lots for which no actor has any command, other than a cancellation, that
        the domain accepts."""
        found = []
        for lot_id in self.lots_live():
            if not any(accepted(move) for move in self.progress(lot_id)):
                found.append(lot_id)
        return found

    # What is published

    def releases(self) -> list[dict[str, Any]]:
        return ocds.releases(self.history, {})

    def violations(self) -> list[Violation]:
        return [
            *self._stuck_violations(),
            *self._cancellation_violations(),
            *self._ocds_checked(),
            *self._tie_violations(),
            *self._amendment_violations(),
            *self._standstill_violations(),
            *self._concluded_violations(),
            *self._savings_violations(),
            *self._remedy_violations(),
        ]

    def _remedy_violations(self) -> Iterator[Violation]:
        """Once a complaint about the conditions is upheld, the tender neither closes nor has
        its bids opened until the buyer amends its requirements or cancels it."""
        awaited = False
        for item in self.history:
            event = item.event
            if isinstance(event, ConditionsComplaintUpheld):
                awaited = True
            elif isinstance(event, TenderRequirementsAmended | TenderCancelled):
                awaited = False
            elif awaited and isinstance(event, TenderClosed | BidsOpened):
                what = f"{type(event).__name__} while an upheld complaint awaits its remedy"
                yield Violation("item 8", what)

    def _cancellation_violations(self) -> Iterator[Violation]:
        """Once the tender, the procedure or a lot is cancelled, nothing moves it on."""
        tender, evaluated = self.tender, self.evaluation
        if tender is None:
            return
        whole = tender.status is tenders.TenderStatus.CANCELLED or (
            evaluated is not None and evaluated.cancelled
        )
        for lot in tender.requirements.lots:
            lot_cancelled = (
                evaluated is not None
                and lot.id in evaluated.lots
                and evaluated.lots[lot.id].status is evaluations.LotStatus.CANCELLED
            )
            if not (whole or lot_cancelled):
                continue
            for move in self.progress(lot.id):
                # The review of a lot's cancellation is what the cancellation still allows.
                allowed = ["close"] if whole else ["close", f"rule on the {_CANCELLATION}"]
                if move.name not in allowed and accepted(move):
                    yield Violation(
                        "item 5", f"{move.name} of {lot.id} is accepted after the cancellation"
                    )

    def _tie_violations(self) -> Iterator[Violation]:
        """An auction lot is awarded to the first of the auction's ranking when it still
        competes: one tie-break rule."""
        evaluated = self.evaluation
        if evaluated is None:
            return
        for lot_id, lot in evaluated.lots.items():
            closed = [e for e in self.events(auction_id(lot_id)) if isinstance(e, AuctionClosed)]
            if lot.award is None or lot.final_prices is None or not closed:
                continue
            first = closed[-1].ranking[0].bid_id
            competing = {row.bid_id for row in evaluations.ranking(evaluated, lot_id)}
            if first in competing and first != lot.award.bid_id:
                yield Violation(
                    "item 6",
                    f"the auction of {lot_id} ranks {first} first, the award went to {lot.award.bid_id}",
                )

    def _stuck_violations(self) -> Iterator[Violation]:
        tender, evaluated = self.tender, self.evaluation
        for lot_id in self.stuck():
            yield Violation(_why_stuck(self, tender, evaluated, lot_id), f"lot {lot_id} is stuck")

    def _ocds_checked(self) -> list[Violation]:
        """What OCDS publishes changes only with the history: checked once per new event."""
        if self.published[0] != len(self.history):
            self.published = (len(self.history), list(self._ocds_violations()))
        return self.published[1]

    def _ocds_violations(self) -> Iterator[Violation]:
        written = self.releases()
        if not written:
            return
        last = written[-1]
        awards = last.get("awards", [])
        contracts_published = last.get("contracts", [])
        if last["tender"]["status"] == "cancelled":
            for award in awards:
                if award["status"] in ("pending", "active"):
                    yield Violation(
                        "item 5",
                        f"the cancelled tender has a {award['status']} award {award['id']}",
                    )
            for published in contracts_published:
                if published["status"] == "pending":
                    yield Violation(
                        "item 5", f"the cancelled tender has a pending contract {published['id']}"
                    )
        for award in awards:
            if award["status"] != "active":
                continue
            lot_id = award["relatedLots"][0]
            contract = self.contract(lot_id)
            if contract is None or contract.status is contracts.ContractStatus.TERMINATED:
                unsigned = contract is not None and contract.activated_at is None
                yield Violation(
                    "unsigned termination" if unsigned else "item 4",
                    f"award {award['id']} is active but its contract can never be concluded",
                )
        repeated = sorted(award for award, n in Counter(self.award_ids).items() if n > 1)
        if repeated:
            yield Violation("item 4", f"award ids {repeated} were given to more than one award")

    def _amendment_violations(self) -> Iterator[Violation]:
        """A bid sent before a significant amendment is evaluated only once reconfirmed."""
        evaluated = self.evaluation
        amended = [
            item.occurred_at
            for item in self.history
            if isinstance(item.event, TenderRequirementsAmended)
        ]
        if evaluated is None or not amended:
            return
        for bid in evaluated.bids.values():
            confirmed = self.reconfirmed.get(bid.bidder_id)
            if bid.received_at < amended[-1] and (confirmed is None or confirmed < amended[-1]):
                what = f"bid {bid.bid_id}, sent before the requirements changed, is evaluated"
                what += " unconfirmed"
                yield Violation("item 2", what)

    def _standstill_violations(self) -> Iterator[Violation]:
        """The standstill ends no sooner than the end of the 10th day after the award, in the
        buyer's time zone (Directive 89/665/EEC, Article 2a(2))."""
        evaluated = self.evaluation
        for lot_id, lot in (evaluated.lots if evaluated else {}).items():
            if lot.award is None:
                continue
            decided = lot.award.decided_at.astimezone(BUYER_ZONE).date()
            earliest = datetime.combine(decided + 11 * DAY, time(0), BUYER_ZONE)
            if lot.award.standstill_ends < earliest:
                ends = lot.award.standstill_ends.isoformat()
                what = f"the standstill of {lot_id} ends at {ends}, before {earliest.isoformat()}"
                yield Violation("item 7", what)

    def _concluded_violations(self) -> Iterator[Violation]:
        """A lot whose contract both parties signed is not cancelled: only the contract ends."""
        tender, evaluated = self.tender, self.evaluation
        if tender is None or evaluated is None:
            return
        for lot_id, lot in evaluated.lots.items():
            contract = self.contract(lot_id)
            concluded = contract is not None and contract.activated_at is not None
            cancelled = (
                lot.status is evaluations.LotStatus.CANCELLED
                or tender.status is tenders.TenderStatus.CANCELLED
            )
            if concluded and cancelled:
                yield Violation("item 5", f"lot {lot_id} was cancelled after its contract")

    def _savings_violations(self) -> Iterator[Violation]:
        tender, evaluated = self.tender, self.evaluation
        if tender is None or evaluated is None:
            return
        for counted in awarded_lots(tender, evaluated):
            contract = self.contract(counted.lot_id)
            concluded = contract is not None and contract.status in (
                contracts.ContractStatus.ACTIVE,
                contracts.ContractStatus.COMPLETED,
            )
            if not concluded or tender.status is tenders.TenderStatus.CANCELLED:
                yield Violation(
                    "savings", f"savings count lot {counted.lot_id}, whose award is not concluded"
                )


_CANCELLATION = ComplaintSubject.CANCELLATION


def accepted(move: Move) -> bool:
    try:
        move.decide()
    except Rejected:
        return False
    return True


def _why_stuck(
    world: World,
    tender: tenders.Tender | None,
    evaluated: evaluations.Evaluation | None,
    lot_id: str,
) -> str:
    """The issue item a stuck lot belongs to, read from its state."""
    if evaluated is None:
        if world.awaiting_remedy():
            return "item 8"
        return "item 11" if not world.bids else "item 1"
    lot = evaluated.lots[lot_id]
    contract = world.contract(lot_id)
    if lot.status is evaluations.LotStatus.AWARDED and contract is not None:
        return "item 4"
    if lot.status is evaluations.LotStatus.AUCTION or lot.auction is not None:
        return "item 3"
    if not evaluations.admissible_bids(evaluated, lot_id) or not evaluations.ranking(
        evaluated, lot_id
    ):
        return "item 11"
    return "new"


def _content(bidder_id: str, prices: dict[str, Value], valid_until: date) -> BidContent:
    offers = [{"lot_id": lot, "price": price.model_dump()} for lot, price in prices.items()]
    return BidContent.model_validate(
        {
            "ocid": OCID,
            "bidder_id": bidder_id,
            "offers": offers,
            "valid_until": valid_until.isoformat(),
            "declaration": {
                "no_exclusion_grounds": True,
                "meets_selection_criteria": True,
                "is_sme": True,
            },
        }
    )
