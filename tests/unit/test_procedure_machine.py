"""No procedure can get stuck: a hypothesis state machine drives whole procedures through the
pure domain (publication, amendments, bids and withdrawals, currency mistakes, opening,
qualification, abnormally low prices, auctions and their ties, award, standstill,
complaints, the winner refusing, cancellations at every stage, contracts) and after every
step checks that each live lot can still move toward an end, that what OCDS publishes is
consistent, and that savings count only concluded awards.

Defects the machine finds on today's domain are each pinned by a short ``test_item_N_...``
below, a strict xfail naming its issue item: when a fix lands the test turns red and its
mark, and the item's entry in ``TOLERATED``, are removed. Rules for commands the domain does
not have yet are behind ``PENDING``.
"""

from datetime import timedelta
from decimal import Decimal

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from procurement import evaluation as evaluations
from procurement import tender as tenders
from procurement.conditions_complaints import ConditionsComplaintStatus
from schemas.commands import Actor
from schemas.evaluation import (
    AcceptJustification,
    AnnulmentReason,
    AnswerClarification,
    AnyEvaluationCommand,
    CancelLot,
    CancelProcedure,
    ComplaintSubject,
    CompleteLotEvaluation,
    DecideAward,
    DismissComplaint,
    DisqualifyBid,
    FileComplaint,
    QualifyBid,
    RejectJustification,
    Remedy,
    RequestClarification,
    RequestJustification,
    SubmitJustification,
    UpholdComplaint,
)
from schemas.values import Value
from tests.procedure_world import (
    DAY,
    LOTS,
    MEMBER,
    OCID,
    OFFICER,
    REVIEWER,
    SUPPLIERS,
    Violation,
    World,
    accepted,
    supplier,
)

# Rules for commands the domain does not have yet, by rule name, with the issue item that
# adds them; remove a name once its command is merged (and adapt the rule to its name).
PENDING: dict[str, str] = {}

# Invariants today's domain is known to break, by the issue item that fixes them (each one
# pinned by a strict xfail below); the machine checks every other one. Remove an item once
# its fix is merged: the machine then holds the domain to it.
TOLERATED: dict[str, str] = {}

# Cancelling the whole tender ends the story: it is tried at any step, but seldom taken, so
# that most procedures live long enough to reach their awards and contracts.
SELDOM = st.sampled_from([True, False, False, False])
PRICES = st.sampled_from(["990.00", "950.00", "900.00", "700.00", "500.00"])


def untolerated(found: list[Violation]) -> list[Violation]:
    return [violation for violation in found if violation.item not in TOLERATED]


class ProcedureMachine(RuleBasedStateMachine):
    """One procedure, from its publication to its end, by every actor in any order."""

    world: World

    @initialize(
        lots=st.integers(1, 2),
        auction=st.booleans(),
        bids=st.dictionaries(
            st.sampled_from(SUPPLIERS),
            st.tuples(st.sampled_from(LOTS), PRICES),
            min_size=1,
            max_size=4,
        ),
    )
    def publish(self, lots: int, auction: bool, bids: dict[str, tuple[str, str]]) -> None:
        """Published, with the bids that came early (in RON, for one lot each)."""
        self.world = World()
        self.world.publish(lots, auction=auction)
        for bidder, (lot_id, price) in bids.items():
            self.submit_bid(bidder, {lot_id}, price, "RON")

    # Before the deadline

    @precondition(lambda self: self.world.bidding_open())
    @rule(
        bidder=st.sampled_from(SUPPLIERS),
        lots=st.sets(st.sampled_from(LOTS), min_size=1),
        price=PRICES,
        currency=st.sampled_from(["RON"] * 9 + ["EUR"]),
    )
    def submit_bid(self, bidder: str, lots: set[str], price: str, currency: str) -> None:
        tender = self.world.tender
        assert tender is not None
        offered = [lot.id for lot in tender.requirements.lots if lot.id in lots]
        if offered:
            value = Value(amount=Decimal(price), currency=currency)
            self.world.submit(bidder, dict.fromkeys(offered, value))

    @precondition(lambda self: self.world.bidding_open() and bool(self.world.bids))
    @rule(data=st.data())
    def withdraw_bid(self, data: st.DataObject) -> None:
        self.world.withdraw(data.draw(st.sampled_from(sorted(self.world.bids))))

    @precondition(lambda self: self.world.bidding_open() or self.world.held())
    @rule(estimate=st.sampled_from(["1000.00", "1200.00"]), drop_last_lot=st.booleans())
    def amend_requirements(self, estimate: str, drop_last_lot: bool) -> None:
        self.world.attempt(
            self.world.amend(estimate=Decimal(estimate), drop_last_lot=drop_last_lot)
        )

    @precondition(lambda self: self._tender_may_end())
    @rule(now=SELDOM)
    def cancel_tender(self, now: bool) -> None:
        if not now:
            return
        self.world.attempt(self.world.cancel_tender())

    def _tender_may_end(self) -> bool:
        """Not cancelled yet: cancelling again is refused, and would crowd out other steps."""
        tender = self.world.tender
        return tender is not None and tender.status is not tenders.TenderStatus.CANCELLED

    # The deadline and the opening

    @precondition(lambda self: self.world.bidding_open())
    @rule()
    def deadline_passes(self) -> None:
        if self.world.attempt(self.world.close()):
            self.world.open()

    @precondition(lambda self: bool(self.world.lots_live()))
    @rule(data=st.data())
    def advance(self, data: st.DataObject) -> None:
        """Some actor takes the first step that moves a live lot on, as a procedure
        usually goes: this reaches the award, the contract and what follows."""
        lot_id = data.draw(st.sampled_from(self.world.lots_live()))
        for move in self.world.progress(lot_id):
            if move.name == "open bids":
                if self.world.open():
                    return
            elif move.name == "run auction":
                if self.world.run_auction(lot_id, {}):
                    return
            elif self.world.attempt(move):
                return

    # The evaluation

    def _bid_ids(self) -> list[str]:
        evaluated = self.world.evaluation
        return sorted(evaluated.bids) if evaluated is not None else []

    def _lot_ids(self) -> list[str]:
        evaluated = self.world.evaluation
        return sorted(evaluated.lots) if evaluated is not None else []

    @precondition(lambda self: bool(self._bid_ids()))
    @rule(data=st.data(), admissible=st.booleans())
    def qualify(self, data: st.DataObject, admissible: bool) -> None:
        bid_id = data.draw(st.sampled_from(self._bid_ids()))
        command = (
            QualifyBid(ocid=OCID, bid_id=bid_id)
            if admissible
            else DisqualifyBid(ocid=OCID, bid_id=bid_id, reason="The guarantee is missing")
        )
        self.world.attempt(self.world.evaluate("qualify", command, MEMBER))

    @precondition(lambda self: bool(self._bid_ids()))
    @rule(data=st.data(), answered=st.booleans())
    def clarification(self, data: st.DataObject, answered: bool) -> None:
        bid_id = data.draw(st.sampled_from(self._bid_ids()))
        asked = RequestClarification(
            ocid=OCID,
            bid_id=bid_id,
            question="Which paper mill?",
            respond_by=self.world.now + 3 * DAY,
        )
        if self.world.attempt(self.world.evaluate("ask", asked, OFFICER)) and answered:
            evaluated = self.world.evaluation
            assert evaluated is not None
            request = max(
                evaluated.clarifications.values(), key=lambda r: int(r.request_id.split("-")[1])
            )
            answer = AnswerClarification(
                ocid=OCID, request_id=request.request_id, answer="Mill no. 2"
            )
            self.world.attempt(self.world.evaluate("answer", answer, supplier(request.bidder_id)))

    @precondition(lambda self: bool(self._lot_ids()))
    @rule(data=st.data())
    def complete_lot(self, data: st.DataObject) -> None:
        lot_id = data.draw(st.sampled_from(self._lot_ids()))
        command = CompleteLotEvaluation(ocid=OCID, lot_id=lot_id)
        self.world.attempt(self.world.evaluate("complete", command, OFFICER))

    def _auction_lots(self) -> list[str]:
        evaluated = self.world.evaluation
        if evaluated is None:
            return []
        return [
            lot_id
            for lot_id, lot in sorted(evaluated.lots.items())
            if lot.status is evaluations.LotStatus.AUCTION
        ]

    @precondition(lambda self: bool(self._auction_lots()))
    @rule(
        data=st.data(),
        cuts=st.dictionaries(
            st.sampled_from(SUPPLIERS), st.sampled_from(["850.00", "800.00", "450.00"])
        ),
    )
    def hold_auction(self, data: st.DataObject, cuts: dict[str, str]) -> None:
        """Scheduled by the platform, then held: some bidders cut their price, often to the
        same amount (a tie)."""
        lot_id = data.draw(st.sampled_from(self._auction_lots()))
        self.world.attempt(self.world.schedule_auction(lot_id))
        self.world.run_auction(lot_id, {bidder: Decimal(price) for bidder, price in cuts.items()})

    @precondition(lambda self: bool(self._lot_ids()))
    @rule(data=st.data())
    def award(self, data: st.DataObject) -> None:
        lot_id = data.draw(st.sampled_from(self._lot_ids()))
        self.world.attempt(
            self.world.evaluate("award", DecideAward(ocid=OCID, lot_id=lot_id), OFFICER)
        )

    def _flags(self) -> list[tuple[str, str]]:
        evaluated = self.world.evaluation
        if evaluated is None:
            return []
        return sorted(
            (lot_id, bid_id) for lot_id, lot in evaluated.lots.items() for bid_id in lot.flags or {}
        )

    @precondition(lambda self: bool(self._flags()))
    @rule(data=st.data(), step=st.sampled_from(["request", "justify", "accept", "reject"]))
    def abnormally_low(self, data: st.DataObject, step: str) -> None:
        lot_id, bid_id = data.draw(st.sampled_from(self._flags()))
        names = {"ocid": OCID, "lot_id": lot_id, "bid_id": bid_id}
        evaluated = self.world.evaluation
        assert evaluated is not None
        match step:
            case "request":
                respond_by = self.world.now + 3 * DAY
                command = RequestJustification(
                    **names, question="Explain the price", respond_by=respond_by
                )
                self.world.attempt(self.world.evaluate(step, command, OFFICER))
            case "justify":
                bidder = supplier(evaluated.bids[bid_id].bidder_id)
                justify = SubmitJustification(**names, justification="Our own stock")
                self.world.attempt(self.world.evaluate(step, justify, bidder))
            case "accept":
                self.world.attempt(
                    self.world.evaluate(step, AcceptJustification(**names, reason="Fine"), OFFICER)
                )
            case _:
                reject = RejectJustification(**names, reason="Not credible")
                self.world.attempt(self.world.evaluate(step, reject, OFFICER))

    @rule(days=st.sampled_from([1, 4, 11]))
    def time_passes(self, days: int) -> None:
        self.world.now += timedelta(days=days)

    # Complaints and the review body

    @precondition(lambda self: bool(self._lot_ids()))
    @rule(
        data=st.data(), bidder=st.sampled_from(SUPPLIERS), subject=st.sampled_from(ComplaintSubject)
    )
    def complain(self, data: st.DataObject, bidder: str, subject: ComplaintSubject) -> None:
        """A tenderer, or anyone, asks the review body to review an award or a cancellation."""
        lot_id = data.draw(st.sampled_from(self._lot_ids()))
        command = FileComplaint(
            ocid=OCID, lot_id=lot_id, grounds="The decision is unlawful", subject=subject
        )
        self.world.attempt(self.world.evaluate("complain", command, supplier(bidder)))

    def _complaints(self) -> list[str]:
        evaluated = self.world.evaluation
        return sorted(evaluated.complaints) if evaluated is not None else []

    @precondition(lambda self: bool(self._complaints()))
    @rule(data=st.data(), ruling=st.sampled_from(["dismiss", *Remedy]))
    def rule_on_complaint(self, data: st.DataObject, ruling: str) -> None:
        complaint_id = data.draw(st.sampled_from(self._complaints()))
        command = (
            DismissComplaint(ocid=OCID, complaint_id=complaint_id, reason="No grounds")
            if ruling == "dismiss"
            else UpholdComplaint(
                ocid=OCID, complaint_id=complaint_id, remedy=Remedy(ruling), reason="Well founded"
            )
        )
        self.world.attempt(self.world.evaluate("rule", command, REVIEWER))

    # Cancellations, at every stage

    @precondition(lambda self: bool(self._lot_ids()))
    @rule(data=st.data())
    def cancel_lot(self, data: st.DataObject) -> None:
        lot_id = data.draw(st.sampled_from(self._lot_ids()))
        command = CancelLot(ocid=OCID, lot_id=lot_id, reason="The need disappeared")
        self.world.attempt(self.world.evaluate("cancel lot", command, OFFICER))

    @precondition(lambda self: self._tender_may_end() and bool(self._lot_ids()))
    @rule(now=SELDOM)
    def cancel_procedure(self, now: bool) -> None:
        if not now:
            return
        command = CancelProcedure(ocid=OCID, reason="The budget was withdrawn")
        self.world.attempt(self.world.evaluate("cancel procedure", command, OFFICER))

    # Contracts: drawn, signed by both, or refused by the winner

    @precondition(lambda self: bool(self._lot_ids()))
    @rule(data=st.data())
    def draw_contract(self, data: st.DataObject) -> None:
        self.world.attempt(self.world.draw(data.draw(st.sampled_from(self._lot_ids()))))

    def _contracts(self) -> list[str]:
        return [lot_id for lot_id in self._lot_ids() if self.world.contract(lot_id) is not None]

    @precondition(lambda self: bool(self._contracts()))
    @rule(data=st.data(), by_supplier=st.booleans())
    def sign_contract(self, data: st.DataObject, by_supplier: bool) -> None:
        lot_id = data.draw(st.sampled_from(self._contracts()))
        contract = self.world.contract(lot_id)
        assert contract is not None
        self.world.attempt(
            self.world.sign(lot_id, supplier(contract.supplier_id) if by_supplier else OFFICER)
        )

    @precondition(lambda self: bool(self._contracts()))
    @rule(data=st.data())
    def winner_refuses(self, data: st.DataObject) -> None:
        """The winner will not sign and the buyer terminates the contract drawn for it."""
        self.world.attempt(self.world.terminate(data.draw(st.sampled_from(self._contracts()))))

    @precondition(lambda self: bool(self._lot_ids()))
    @rule(data=st.data(), reason=st.sampled_from(AnnulmentReason))
    def annul_award(self, data: st.DataObject, reason: AnnulmentReason) -> None:
        """The buyer annuls a lot's award: the winner refuses, or fails its checks."""
        self.world.attempt(self.world.annul(data.draw(st.sampled_from(self._lot_ids())), reason))

    @precondition(lambda self: bool(self._bid_ids()))
    @rule(data=st.data(), admissible=st.booleans())
    def qualify_per_lot(self, data: st.DataObject, admissible: bool) -> None:
        """The committee admits or rejects a bid for one of the tender's lots."""
        bid_id = data.draw(st.sampled_from(self._bid_ids()))
        lot_id = data.draw(st.sampled_from(self._lot_ids()))
        command = (
            QualifyBid(ocid=OCID, bid_id=bid_id, lot_id=lot_id)
            if admissible
            else DisqualifyBid(ocid=OCID, bid_id=bid_id, lot_id=lot_id, reason="No service there")
        )
        self.world.attempt(self.world.evaluate("qualify for a lot", command, MEMBER))

    @precondition(lambda self: self.world.bidding_open() and bool(self.world.receipts))
    @rule(data=st.data())
    def reconfirm_bid(self, data: st.DataObject) -> None:
        """A bidder says its bid stands after an amendment (refused when nothing awaits it)."""
        self.world.reconfirm(data.draw(st.sampled_from(sorted(self.world.receipts))))

    # Complaints about the conditions, before the deadline, on "<ocid>:complaints"

    @precondition(lambda self: self.world.bidding_open())
    @rule(complainant=st.sampled_from(SUPPLIERS), ruling=st.sampled_from([None, True, False]))
    def complain_before_deadline(self, complainant: str, ruling: bool | None) -> None:
        """Any registered supplier, bidder or not, challenges the conditions; the review
        body may uphold or dismiss it at once, before the deadline (or later, below)."""
        filed = self.world.attempt(self.world.complain_about_conditions(complainant))
        if filed and ruling is not None:
            (complaint_id,) = self._open_conditions_complaints(complainant)
            self.world.attempt(self.world.rule_on_conditions(complaint_id, uphold=ruling))

    def _open_conditions_complaints(self, supplier_id: str | None = None) -> list[str]:
        """The complaints about the conditions still before the review body (one a supplier)."""
        state = self.world.complaints
        if state is None:
            return []
        return sorted(
            c.complaint_id
            for c in state.complaints.values()
            if c.status is ConditionsComplaintStatus.OPEN and supplier_id in (None, c.supplier_id)
        )

    @precondition(lambda self: bool(self._open_conditions_complaints()))
    @rule(data=st.data(), uphold=st.booleans())
    def rule_on_conditions(self, data: st.DataObject, uphold: bool) -> None:
        """The review body upholds or dismisses, before or after the deadline: upheld, the
        tender is held until the buyer amends it significantly or cancels it."""
        complaint_id = data.draw(st.sampled_from(self._open_conditions_complaints()))
        self.world.attempt(self.world.rule_on_conditions(complaint_id, uphold=uphold))

    # After every step

    @invariant()
    def nothing_stuck_and_publication_consistent(self) -> None:
        found = untolerated(self.world.violations())
        assert not found, found


ProcedureMachine.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_no_procedure_gets_stuck = ProcedureMachine.TestCase


# What the machine found on today's domain, each reduced to its shortest story


def ron(amount: str) -> Value:
    return Value(amount=Decimal(amount), currency="RON")


def opened(bids: dict[str, Value], *, auction: bool = False) -> World:
    """A one-lot tender whose bids (bidder -> price, in the order received) were opened."""
    world = World()
    world.publish(1, auction=auction)
    for bidder, price in bids.items():
        world.submit(bidder, {"lot-1": price})
    assert world.attempt(world.close())
    world.open()
    return world


def step(world: World, command: AnyEvaluationCommand, actor: Actor) -> None:
    accepted = world.attempt(world.evaluate(type(command).__name__, command, actor))
    assert accepted, world.refused[-1]


def awarded(world: World, cuts: dict[str, Decimal] | None = None) -> None:
    """Every bid qualified, the lot completed (and its auction held, with ``cuts``), awarded."""
    evaluated = world.evaluation
    assert evaluated is not None
    for bid_id in sorted(evaluated.bids):
        step(world, QualifyBid(ocid=OCID, bid_id=bid_id), MEMBER)
    step(world, CompleteLotEvaluation(ocid=OCID, lot_id=LOT), OFFICER)
    if world.attempt(world.schedule_auction(LOT)):
        assert world.run_auction(LOT, cuts or {})
    step(world, DecideAward(ocid=OCID, lot_id=LOT), OFFICER)


def contracted(world: World) -> None:
    """Drawn once the standstill is over."""
    assert world.attempt(world.draw(LOT, world.now + 11 * DAY)), world.refused[-1]


def violations_of(world: World, item: str) -> list[Violation]:
    return [violation for violation in world.violations() if violation.item == item]


LOT = "lot-1"
A, B, C = SUPPLIERS[:3]


def test_item_1_a_bid_in_another_currency_does_not_block_the_others() -> None:
    """A bid in EUR on a RON lot is rejected at the opening; A's bid is evaluated."""
    world = opened({A: ron("900.00"), B: Value(amount=Decimal("850.00"), currency="EUR")})
    assert world.evaluation is not None, world.refused
    assert not violations_of(world, "item 1")


def test_item_1_a_bid_for_a_lot_the_amendment_removed_does_not_block_the_others() -> None:
    """B bid for lot-2, which an amendment then removed: A's bid for lot-1 is evaluated."""
    world = World()
    world.publish(2, auction=False)
    world.submit(A, {LOT: ron("900.00")})
    world.submit(B, {"lot-2": ron("900.00")})
    assert world.attempt(world.amend(drop_last_lot=True))
    world.now += 11 * DAY  # the tender was given the time a significant change needs
    assert world.attempt(world.close())
    assert world.open(), world.refused


def test_item_2_a_bid_sent_before_a_significant_amendment_is_not_evaluated_unconfirmed() -> None:
    """The estimate changed after A bid, and A never reconfirmed: A's bid is not evaluated."""
    world = World()
    world.publish(1, auction=False)
    world.submit(A, {LOT: ron("900.00")})
    assert world.attempt(world.amend(estimate=Decimal("1200.00")))
    world.submit(B, {LOT: ron("950.00")})
    world.now += 11 * DAY
    assert world.attempt(world.close())
    world.open()
    assert not violations_of(world, "item 2")


def test_item_7_the_standstill_ends_at_the_end_of_the_tenth_day_in_the_buyers_zone() -> None:
    """Awarded at 11:00 in Bucharest: complaints may come until the 10th day's midnight."""
    world = opened({A: ron("900.00")})
    awarded(world)
    assert not violations_of(world, "item 7")


def test_item_5_a_lot_whose_contract_is_signed_by_both_is_not_cancelled() -> None:
    """Once both parties signed, only the contract's termination applies."""
    world = opened({A: ron("900.00")})
    awarded(world)
    contracted(world)
    assert world.attempt(world.sign(LOT, OFFICER))
    assert world.attempt(world.sign(LOT, supplier(A)))
    world.attempt(world.evaluate("cancel", CancelLot(ocid=OCID, lot_id=LOT, reason="No"), OFFICER))
    assert not violations_of(world, "item 5")


def test_item_9_a_bid_rejected_for_one_lot_stays_admissible_for_another() -> None:
    """A is rejected for lot-2 only: its bid for lot-1 is still admissible."""
    world = World()
    world.publish(2, auction=False)
    world.submit(A, {LOT: ron("900.00"), "lot-2": ron("900.00")})
    assert world.attempt(world.close())
    assert world.open()
    reason = "No service for lot-2"
    command = DisqualifyBid.model_validate(
        {"ocid": OCID, "bid_id": "bid-1", "lot_id": "lot-2", "reason": reason}
    )
    step(world, command, MEMBER)
    evaluated = world.evaluation
    assert evaluated is not None
    assert evaluated.lots["lot-2"].decisions["bid-1"].admissible is False
    assert "bid-1" not in evaluated.lots[LOT].decisions  # still to be decided for lot-1


def test_item_8_a_tenderer_may_complain_about_a_lots_cancellation() -> None:
    """The buyer cancels the lot A would have won: A may take it to the review body."""
    world = opened({A: ron("900.00")})
    step(world, CancelLot(ocid=OCID, lot_id=LOT, reason="The need disappeared"), OFFICER)
    grounds = "The need did not disappear: the same paper is bought elsewhere"
    complaint = FileComplaint(
        ocid=OCID, lot_id=LOT, grounds=grounds, subject=ComplaintSubject.CANCELLATION
    )
    step(world, complaint, supplier(A))
    ruling = UpholdComplaint(
        ocid=OCID, complaint_id="complaint-1", remedy=Remedy.ANNUL_CANCELLATION, reason="Grounds"
    )
    step(world, ruling, REVIEWER)
    assert world.lots_live() == [LOT]  # the lot resumes where it was


def test_item_10_a_bid_whose_validity_ended_is_not_qualified_without_a_decision() -> None:
    """A's bid was valid until before the evaluation: the committee cannot simply qualify it."""
    world = World()
    world.publish(1, auction=False)
    world.submit(A, {LOT: ron("900.00")}, valid_until=world.now.date() + 32 * DAY)
    assert world.attempt(world.close())
    assert world.open()
    world.now += 5 * DAY
    command = QualifyBid(ocid=OCID, bid_id="bid-1")
    assert not world.attempt(world.evaluate("qualify", command, MEMBER))


def test_item_11_a_tender_closed_without_bids_ends_unsuccessful() -> None:
    """Nobody bid: the tender ends by itself, it does not wait for the buyer to cancel it."""
    world = opened({})
    assert world.lots_live() == []


def test_item_11_a_lot_whose_only_price_was_rejected_ends_unsuccessful() -> None:
    """The only bid's abnormally low price is not justified in time: the lot is unsuccessful."""
    world = opened({A: ron("500.00")})
    step(world, QualifyBid(ocid=OCID, bid_id="bid-1"), MEMBER)
    step(world, CompleteLotEvaluation(ocid=OCID, lot_id=LOT), OFFICER)
    names = {"ocid": OCID, "lot_id": LOT, "bid_id": "bid-1"}
    asked = RequestJustification(**names, question="How?", respond_by=world.now + 3 * DAY)
    step(world, asked, OFFICER)
    world.now += 4 * DAY
    step(world, RejectJustification(**names, reason="No answer came"), OFFICER)
    assert not violations_of(world, "item 11")
    assert world.lots_live() == []


def test_item_4_a_winner_that_refuses_to_sign_hands_the_lot_to_the_next() -> None:
    """A wins, is contracted, refuses to sign: the buyer annuls A's award, A's contract is
    cancelled with it, B wins with an award and a contract of its own, and OCDS does not
    show A's award active beside a cancelled contract."""
    world = opened({A: ron("900.00"), B: ron("950.00")})
    awarded(world)
    contracted(world)
    first = world.contract_id(LOT)
    assert world.attempt(world.annul(LOT))
    assert not violations_of(world, "item 4")
    step(world, DecideAward(ocid=OCID, lot_id=LOT), OFFICER)
    contracted(world)
    assert world.contract_id(LOT) != first
    contract = world.contract(LOT)
    assert contract is not None
    assert contract.supplier_id == B
    assert len(set(world.award_ids)) == 2
    assert not violations_of(world, "item 4")


def test_item_4_an_award_made_again_after_a_complaint_has_a_new_id() -> None:
    """A complaint is upheld, the lot re-evaluated and A wins again: a new award, a new id."""
    world = opened({A: ron("900.00"), B: ron("950.00")})
    awarded(world)
    step(world, FileComplaint(ocid=OCID, lot_id=LOT, grounds="A's price"), supplier(B))
    ruling = UpholdComplaint(
        ocid=OCID, complaint_id="complaint-1", remedy=Remedy.RE_EVALUATE, reason="Check again"
    )
    step(world, ruling, REVIEWER)
    step(world, CompleteLotEvaluation(ocid=OCID, lot_id=LOT), OFFICER)
    step(world, DecideAward(ocid=OCID, lot_id=LOT), OFFICER)
    assert len(set(world.award_ids)) == len(world.award_ids) == 2


def test_item_5_a_tender_cancelled_after_the_opening_stops_its_evaluation() -> None:
    """Cancelled once its bids were opened: no qualification is taken after it."""
    world = opened({A: ron("900.00")})
    assert world.attempt(world.cancel_tender())
    assert not violations_of(world, "item 5")


def test_item_5_a_tender_cancelled_after_its_award_publishes_no_live_award() -> None:
    """Cancelled with a contract waiting for signatures: OCDS shows no active award and no
    pending contract, and the contract cannot be signed."""
    world = opened({A: ron("900.00")})
    awarded(world)
    contracted(world)
    assert world.attempt(world.cancel_tender())
    assert not violations_of(world, "item 5")


def test_item_3_an_auction_lot_whose_award_is_overturned_can_be_awarded_again() -> None:
    """A complaint against an auction lot's award is upheld: the lot is evaluated again on
    the auction's prices and awarded, not stuck waiting for a second auction."""
    world = opened({A: ron("900.00"), B: ron("950.00")}, auction=True)
    awarded(world, {B: Decimal("850.00")})
    step(world, FileComplaint(ocid=OCID, lot_id=LOT, grounds="B's price"), supplier(A))
    ruling = UpholdComplaint(
        ocid=OCID, complaint_id="complaint-1", remedy=Remedy.RE_EVALUATE, reason="Check again"
    )
    step(world, ruling, REVIEWER)
    assert not violations_of(world, "item 3")
    step(world, CompleteLotEvaluation(ocid=OCID, lot_id=LOT), OFFICER)
    assert not violations_of(world, "item 3")


def test_item_6_a_tie_in_the_auction_is_broken_as_the_award_breaks_it() -> None:
    """B bid first, A reached 850 first in the auction: the award goes to the auction's first."""
    world = opened({B: ron("950.00"), A: ron("900.00")}, auction=True)
    awarded(world, {A: Decimal("850.00"), B: Decimal("850.00")})
    assert not violations_of(world, "item 6")


def test_savings_count_only_concluded_awards() -> None:
    """A lot awarded but still in its standstill saves nothing yet."""
    world = opened({A: ron("900.00")})
    awarded(world)
    assert not violations_of(world, "savings")


def conditions_upheld(world: World, complainant: str) -> None:
    """``complainant`` challenges the conditions and the review body upholds it."""
    assert world.attempt(world.complain_about_conditions(complainant)), world.refused[-1]
    filed = world.complaints
    assert filed is not None
    complaint_id = max(filed.complaints)
    assert world.attempt(world.rule_on_conditions(complaint_id, uphold=True)), world.refused[-1]


def test_item_8_an_upheld_complaint_holds_the_tender_until_a_significant_amendment() -> None:
    """C, who never bid, wins its complaint: the deadline passes, the tender does not close,
    it is not stuck (the buyer may amend it), and amended it closes at its new deadline."""
    world = World()
    world.publish(1, auction=False)
    world.submit(A, {LOT: ron("900.00")})
    conditions_upheld(world, C)
    world.now += 40 * DAY
    assert not world.attempt(world.close())
    assert world.refused[-1] == "close: remedy_pending"
    assert world.stuck() == []
    assert world.attempt(world.amend(estimate=Decimal("1200.00")))
    assert world.bidding_open()  # the deadline was extended for the new requirements
    world.reconfirm(A)
    assert world.attempt(world.close())
    assert world.open(), world.refused
    assert not violations_of(world, "item 8")


def test_item_8_a_complaint_upheld_after_the_close_keeps_the_bids_sealed() -> None:
    """Filed before the deadline, upheld after the close: the bids stay sealed, and the
    buyer's cancellation is the one way on."""
    world = World()
    world.publish(1, auction=False)
    world.submit(A, {LOT: ron("900.00")})
    assert world.attempt(world.complain_about_conditions(B))
    assert world.attempt(world.close())
    assert world.attempt(world.rule_on_conditions("conditions-complaint-1", uphold=True))
    assert not world.open()
    assert world.refused[-1] == "open bids: remedy_pending"
    assert world.stuck() == []
    assert [m.name for m in world.progress(LOT) if accepted(m)] == ["cancel tender"]
    assert world.attempt(world.cancel_tender())
    assert world.lots_live() == []


def test_item_8_an_amendment_before_the_decision_does_not_remedy_it() -> None:
    """The buyer amended while the complaint was pending: the upheld complaint still holds."""
    world = World()
    world.publish(1, auction=False)
    assert world.attempt(world.complain_about_conditions(A))
    assert world.attempt(world.amend(estimate=Decimal("1200.00")))
    assert world.attempt(world.rule_on_conditions("conditions-complaint-1", uphold=True))
    world.now += 40 * DAY
    assert not world.attempt(world.close())
    assert world.held()


def test_item_8_conditions_are_challenged_only_before_the_deadline() -> None:
    """A complaint at the deadline is refused: the conditions stood for every bid."""
    world = World()
    world.publish(1, auction=False)
    tender = world.tender
    assert tender is not None
    world.now = tender.submission_deadline
    assert not world.attempt(world.complain_about_conditions(A))
    assert world.refused[-1] == "complain about the conditions: submission_deadline_passed"


def test_a_contract_nobody_signed_is_not_terminated_but_ends_with_its_award() -> None:
    """The winner will not sign: terminating the drawn contract is refused, since its award
    would stand beside a contract that can never be concluded; the buyer annuls the award."""
    world = opened({A: ron("900.00"), B: ron("950.00")})
    awarded(world)
    contracted(world)
    assert not world.attempt(world.terminate(LOT))
    assert world.refused[-1].endswith("contract_not_concluded"), world.refused[-1]
    assert not violations_of(world, "item 4")
