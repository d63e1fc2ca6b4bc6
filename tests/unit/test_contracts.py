"""Contracts: a whole life worked by hand, every step out of order, signatures by the wrong key,
the lifecycle table, and properties over random command sequences."""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from bidding import keys
from contracts.contract import (
    AMENDMENT_LIMITS,
    CONTRACT_SIGNATURE,
    DOCUMENT_FORMAT,
    LIFECYCLE,
    AmendmentLimits,
    Contract,
    ContractStatus,
    award_facts,
    cancel_with_the_award,
    contract_document,
    decide,
    document_of,
    document_sha256,
    draw,
    evolve,
    ocds_status,
    replay,
    signature_fields,
    signature_verifies,
)
from procurement.errors import NotAllowed, NotFound, Rejected, WrongState
from procurement.evaluation import contract_may_be_signed, facts_from_tender
from procurement.evaluation import decide as decide_evaluation
from procurement.evaluation import replay as replay_evaluation
from schemas.commands import Actor, Role
from schemas.contracts import (
    CONTRACT_EVENTS,
    AmendContract,
    AnyContractCommand,
    AnyContractEvent,
    AwardFacts,
    CompleteContract,
    ContractActivated,
    ContractAmended,
    ContractCompleted,
    ContractDrawn,
    ContractSigned,
    ContractTerminated,
    DrawContract,
    MilestoneRecorded,
    MilestoneStatus,
    Party,
    PaymentRecorded,
    Period,
    RecordMilestone,
    RecordPayment,
    SignContract,
    TerminateContract,
)
from schemas.evaluation import (
    CompleteLotEvaluation,
    DecideAward,
    OfferedPrice,
    OpenedBid,
    QualifyBid,
    StartEvaluation,
)
from schemas.events import Event
from schemas.values import Item, Lot, Value

EVENT: TypeAdapter[AnyContractEvent] = TypeAdapter(AnyContractEvent)

NOW = datetime(2031, 3, 2, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
OCID = "ocds-000000-2031-000042"
BUYER = "agency-RO-CUI-4305857"
SUPPLIER_ID = "supplier-RO-CUI-31415926"
LOT = "lot-1"
CONTRACT_ID = "contract-1"

ANA = Actor(id="officer-ana", role=Role.OFFICER, agency_id=BUYER)  # draws and signs
ION = Actor(id="officer-ion", role=Role.OFFICER, agency_id=BUYER)
KEYLESS = Actor(id="officer-dan", role=Role.OFFICER, agency_id=BUYER)  # registered no key
STRANGER = Actor(id="officer-eva", role=Role.OFFICER, agency_id="agency-RO-CUI-1")
SUPPLIER = Actor(id=SUPPLIER_ID, role=Role.SUPPLIER)
RIVAL = Actor(id="supplier-RO-CUI-2", role=Role.SUPPLIER)
OPERATOR = Actor(id="operator", role=Role.OPERATOR)
ACTORS = (ANA, ION, KEYLESS, STRANGER, SUPPLIER, RIVAL, OPERATOR)

# Each holder's key, as kept on their own machine; the platform knows the public halves.
KEYS = {actor.id: Ed25519PrivateKey.generate() for actor in (ANA, ION, STRANGER, SUPPLIER, RIVAL)}
REGISTERED = {holder: keys.raw_public(key) for holder, key in KEYS.items()}


def ron(amount: str) -> Value:
    return Value(amount=Decimal(amount), currency="RON")


ITEMS = [
    Item(
        id="paper",
        description="A4 paper, 80 g/m2",
        cpv="30197630-1",
        quantity=Decimal(500),
        unit="ream",
    ),
    Item(
        id="toner",
        description="Toner cartridges",
        cpv="30125110-5",
        quantity=Decimal("40.5"),
        unit="piece",
    ),
]
PERIOD = Period(start_date=date(2031, 4, 1), end_date=date(2031, 12, 31))
DRAW = DrawContract(ocid=OCID, lot_id=LOT, period=PERIOD)


def award(cpv: str = "30197630-1", amount: str = "100000.00") -> AwardFacts:
    """The award of LOT to SUPPLIER_ID; division 30 is supplies, 45 works."""
    lot = Lot(id=LOT, title="Office supplies 2031", value=ron("120000.00"), items=ITEMS)
    return AwardFacts(
        ocid=OCID,
        award_id=f"{LOT}:bid-7",
        buyer_id=BUYER,
        supplier_id=SUPPLIER_ID,
        cpv=cpv,
        lot=lot,
        value=ron(amount),
    )


SUPPLIES = award()
WORKS = award(cpv="45210000-2")


def signature(holder: str, digest: str, party: Party, contract_id: str = CONTRACT_ID) -> bytes:
    fields = signature_fields(contract_id, digest, party)
    return keys.sign(KEYS[holder], CONTRACT_SIGNATURE, fields)


@dataclass
class Life:
    """A contract driven step by step: each accepted command's events are applied."""

    award: AwardFacts | None = SUPPLIES
    may_be_signed: bool = True
    limits: AmendmentLimits = AMENDMENT_LIMITS
    state: Contract | None = None
    events: list[Event] = field(default_factory=list)
    now: datetime = NOW

    def do(self, command: AnyContractCommand, actor: Actor) -> list[Event]:
        events = decide(
            self.state,
            command,
            actor,
            self.now,
            award=self.award,
            contract_id=CONTRACT_ID,
            may_be_signed=self.may_be_signed,
            signer_key=REGISTERED.get(actor.id),
            limits=self.limits,
        )
        for event in events:
            self.state = evolve(self.state, event)
        self.events += events
        return events

    @property
    def contract(self) -> Contract:
        assert self.state is not None
        return self.state

    def sign(
        self, actor: Actor, party: Party | None = None, key_of: str | None = None
    ) -> list[Event]:
        """``actor`` signs, by default for its own party and with its own key."""
        party = party or (Party.SUPPLIER if actor.role is Role.SUPPLIER else Party.BUYER)
        digest = self.contract.drawn.document_sha256
        command = SignContract(
            contract_id=CONTRACT_ID, signature=signature(key_of or actor.id, digest, party)
        )
        return self.do(command, actor)

    def amend(self, amount: str | None = None, end: date | None = None) -> ContractAmended:
        value = None if amount is None else ron(amount)
        command = AmendContract(
            contract_id=CONTRACT_ID, reason="More paper", value=value, end_date=end
        )
        [amended] = self.do(command, ANA)
        assert isinstance(amended, ContractAmended)
        return amended

    def pay(self, payment_id: str, amount: str) -> list[Event]:
        command = RecordPayment(
            contract_id=CONTRACT_ID, payment_id=payment_id, value=ron(amount), paid_at=self.now
        )
        return self.do(command, ANA)

    def milestone(
        self,
        milestone_id: str,
        status: MilestoneStatus = MilestoneStatus.SCHEDULED,
        met: date | None = None,
    ) -> list[Event]:
        command = RecordMilestone(
            contract_id=CONTRACT_ID,
            milestone_id=milestone_id,
            title=f"Delivery {milestone_id}",
            due_date=date(2031, 6, 30),
            status=status,
            date_met=met,
        )
        return self.do(command, ANA)


def status(life: Life) -> ContractStatus:
    return life.contract.status


# The stages the tests start from


def fresh() -> Life:
    return Life()


def drawn(of: AwardFacts = SUPPLIES) -> Life:
    life = Life(award=of)
    life.do(DRAW, ANA)
    return life


def buyer_signed() -> Life:
    life = drawn()
    life.sign(ANA)
    return life


def supplier_signed() -> Life:
    life = drawn()
    life.sign(SUPPLIER)
    return life


def active(of: AwardFacts = SUPPLIES) -> Life:
    life = drawn(of)
    life.sign(SUPPLIER)
    life.sign(ANA)
    return life


def paid_in_part() -> Life:
    life = active()
    life.pay("p-1", "40000.00")
    return life


def with_milestones() -> Life:
    life = active()
    life.milestone("m-1")
    life.milestone("m-2", MilestoneStatus.MET, met=NOW.date())
    return life


def completed() -> Life:
    life = active()
    life.do(CompleteContract(contract_id=CONTRACT_ID, reason="Delivered"), ANA)
    return life


def terminated() -> Life:
    life = active()
    life.do(TerminateContract(contract_id=CONTRACT_ID, reason="Supplier insolvent"), ANA)
    return life


def terminated_unsigned() -> Life:
    """Drawn, then its award annulled (the winner refused to sign): the contract ends with it."""
    life = drawn()
    events = cancel_with_the_award(life.contract, "The winner refused to sign", ANA.id)
    for event in events:
        life.state = evolve(life.state, event)
    life.events += events
    return life


def through_json(events: list[Event]) -> list[Event]:
    return [EVENT.validate_json(event.model_dump_json()) for event in events]


# A whole life, worked by hand


def test_a_contract_is_drawn_signed_amended_carried_out_and_completed() -> None:
    """Drawn from the award; the supplier signs, then an officer of the buyer, which puts it in
    force; a 5 % amendment needs no new procedure; payments up to the value; meeting the last
    milestone completes it; the events replay, through JSON, to the same contract."""
    life = Life()
    [drawn_] = life.do(DRAW, ANA)
    assert isinstance(drawn_, ContractDrawn)
    assert (drawn_.contract_id, drawn_.ocid, drawn_.lot_id) == (CONTRACT_ID, OCID, LOT)
    assert (drawn_.award_id, drawn_.buyer_id, drawn_.supplier_id) == (
        f"{LOT}:bid-7",
        BUYER,
        SUPPLIER_ID,
    )
    assert list(drawn_.items) == ITEMS
    assert (drawn_.value, drawn_.period, drawn_.officer_id) == (ron("100000.00"), PERIOD, ANA.id)
    assert status(life) is ContractStatus.DRAWN
    assert ocds_status(life.contract) == "pending"

    [signed] = life.sign(SUPPLIER)
    assert isinstance(signed, ContractSigned)
    assert (signed.party, signed.signer_id, signed.signed_at) == (Party.SUPPLIER, SUPPLIER_ID, NOW)
    assert status(life) is ContractStatus.PARTLY_SIGNED

    life.now += DAY
    signed, activated = life.sign(ION)
    assert isinstance(signed, ContractSigned)
    assert (signed.party, signed.signer_id) == (Party.BUYER, ION.id)
    assert activated == ContractActivated(activated_at=NOW + DAY)
    assert status(life) is ContractStatus.ACTIVE
    assert ocds_status(life.contract) == "active"

    life.milestone("delivery")
    life.milestone("acceptance")
    [paid] = life.pay("op-1", "40000.00")
    assert paid == PaymentRecorded(
        payment_id="op-1", value=ron("40000.00"), paid_at=life.now, officer_id=ANA.id
    )

    amended = life.amend("105000.00")
    assert (amended.amendment_id, amended.previous_value, amended.value) == (
        "amendment-1",
        ron("100000.00"),
        ron("105000.00"),
    )
    assert (amended.change_percent, amended.cumulative_change_percent) == (
        Decimal("5.00"),
        Decimal("5.00"),
    )
    assert (amended.threshold_percent, amended.needs_new_procedure) == (Decimal(10), False)
    later = life.amend(end=date(2032, 3, 31))
    assert (later.previous_end_date, later.end_date) == (date(2031, 12, 31), date(2032, 3, 31))
    assert (later.change_percent, later.cumulative_change_percent) == (
        Decimal("0.00"),
        Decimal("5.00"),
    )
    assert life.contract.period == Period(start_date=date(2031, 4, 1), end_date=date(2032, 3, 31))

    life.pay("op-2", "65000.00")
    assert life.contract.paid == Decimal("105000.00")
    with pytest.raises(Rejected, match=r"above the contract value of 105000\.00"):
        life.pay("op-3", "0.01")

    life.milestone("delivery", MilestoneStatus.MET, met=life.now.date())
    assert status(life) is ContractStatus.ACTIVE
    met, done = life.milestone("acceptance", MilestoneStatus.MET, met=life.now.date())
    assert isinstance(met, MilestoneRecorded)
    assert done == ContractCompleted(
        reason="every milestone is met", on_last_milestone=True, officer_id=ANA.id
    )
    assert status(life) is ContractStatus.COMPLETED
    assert ocds_status(life.contract) == "terminated"
    assert life.contract.version == len(life.events) == 13
    assert replay(through_json(life.events)) == life.contract


def test_the_document_hash_is_the_sha256_of_its_canonical_json() -> None:
    """document_sha256 is SHA-256 over bidding.keys.canonical_json of exactly these fields;
    quantities are written without trailing zeros and amounts with two decimals."""
    [event] = draw(DRAW, ANA, SUPPLIES, contract_id=CONTRACT_ID, may_be_signed=True)
    assert isinstance(event, ContractDrawn)
    document = document_of(event)
    assert set(document) == {
        "format",
        "contract_id",
        "ocid",
        "lot_id",
        "award_id",
        "buyer_id",
        "supplier_id",
        "title",
        "cpv",
        "items",
        "value",
        "period",
    }
    assert document["format"] == DOCUMENT_FORMAT
    assert document["items"][1] == {
        "id": "toner",
        "description": "Toner cartridges",
        "cpv": "30125110-5",
        "quantity": "40.5",
        "unit": "piece",
    }
    assert document["value"] == {"amount": "100000.00", "currency": "RON"}
    assert document["period"] == {"start_date": "2031-04-01", "end_date": "2031-12-31"}
    expected = hashlib.sha256(keys.canonical_json(document)).hexdigest()
    assert event.document_sha256 == document_sha256(document) == expected
    same = [
        item.model_copy(update={"quantity": item.quantity.quantize(Decimal("0.0001"))})
        for item in ITEMS
    ]
    terms = {
        k: v
        for k, v in event.model_dump().items()
        if k not in {"type", "document_sha256", "officer_id"}
    }
    assert (
        document_sha256(
            contract_document(**{**terms, "items": same, "value": event.value, "period": PERIOD})
        )
        == expected
    )
    longer = PERIOD.model_copy(update={"end_date": date(2032, 1, 1)})
    assert (
        document_sha256(
            contract_document(**{**terms, "items": ITEMS, "value": event.value, "period": longer})
        )
        != expected
    )


def test_anyone_can_verify_the_signatures_from_the_events_alone() -> None:
    """Each ContractSigned carries the signer's public key and signature over the drawn
    document's hash and its party; a signature for one party never passes for the other."""
    life = active()
    drawn_ = life.events[0]
    assert isinstance(drawn_, ContractDrawn)
    for event in life.events:
        if isinstance(event, ContractSigned):
            fields = signature_fields(drawn_.contract_id, drawn_.document_sha256, event.party)
            assert keys.verify(event.public_key, event.signature, CONTRACT_SIGNATURE, fields)
            other = Party.BUYER if event.party is Party.SUPPLIER else Party.SUPPLIER
            assert not signature_verifies(life.contract, other, event.public_key, event.signature)


def test_the_buyer_may_sign_first_and_either_officer_of_the_buyer_signs_for_it() -> None:
    """Signing order does not matter; any officer of the buyer with a registered key signs."""
    life = drawn()
    life.sign(ION)
    assert set(life.contract.signatures) == {Party.BUYER}
    assert [type(e) for e in life.sign(SUPPLIER)] == [ContractSigned, ContractActivated]


def test_a_signature_by_the_wrong_key_is_refused() -> None:
    """The supplier's signature made with another key, and the buyer's made with the
    supplier's key, do not verify against the signer's registered key."""
    life = drawn()
    with pytest.raises(Rejected, match="not the supplier's") as refused:
        life.sign(SUPPLIER, key_of=RIVAL.id)
    assert refused.value.code == "invalid_signature"
    with pytest.raises(Rejected) as refused:
        life.sign(ANA, key_of=SUPPLIER.id)
    assert refused.value.code == "invalid_signature"
    assert life.contract.signatures == {}


def test_a_signature_over_another_contract_or_document_is_refused() -> None:
    """A signature is bound to the contract id and the document hash."""
    life = drawn()
    digest = life.contract.drawn.document_sha256
    for forged in (
        signature(SUPPLIER_ID, digest, Party.SUPPLIER, contract_id="contract-2"),
        signature(SUPPLIER_ID, "0" * 64, Party.SUPPLIER),
    ):
        with pytest.raises(Rejected) as refused:
            life.do(SignContract(contract_id=CONTRACT_ID, signature=forged), SUPPLIER)
        assert refused.value.code == "invalid_signature"


def test_a_contract_nobody_signed_is_not_terminated_but_ends_with_its_award() -> None:
    """Terminating a contract not in force is refused (its award would stand beside it):
    the buyer annuls the award, which cancels the contract with it."""
    for unsigned in (drawn(), supplier_signed()):
        with pytest.raises(WrongState) as refused:
            unsigned.do(TerminateContract(contract_id=CONTRACT_ID, reason="No signature"), ANA)
        assert refused.value.code == "contract_not_concluded"
        assert "award-annulments" in str(refused.value)


def test_a_contract_ended_before_it_was_signed_was_never_in_force() -> None:
    """Ended with its award before activation: final, and OCDS calls it cancelled."""
    life = terminated_unsigned()
    assert status(life) is ContractStatus.TERMINATED
    assert ocds_status(life.contract) == "cancelled"
    assert ocds_status(terminated().contract) == "terminated"


# Amendments: Directive 2014/24/EU, Article 72(2)


@pytest.mark.parametrize(
    ("of", "amount", "cumulative", "threshold", "needs"),
    [
        (SUPPLIES, "110000.00", "10.00", 10, False),  # exactly at the threshold
        (SUPPLIES, "110000.01", "10.00", 10, True),  # above it by a cent: compared exactly
        (SUPPLIES, "80000.00", "-20.00", 10, False),  # a decrease never needs one
        (WORKS, "112000.00", "12.00", 15, False),  # works: 15 %
        (WORKS, "115000.00", "15.00", 15, False),
        (WORKS, "115000.01", "15.00", 15, True),
    ],
    ids=[
        "supplies-at-10",
        "supplies-over-10",
        "decrease",
        "works-12",
        "works-at-15",
        "works-over-15",
    ],
)
def test_an_amendment_needs_a_new_procedure_only_above_the_threshold(
    of: AwardFacts, amount: str, cumulative: str, threshold: int, needs: bool
) -> None:
    """Supplies and services: 10 % of the original value; works (CPV 45): 15 %."""
    amended = active(of).amend(amount)
    assert amended.cumulative_change_percent == Decimal(cumulative)
    assert (amended.threshold_percent, amended.needs_new_procedure) == (Decimal(threshold), needs)


def test_amendments_are_cumulative_against_the_original_value() -> None:
    """+6 % then +5 % of the original: the second is 11 % cumulative and needs a new
    procedure; a later decrease to +8 % does not."""
    life = active()
    first = life.amend("106000.00")
    second = life.amend("111000.00")
    third = life.amend("108000.00")
    assert [
        (a.change_percent, a.cumulative_change_percent, a.needs_new_procedure)
        for a in (first, second, third)
    ] == [
        (Decimal("6.00"), Decimal("6.00"), False),
        (Decimal("5.00"), Decimal("11.00"), True),
        (Decimal("-3.00"), Decimal("8.00"), False),
    ]
    assert [a.amendment_id for a in life.contract.amendments] == [
        "amendment-1",
        "amendment-2",
        "amendment-3",
    ]
    assert life.contract.value == ron("108000.00")
    assert life.contract.drawn.value == ron("100000.00")


def test_the_thresholds_are_configurable() -> None:
    """A deployment may set stricter limits."""
    life = active()
    life.limits = AmendmentLimits(supplies_and_services=Decimal(5), works=Decimal("7.5"))
    amended = life.amend("106000.00")
    assert (amended.threshold_percent, amended.needs_new_procedure) == (Decimal(5), True)


def test_an_amendment_lets_a_payment_through_that_the_original_value_refused() -> None:
    """Payments may not exceed the current value, which an amendment raises."""
    life = paid_in_part()
    with pytest.raises(Rejected, match=r"at most 60000\.00 is left to pay") as refused:
        life.pay("p-2", "65000.00")
    assert refused.value.code == "payment_exceeds_value"
    life.amend("105000.00")
    life.pay("p-2", "65000.00")
    assert life.contract.paid == life.contract.value.amount


# Milestones and completion


def test_an_officer_completes_a_contract_once_no_milestone_is_still_scheduled() -> None:
    """With a milestone scheduled, completion is refused; marked not met, it is allowed."""
    life = with_milestones()
    complete = CompleteContract(contract_id=CONTRACT_ID, reason="Closed with a penalty")
    with pytest.raises(WrongState, match=r"\['m-1'\]"):
        life.do(complete, ANA)
    life.milestone("m-1", MilestoneStatus.NOT_MET)
    assert status(life) is ContractStatus.ACTIVE  # not every milestone is met
    [done] = life.do(complete, ANA)
    assert done == ContractCompleted(
        reason="Closed with a penalty", on_last_milestone=False, officer_id=ANA.id
    )


def test_a_scheduled_milestone_may_be_rescheduled() -> None:
    """Recording a milestone again replaces it, until it is met."""
    life = with_milestones()
    command = RecordMilestone(
        contract_id=CONTRACT_ID, milestone_id="m-1", title="Delivery", due_date=date(2031, 9, 30)
    )
    life.do(command, ANA)
    assert life.contract.milestones["m-1"].due_date == date(2031, 9, 30)


def test_a_milestone_is_met_with_a_date_and_only_then() -> None:
    """The schema refuses a met milestone without its date, and a date on a scheduled one."""
    with pytest.raises(ValidationError, match="date it was met"):
        RecordMilestone(
            contract_id=CONTRACT_ID,
            milestone_id="m",
            title="Delivery",
            due_date=date(2031, 6, 1),
            status=MilestoneStatus.MET,
        )
    with pytest.raises(ValidationError, match="date it was met"):
        RecordMilestone(
            contract_id=CONTRACT_ID,
            milestone_id="m",
            title="Delivery",
            due_date=date(2031, 6, 1),
            date_met=date(2031, 6, 1),
        )


# From the tender and its evaluation


def test_the_award_is_taken_from_the_tender_and_its_evaluation() -> None:
    """award_facts reads the lot and the award; contract_may_be_signed says when the
    standstill is over; the contract then goes through."""
    # Imported here: the examples build their contract events from this module's lives.
    from tests.unit import examples

    tender = examples.published()
    officer = examples.OFFICER
    system = Actor(id="evaluation-service", role=Role.SYSTEM)
    bid = OpenedBid(
        bid_id="bid-1",
        bidder_id=SUPPLIER_ID,
        is_sme=True,
        received_at=examples.NOW,
        offers=(OfferedPrice(lot_id="lot-1", price=ron("870.00")),),
    )
    facts = facts_from_tender(tender, (officer.id,))
    history: list[Event] = []
    for step, actor in (
        (StartEvaluation(ocid=tender.ocid, facts=facts, bids=(bid,)), system),
        (QualifyBid(ocid=tender.ocid, bid_id="bid-1"), officer),
        (CompleteLotEvaluation(ocid=tender.ocid, lot_id="lot-1"), officer),
        (DecideAward(ocid=tender.ocid, lot_id="lot-1"), officer),
    ):
        history += decide_evaluation(replay_evaluation(history), step, actor, NOW)
    evaluation = replay_evaluation(history)
    assert evaluation is not None
    found = award_facts(tender, evaluation, "lot-1")
    assert found is not None
    assert (found.supplier_id, found.value, found.cpv, found.lot.id) == (
        SUPPLIER_ID,
        ron("870.00"),
        "30197630-1",
        "lot-1",
    )
    assert award_facts(tender, evaluation, "lot-9") is None
    command = DrawContract(ocid=tender.ocid, lot_id="lot-1", period=PERIOD)
    for days, allowed in ((10, False), (11, True)):  # it ends at midnight, in Bucharest
        may = contract_may_be_signed(evaluation, "lot-1", NOW + days * DAY)
        assert may is allowed
        if not allowed:
            with pytest.raises(WrongState):
                decide(
                    None,
                    command,
                    officer,
                    NOW,
                    award=found,
                    contract_id=CONTRACT_ID,
                    may_be_signed=may,
                )
    [event] = decide(
        None, command, officer, NOW, award=found, contract_id=CONTRACT_ID, may_be_signed=True
    )
    assert isinstance(event, ContractDrawn)
    assert event.award_id == "lot-1:bid-1"


# Every step out of order: refused with the right error, and nothing recorded


@dataclass(frozen=True)
class Case:
    setup: Callable[[], Life]
    command: AnyContractCommand
    actor: Actor
    error: type[Rejected]
    code: str
    may_be_signed: bool = True
    award: AwardFacts | None = SUPPLIES


def signed_by(holder: str, party: Party, contract_id: str = CONTRACT_ID) -> SignContract:
    digest = drawn().contract.drawn.document_sha256
    return SignContract(
        contract_id=contract_id, signature=signature(holder, digest, party, contract_id)
    )


BY_SUPPLIER = signed_by(SUPPLIER_ID, Party.SUPPLIER)
BY_ANA = signed_by(ANA.id, Party.BUYER)
BY_KEYLESS = SignContract(contract_id=CONTRACT_ID, signature=bytes(64))
AMEND = AmendContract(contract_id=CONTRACT_ID, reason="More", value=ron("101000.00"))
PAY = RecordPayment(contract_id=CONTRACT_ID, payment_id="p-9", value=ron("10.00"), paid_at=NOW)
MILESTONE = RecordMilestone(
    contract_id=CONTRACT_ID, milestone_id="m-9", title="Report", due_date=date(2031, 5, 1)
)
COMPLETE = CompleteContract(contract_id=CONTRACT_ID, reason="Delivered")
TERMINATE = TerminateContract(contract_id=CONTRACT_ID, reason="Breach")


def amend_with(**changes: Any) -> AmendContract:
    return AmendContract.model_validate({**AMEND.model_dump(), **changes})


def pay_with(**changes: Any) -> RecordPayment:
    return RecordPayment.model_validate({**PAY.model_dump(), **changes})


CASES = {
    # drawing
    "draw during the standstill": Case(
        fresh, DRAW, ANA, WrongState, "standstill", may_be_signed=False
    ),
    "draw a lot without an award": Case(fresh, DRAW, ANA, NotFound, "no_award", award=None),
    "draw with another lot's award": Case(
        fresh, DRAW.model_copy(update={"lot_id": "lot-2"}), ANA, Rejected, "wrong_award"
    ),
    "draw by the supplier": Case(fresh, DRAW, SUPPLIER, NotAllowed, "not_allowed"),
    "draw by another agency's officer": Case(fresh, DRAW, STRANGER, NotAllowed, "not_allowed"),
    "draw twice": Case(drawn, DRAW, ANA, WrongState, "already_drawn"),
    "draw again by the supplier": Case(drawn, DRAW, SUPPLIER, NotAllowed, "not_allowed"),
    # signing
    "sign before the contract is drawn": Case(
        fresh, BY_SUPPLIER, SUPPLIER, NotFound, "contract_not_drawn"
    ),
    "sign another contract": Case(
        drawn,
        signed_by(SUPPLIER_ID, Party.SUPPLIER, "contract-2"),
        SUPPLIER,
        Rejected,
        "wrong_contract",
    ),
    "sign by a supplier that did not win": Case(
        drawn, signed_by(RIVAL.id, Party.SUPPLIER), RIVAL, NotAllowed, "not_allowed"
    ),
    "sign by another agency's officer": Case(
        drawn, signed_by(STRANGER.id, Party.BUYER), STRANGER, NotAllowed, "not_allowed"
    ),
    "sign by the operator": Case(drawn, BY_ANA, OPERATOR, NotAllowed, "not_allowed"),
    "sign with another supplier's key": Case(
        drawn, signed_by(RIVAL.id, Party.SUPPLIER), SUPPLIER, Rejected, "invalid_signature"
    ),
    "sign for the other party": Case(
        drawn, signed_by(SUPPLIER_ID, Party.BUYER), SUPPLIER, Rejected, "invalid_signature"
    ),
    "sign with another officer's key": Case(drawn, BY_ANA, ION, Rejected, "invalid_signature"),
    "sign without a registered key": Case(drawn, BY_KEYLESS, KEYLESS, Rejected, "no_signing_key"),
    "sign twice": Case(supplier_signed, BY_SUPPLIER, SUPPLIER, WrongState, "already_signed"),
    "sign for the buyer twice": Case(
        buyer_signed, signed_by(ION.id, Party.BUYER), ION, WrongState, "already_signed"
    ),
    "sign an active contract": Case(active, BY_SUPPLIER, SUPPLIER, WrongState, "contract_active"),
    "sign a terminated contract": Case(
        terminated_unsigned, BY_SUPPLIER, SUPPLIER, WrongState, "contract_terminated"
    ),
    # before activation
    "amend before the contract is drawn": Case(fresh, AMEND, ANA, NotFound, "contract_not_drawn"),
    "amend a contract nobody signed": Case(drawn, AMEND, ANA, WrongState, "contract_drawn"),
    "amend a partly signed contract": Case(
        supplier_signed, AMEND, ANA, WrongState, "contract_partly_signed"
    ),
    "payment before activation": Case(buyer_signed, PAY, ANA, WrongState, "contract_partly_signed"),
    "milestone before activation": Case(drawn, MILESTONE, ANA, WrongState, "contract_drawn"),
    "complete before activation": Case(
        supplier_signed, COMPLETE, ANA, WrongState, "contract_partly_signed"
    ),
    # after the end
    "amend after completion": Case(completed, AMEND, ANA, WrongState, "contract_completed"),
    "payment after completion": Case(completed, PAY, ANA, WrongState, "contract_completed"),
    "milestone after termination": Case(
        terminated, MILESTONE, ANA, WrongState, "contract_terminated"
    ),
    "payment after termination": Case(terminated, PAY, ANA, WrongState, "contract_terminated"),
    "complete after termination": Case(
        terminated, COMPLETE, ANA, WrongState, "contract_terminated"
    ),
    "terminate after completion": Case(completed, TERMINATE, ANA, WrongState, "contract_completed"),
    "terminate twice": Case(terminated, TERMINATE, ANA, WrongState, "contract_terminated"),
    # who
    "amend by the supplier": Case(active, AMEND, SUPPLIER, NotAllowed, "not_allowed"),
    "payment by another agency's officer": Case(active, PAY, STRANGER, NotAllowed, "not_allowed"),
    "terminate by the supplier": Case(active, TERMINATE, SUPPLIER, NotAllowed, "not_allowed"),
    # amendments
    "amend to the same value": Case(
        active, amend_with(value=ron("100000.00")), ANA, Rejected, "no_change"
    ),
    "amend in another currency": Case(
        active,
        amend_with(value={"amount": "1.00", "currency": "EUR"}),
        ANA,
        Rejected,
        "wrong_currency",
    ),
    "amend below what was paid": Case(
        paid_in_part, amend_with(value=ron("39999.99")), ANA, Rejected, "value_below_payments"
    ),
    "amend to end before the start": Case(
        active,
        amend_with(value=None, end_date=date(2031, 3, 31)),
        ANA,
        Rejected,
        "end_before_start",
    ),
    # payments
    "payment above the value": Case(
        active, pay_with(value=ron("100000.01")), ANA, Rejected, "payment_exceeds_value"
    ),
    "payment above what is left": Case(
        paid_in_part, pay_with(value=ron("60000.01")), ANA, Rejected, "payment_exceeds_value"
    ),
    "payment recorded twice": Case(
        paid_in_part, pay_with(payment_id="p-1"), ANA, WrongState, "payment_already_recorded"
    ),
    "payment in another currency": Case(
        active,
        pay_with(value={"amount": "1.00", "currency": "EUR"}),
        ANA,
        Rejected,
        "wrong_currency",
    ),
    "payment in the future": Case(
        active, pay_with(paid_at=NOW + timedelta(minutes=1)), ANA, Rejected, "date_in_future"
    ),
    # milestones
    "milestone met tomorrow": Case(
        active,
        MILESTONE.model_copy(update={"status": MilestoneStatus.MET, "date_met": NOW.date() + DAY}),
        ANA,
        Rejected,
        "date_in_future",
    ),
    "milestone met twice": Case(
        with_milestones,
        MILESTONE.model_copy(update={"milestone_id": "m-2"}),
        ANA,
        WrongState,
        "milestone_met",
    ),
    "milestone recorded unchanged": Case(
        with_milestones,
        MILESTONE.model_copy(
            update={"milestone_id": "m-1", "title": "Delivery m-1", "due_date": date(2031, 6, 30)}
        ),
        ANA,
        Rejected,
        "no_change",
    ),
    "complete with a milestone scheduled": Case(
        with_milestones, COMPLETE, ANA, WrongState, "milestones_open"
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_a_step_out_of_order_is_refused_and_records_nothing(case: Case) -> None:
    """Each step out of order raises its error with its code and a detail, and the contract
    stays as it was."""
    life = case.setup()
    life.may_be_signed, life.award = case.may_be_signed, case.award
    before, recorded = life.state, len(life.events)
    with pytest.raises(Rejected) as refused:
        life.do(case.command, case.actor)
    assert type(refused.value) is case.error
    assert refused.value.code == case.code
    assert refused.value.detail
    assert (life.state, len(life.events)) == (before, recorded)
    assert replay(life.events) == before


# Evolution: the table is the only way a contract moves


def event_examples() -> dict[str, Event]:
    """One valid event of each type, signed by the supplier where it is a signature."""
    life = active()
    [drawn_, signed, _, activated] = life.events
    return {
        type(event).__name__: event
        for event in (
            drawn_,
            signed,
            activated,
            life.amend("101000.00"),
            *life.milestone("m-1"),
            *life.pay("p-1", "1.00"),
            ContractCompleted(reason="Done", on_last_milestone=False, officer_id=ANA.id),
            ContractTerminated(reason="Breach", officer_id=ANA.id),
        )
    }


EXAMPLES = event_examples()
STAGES: dict[ContractStatus | None, Callable[[], Life]] = {
    None: fresh,
    ContractStatus.DRAWN: drawn,
    ContractStatus.PARTLY_SIGNED: buyer_signed,
    ContractStatus.ACTIVE: active,
    ContractStatus.COMPLETED: completed,
    ContractStatus.TERMINATED: terminated,
}
ILLEGAL = [
    (status, kind)
    for status in STAGES
    for kind in sorted(EXAMPLES)
    if (status, kind) not in LIFECYCLE
]


@pytest.mark.parametrize(("status", "kind"), ILLEGAL, ids=str)
def test_evolve_refuses_every_move_outside_the_lifecycle(
    status: ContractStatus | None, kind: str
) -> None:
    """An event that the table does not allow from the contract's status is a corrupt history."""
    state = STAGES[status]().state
    assert (state.status if state else None) is status
    with pytest.raises(ValueError, match="cannot happen"):
        evolve(state, EXAMPLES[kind])


def test_evolve_refuses_a_history_that_breaks_the_signing_rules() -> None:
    """A party signing twice, an activation with one signature, and a drawn contract whose
    hash is not its document's are corrupt histories too."""
    supplier_once = supplier_signed().contract
    with pytest.raises(ValueError, match="twice"):
        evolve(supplier_once, EXAMPLES["ContractSigned"])
    with pytest.raises(ValueError, match="both parties"):
        evolve(supplier_once, EXAMPLES["ContractActivated"])
    forged = EXAMPLES["ContractDrawn"].model_copy(update={"document_sha256": "0" * 64})
    with pytest.raises(ValueError, match="document"):
        evolve(None, forged)


def test_every_status_is_reachable_and_every_event_is_in_the_table() -> None:
    """The table names every status and every event type of a contract."""
    assert set(LIFECYCLE.values()) == set(ContractStatus)
    assert {kind for _, kind in LIFECYCLE} == {k.__name__ for k in CONTRACT_EVENTS}
    assert {k.model_fields["type"].default for k in CONTRACT_EVENTS} == {
        k.__name__ for k in CONTRACT_EVENTS
    }


# Properties over random command sequences


@dataclass
class World:
    """The accepted history so far, and what a random step may draw from."""

    award: AwardFacts
    state: Contract | None = None
    events: list[Event] = field(default_factory=list)
    now: datetime = NOW


# How often each kind of step is drawn, by status: mostly the steps that move the contract on.
WEIGHTS: dict[ContractStatus | None, dict[str, int]] = {
    None: {"draw": 8, "sign": 1, "amend": 1, "pay": 1},
    ContractStatus.DRAWN: {"sign": 12, "draw": 1, "amend": 1, "pay": 1, "complete": 1, "terminate": 1},
    ContractStatus.PARTLY_SIGNED: {"sign": 12, "amend": 1, "milestone": 1, "terminate": 1},
    ContractStatus.ACTIVE: {
        "amend": 6, "milestone": 6, "pay": 6, "sign": 1, "draw": 1, "complete": 1, "terminate": 1,
    },
    ContractStatus.COMPLETED: {"amend": 1, "pay": 1, "milestone": 1, "terminate": 1, "sign": 1},
    ContractStatus.TERMINATED: {"amend": 1, "pay": 1, "complete": 1, "terminate": 1, "sign": 1},
}  # fmt: skip


def random_sign(data: st.DataObject, world: World, contract_id: str) -> tuple[SignContract, Actor]:
    """Mostly a party that has not signed, with its own key over the right document; else
    any holder's key, for either party, over either document, sent by anyone."""
    digest = world.state.drawn.document_sha256 if world.state else "0" * 64
    if data.draw(st.integers(0, 4)):
        actor = data.draw(st.sampled_from([SUPPLIER, ANA, ION]))
        party = Party.SUPPLIER if actor is SUPPLIER else Party.BUYER
        holder = actor.id
    else:
        actor = data.draw(st.sampled_from(ACTORS))
        party = data.draw(st.sampled_from(Party))
        holder = data.draw(st.sampled_from(sorted(KEYS)))
        digest = data.draw(st.sampled_from([digest, "1" * 64]))
    signed = signature(holder, digest, party, contract_id)
    return SignContract(contract_id=contract_id, signature=signed), actor


def random_step(data: st.DataObject, world: World) -> tuple[AnyContractCommand, Actor]:
    """One command, valid or not, of a kind weighted by the contract's status."""
    contract_id = CONTRACT_ID if data.draw(st.integers(0, 19)) else "contract-9"
    currency = "RON" if data.draw(st.integers(0, 19)) else "EUR"

    def money(low: int, high: int) -> Value:
        return Value(amount=Decimal(data.draw(st.integers(low, high))) / 100, currency=currency)

    weights = WEIGHTS[world.state.status if world.state else None]
    kind = data.draw(st.sampled_from([k for k, weight in weights.items() for _ in range(weight)]))
    command: AnyContractCommand
    match kind:
        case "draw":
            command = DRAW
        case "sign":
            return random_sign(data, world, contract_id)
        case "amend":
            near = data.draw(st.booleans())  # around the threshold, or anything
            value: Value | None = money(*(9_000_000, 12_500_000) if near else (1, 13_000_000))
            value = value if data.draw(st.integers(0, 3)) else None
            end = PERIOD.end_date + data.draw(st.integers(-300, 600)) * DAY
            command = AmendContract(
                contract_id=contract_id,
                reason="Change",
                value=value,
                end_date=end if value is None or data.draw(st.booleans()) else None,
            )
        case "milestone":
            status = data.draw(st.sampled_from(MilestoneStatus))
            met = world.now.date() - data.draw(st.integers(-1, 30)) * DAY
            command = RecordMilestone(
                contract_id=contract_id,
                milestone_id=data.draw(st.sampled_from(["m-1", "m-2", "m-3"])),
                title="Delivery",
                due_date=date(2031, 6, 30),
                status=status,
                date_met=met if status is MilestoneStatus.MET else None,
            )
        case "pay":
            command = RecordPayment(
                contract_id=contract_id,
                payment_id=data.draw(st.sampled_from(["p-1", "p-2", "p-3", "p-4", "p-5"])),
                value=money(1, 50_000_00),
                paid_at=world.now - data.draw(st.integers(-1, 3 * 24 * 60)) * timedelta(minutes=1),
            )
        case "complete":
            command = CompleteContract(contract_id=contract_id, reason="Done")
        case _:
            command = TerminateContract(contract_id=contract_id, reason="Breach")
    actor = ANA if data.draw(st.integers(0, 9)) else data.draw(st.sampled_from(ACTORS))
    return command, actor


def check_invariants(contract: Contract, award: AwardFacts, events: list[Event]) -> None:
    """Signatures match the status and verify; payments fit the value; the value and end date
    are the last amendment's; completion leaves no milestone scheduled."""
    signed = set(contract.signatures)
    if contract.status is ContractStatus.DRAWN:
        assert not signed
    elif contract.status is ContractStatus.PARTLY_SIGNED:
        assert len(signed) == 1
    elif contract.status is ContractStatus.TERMINATED:
        assert (contract.activated_at is not None) is (signed == set(Party))
    else:
        assert signed == set(Party)
        assert contract.activated_at is not None
    for party, signature_ in contract.signatures.items():
        assert REGISTERED[signature_.signer_id] == signature_.public_key
        assert (signature_.signer_id == SUPPLIER_ID) is (party is Party.SUPPLIER)
        assert signature_verifies(contract, party, signature_.public_key, signature_.signature)
    assert contract.paid <= contract.value.amount
    assert {p.value.currency for p in contract.payments.values()} <= {contract.value.currency}
    assert contract.value.currency == award.value.currency
    original = contract.drawn.value.amount
    if contract.amendments:
        last = contract.amendments[-1]
        assert (contract.value, contract.period.end_date) == (last.value, last.end_date)
        with localcontext(Context(prec=60, rounding=ROUND_HALF_UP)):  # percent, half up
            expected = ((contract.value.amount - original) * 100 / original).quantize(
                Decimal("0.01")
            )
        assert last.cumulative_change_percent == expected
        limit = Decimal(15 if award.cpv.startswith("45") else 10)
        assert last.needs_new_procedure is (
            (contract.value.amount - original) * 100 > limit * original
        )
    else:
        assert (contract.value, contract.period) == (contract.drawn.value, contract.drawn.period)
    assert contract.period.start_date <= contract.period.end_date
    if contract.status is ContractStatus.COMPLETED:
        assert all(m.status is not MilestoneStatus.SCHEDULED for m in contract.milestones.values())
    assert contract.version == len(events)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_command_sequences_never_reach_an_invalid_state_and_replay_to_it(
    data: st.DataObject,
) -> None:
    """Random commands by random actors, valid or not: the refused ones raise a Rejected and
    record nothing, the accepted ones keep every invariant, and the events, through JSON,
    replay to the contract built step by step."""
    world = World(award=data.draw(st.sampled_from([SUPPLIES, WORKS])))
    for _ in range(data.draw(st.integers(5, 40))):
        world.now += data.draw(st.sampled_from([timedelta(0), timedelta(hours=1), DAY]))
        command, actor = random_step(data, world)
        try:
            events = decide(
                world.state,
                command,
                actor,
                world.now,
                award=world.award,
                contract_id=CONTRACT_ID,
                may_be_signed=bool(data.draw(st.integers(0, 4))),
                signer_key=REGISTERED.get(actor.id),
            )
        except Rejected:
            continue
        assert events, f"{type(command).__name__} was accepted but recorded nothing"
        state = world.state
        for event in events:
            state = evolve(state, event)
        assert state is not None
        world.state, world.events = state, world.events + events
        check_invariants(state, world.award, world.events)
    assert replay(through_json(world.events)) == world.state
