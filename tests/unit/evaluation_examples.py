"""Concrete values the evaluation tests share: a buyer, its committee, bidders, tenders and
bids, and a small driver that applies what ``decide`` accepts."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bidding.keys import sign
from procurement.evaluation import (
    QUALITY_SCORE,
    Evaluation,
    decide,
    evolve,
    score_fields,
)
from schemas.commands import Actor, Role
from schemas.evaluation import (
    AnyEvaluationCommand,
    CompleteLotEvaluation,
    DecideAward,
    EvaluationFacts,
    LotFacts,
    OfferedPrice,
    OpenedBid,
    QualifyBid,
    ScoreQuality,
    StartEvaluation,
)
from schemas.events import Event
from schemas.values import AwardCriteria, QualityCriterion, Value

NOW = datetime(2030, 5, 4, 10, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

OCID = "ocds-000000-0007"
BUYER = "agency-RO-CUI-4305857"
MEMBERS = ("officer-ana", "officer-dan")
LOT = "lot-1"
LOT_2 = "lot-2"

ANA = Actor(id="officer-ana", role=Role.OFFICER, agency_id=BUYER)
DAN = Actor(id="officer-dan", role=Role.OFFICER, agency_id=BUYER)
BUYERS_OFFICER = Actor(id="officer-ion", role=Role.OFFICER, agency_id=BUYER)  # not a member
STRANGER = Actor(id="officer-eva", role=Role.OFFICER, agency_id="agency-RO-CUI-1")
SYSTEM = Actor(id="evaluation-service", role=Role.SYSTEM)
REVIEWER = Actor(id="reviewer-cnsc-1", role=Role.REVIEWER, agency_id="agency-CNSC")
BUYERS_REVIEWER = Actor(id="reviewer-own", role=Role.REVIEWER, agency_id=BUYER)
OPERATOR = Actor(id="operator", role=Role.OPERATOR)


def supplier(bidder_id: str) -> Actor:
    return Actor(id=bidder_id, role=Role.SUPPLIER)


# One signing key per member, as each keeps on their own machine.
MEMBER_KEYS = {
    member: Ed25519PrivateKey.from_private_bytes(bytes([n]) * 32)
    for n, member in enumerate(MEMBERS, 1)
}

TECH = QualityCriterion(id="tech", name="Technical merit", weight=Decimal(30))
DELIVERY = QualityCriterion(id="delivery", name="Delivery time", weight=Decimal(10))


def facts(
    *,
    lots: dict[str, str] | None = None,
    rated: bool = False,
    auction: bool = False,
    share: str = "80",
    standstill_days: int = 10,
) -> EvaluationFacts:
    """A tender of BUYER: lots with their estimates (1000 RON by default), priceOnly, or
    ratedCriteria at 60 points for price, 30 for TECH and 10 for DELIVERY."""
    estimates = lots or {LOT: "1000.00"}
    return EvaluationFacts(
        ocid=OCID,
        buyer_id=BUYER,
        lots=tuple(
            LotFacts(lot_id=lot_id, estimated_value=Value(amount=Decimal(amount), currency="RON"))
            for lot_id, amount in estimates.items()
        ),
        award_criteria=AwardCriteria.RATED_CRITERIA if rated else AwardCriteria.PRICE_ONLY,
        price_weight=Decimal(60 if rated else 100),
        quality_criteria=(TECH, DELIVERY) if rated else (),
        abnormally_low_share=Decimal(share),
        standstill_days=standstill_days,
        has_auction=auction,
        committee=MEMBERS,
    )


def bid(
    bid_id: str, price: str | dict[str, str], *, minutes: int = 0, bidder: str | None = None
) -> OpenedBid:
    """A bid for LOT at ``price`` (or for several lots), received ``minutes`` after the first."""
    prices = price if isinstance(price, dict) else {LOT: price}
    return OpenedBid(
        bid_id=bid_id,
        bidder_id=bidder or f"supplier-{bid_id}",
        is_sme=True,
        received_at=NOW - 30 * DAY + timedelta(minutes=minutes),
        offers=tuple(
            OfferedPrice(lot_id=lot_id, price=Value(amount=Decimal(amount), currency="RON"))
            for lot_id, amount in prices.items()
        ),
    )


def bidder(bid_id: str) -> Actor:
    return supplier(f"supplier-{bid_id}")


def signed_score(
    member: str, lot_id: str, bid_id: str, criterion_id: str, score: str, revision: int = 1
) -> ScoreQuality:
    """A member's score, signed with the member's key over ``score_fields``."""
    value = Decimal(score)
    fields = score_fields(OCID, lot_id, bid_id, criterion_id, member, value, revision)
    return ScoreQuality(
        ocid=OCID,
        lot_id=lot_id,
        bid_id=bid_id,
        criterion_id=criterion_id,
        score=value,
        revision=revision,
        signature=sign(MEMBER_KEYS[member], QUALITY_SCORE, fields),
    )


@dataclass
class Procedure:
    """An evaluation driven step by step: each accepted command's events are applied."""

    state: Evaluation | None = None
    events: list[Event] = field(default_factory=list)
    now: datetime = NOW

    def do(
        self, command: AnyEvaluationCommand, actor: Actor, *, signature_valid: bool = True
    ) -> list[Event]:
        events = decide(self.state, command, actor, self.now, signature_valid=signature_valid)
        for event in events:
            self.state = evolve(self.state, event)
        self.events += events
        return events

    @property
    def evaluation(self) -> Evaluation:
        assert self.state is not None
        return self.state

    def wait(self, period: timedelta) -> None:
        self.now += period


def started(tender: EvaluationFacts, *bids: OpenedBid) -> Procedure:
    procedure = Procedure()
    procedure.do(StartEvaluation(ocid=OCID, facts=tender, bids=bids), SYSTEM)
    return procedure


def qualify_all(procedure: Procedure, *bid_ids: str) -> None:
    for bid_id in bid_ids:
        procedure.do(QualifyBid(ocid=OCID, bid_id=bid_id), ANA)


def evaluated(tender: EvaluationFacts, *bids: OpenedBid, lot_id: str = LOT) -> Procedure:
    """Every bid qualified and the lot's evaluation completed (priceOnly)."""
    procedure = started(tender, *bids)
    qualify_all(procedure, *(b.bid_id for b in bids))
    procedure.do(CompleteLotEvaluation(ocid=OCID, lot_id=lot_id), BUYERS_OFFICER)
    return procedure


def awarded(tender: EvaluationFacts, *bids: OpenedBid) -> Procedure:
    procedure = evaluated(tender, *bids)
    procedure.do(DecideAward(ocid=OCID, lot_id=LOT), BUYERS_OFFICER)
    return procedure
