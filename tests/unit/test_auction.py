"""The electronic reverse auction of one lot: the formula, the closing rules, recorded
rejections, what bidders see, and properties over random auctions and random prices."""

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any

import hypothesis
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import Field, TypeAdapter, ValidationError

from procurement import auction
from procurement.auction import Auction, AuctionStatus, PersistentVector
from procurement.errors import NotAllowed, Rejected, WrongState
from schemas.auction import (
    AUCTION_EVENTS,
    AuctionCancelled,
    AuctionClosed,
    AuctionOpened,
    AuctionParticipant,
    AuctionPriceAccepted,
    AuctionPriceRejected,
    AuctionScheduled,
    RejectionReason,
)
from schemas.commands import Actor, Role
from schemas.events import Event
from schemas.values import AuctionEnd, AuctionRules

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # when every auction here starts
INVITED = T0 - timedelta(days=3)
BUYER = "agency-RO-CUI-4305857"
PLATFORM = Actor(id="platform", role=Role.SYSTEM)
OFFICER = Actor(id="officer-ana", role=Role.OFFICER, agency_id=BUYER)
FIXED_60 = AuctionRules(ends=AuctionEnd.FIXED_TIME, duration_seconds=60)


def seconds(n: float) -> datetime:
    return T0 + timedelta(seconds=n)


def participant(bidder_id: str, price: str, quality: str = "0") -> AuctionParticipant:
    return AuctionParticipant(
        bidder_id=bidder_id,
        bid_id=f"bid-{bidder_id}",
        initial_price=Decimal(price),
        quality_part=Decimal(quality),
    )


@dataclass
class Run:
    """An auction driven step by step, keeping every event it recorded."""

    state: Auction
    events: list[Event] = field(default_factory=list)

    def apply(self, events: Sequence[Event]) -> list[Event]:
        for event in events:
            self.state = auction.evolve(self.state, event)
            self.events.append(event)
        return list(events)

    def price(self, bidder_id: str, price: str | Decimal, at: datetime) -> Event:
        (event,) = self.apply(auction.submit_price(self.state, bidder_id, Decimal(price), at))
        return event

    def ranks(self) -> dict[str, int]:
        return {row.bidder_id: row.rank for row in auction.ranking(self.state)}


def scheduled(
    *participants: AuctionParticipant,
    rules: AuctionRules = FIXED_60,
    price_weight: str = "100",
    show_leading_price: bool = True,
) -> Run:
    events = auction.schedule(
        PLATFORM,
        ocid="ocds-000000-2026-000001",
        lot_id="lot-1",
        buyer_id=BUYER,
        currency="RON",
        starts_at=T0,
        rules=rules,
        price_weight=Decimal(price_weight),
        participants=participants,
        now=INVITED,
        show_leading_price=show_leading_price,
    )
    run = Run(auction.evolve(None, events[0]))
    run.events.extend(events)
    return run


def opened(*participants: AuctionParticipant, **kwargs: Any) -> Run:
    run = scheduled(*participants, **kwargs)
    run.apply(auction.open_auction(run.state, PLATFORM, T0))
    return run


THREE = (
    participant("alpha", "1000.00"),
    participant("bravo", "1250.00"),
    participant("charlie", "800.00"),
)


# The formula, by hand


def test_price_only_scores_are_the_lowest_price_over_ones_own() -> None:
    """priceOnly: 100 * 800 / 1000 = 80, 100 * 800 / 1250 = 64, the lowest scores 100."""
    rows = auction.ranking(scheduled(*THREE).state)
    assert [(r.bidder_id, r.price_score, r.quality_part, r.total, r.rank) for r in rows] == [
        ("charlie", Decimal("100.0000"), Decimal(0), Decimal("100.0000"), 1),
        ("alpha", Decimal("80.0000"), Decimal(0), Decimal("80.0000"), 2),
        ("bravo", Decimal("64.0000"), Decimal(0), Decimal("64.0000"), 3),
    ]


def test_quality_parts_are_added_to_the_price_score() -> None:
    """Price weight 60: 60*900/1000+30 = 84, 60*900/900+20 = 80, 60*900/1200+40 = 85."""
    run = scheduled(
        participant("alpha", "1000.00", "30"),
        participant("bravo", "900.00", "20"),
        participant("charlie", "1200.00", "40"),
        price_weight="60",
    )
    rows = auction.ranking(run.state)
    assert [(r.bidder_id, r.price_score, r.total, r.rank) for r in rows] == [
        ("charlie", Decimal("45.0000"), Decimal("85.0000"), 1),
        ("alpha", Decimal("54.0000"), Decimal("84.0000"), 2),
        ("bravo", Decimal("60.0000"), Decimal("80.0000"), 3),
    ]


def test_a_price_change_moves_every_score_and_rank() -> None:
    """alpha goes to 850.00, the new lowest: 60*850/850+30 = 90 leads; charlie falls to
    60*850/1200 = 42.5 + 40 = 82.5, bravo to 60*850/900 = 56.6667 (56.666.. half up) + 20."""
    run = opened(
        participant("alpha", "1000.00", "30"),
        participant("bravo", "900.00", "20"),
        participant("charlie", "1200.00", "40"),
        price_weight="60",
    )
    assert isinstance(run.price("alpha", "850.00", seconds(1)), AuctionPriceAccepted)
    rows = {r.bidder_id: r for r in auction.ranking(run.state)}
    assert (rows["alpha"].total, rows["alpha"].rank) == (Decimal("90.0000"), 1)
    assert (rows["bravo"].total, rows["bravo"].rank) == (Decimal("76.6667"), 3)
    assert (rows["charlie"].total, rows["charlie"].rank) == (Decimal("82.5000"), 2)


def test_the_price_score_is_rounded_half_up_to_a_ten_thousandth() -> None:
    """100 * 1.00 / 3200.00 = 0.03125 exactly: half up gives 0.0313, not half even's 0.0312."""
    rows = auction.ranking(scheduled(participant("a", "1.00"), participant("b", "3200.00")).state)
    assert rows[1].price_score == Decimal("0.0313")


def test_a_tie_goes_to_whoever_reached_the_price_first_then_to_the_bidder_id() -> None:
    """Equal initial prices rank by id; then bravo reaches 990.00 before alpha and leads."""
    run = opened(participant("alpha", "1000.00"), participant("bravo", "1000.00"))
    assert run.ranks() == {"alpha": 1, "bravo": 2}
    run.price("bravo", "990.00", seconds(1))
    run.price("alpha", "990.00", seconds(1))  # the same instant, recorded second
    assert run.ranks() == {"bravo": 1, "alpha": 2}


# Closing rules


def test_a_fixed_time_auction_closes_its_duration_after_the_opening() -> None:
    """Open 60 s from T0: nothing is due at 59.999 s; at 60 s it closes with the ranking."""
    run = opened(*THREE)
    assert auction.closes_at(run.state) == seconds(60)
    assert auction.close_if_due(run.state, PLATFORM, seconds(59.999)) == []
    (closed,) = run.apply(auction.close_if_due(run.state, PLATFORM, seconds(61)))
    assert isinstance(closed, AuctionClosed)
    assert (closed.closed_at, closed.reason) == (seconds(60), AuctionEnd.FIXED_TIME)
    assert [(r.bidder_id, r.rank) for r in closed.ranking] == [
        ("charlie", 1),
        ("alpha", 2),
        ("bravo", 3),
    ]
    assert run.state.status is AuctionStatus.CLOSED
    assert auction.close_if_due(run.state, PLATFORM, seconds(120)) == []


def test_the_clock_starts_at_the_opening_so_a_late_timer_shortens_nothing() -> None:
    """Opened 2 s late, a 60 s auction closes at 62 s."""
    run = scheduled(*THREE)
    run.apply(auction.open_auction(run.state, PLATFORM, seconds(2)))
    assert auction.closes_at(run.state) == seconds(62)


def test_an_inactivity_auction_closes_when_no_price_is_accepted_for_the_period() -> None:
    """30 s of inactivity: a price at 20 s moves the close to 50 s; a rejected one does not."""
    run = opened(*THREE, rules=AuctionRules(ends=AuctionEnd.INACTIVITY, inactivity_seconds=30))
    assert auction.closes_at(run.state) == seconds(30)
    run.price("alpha", "900.00", seconds(20))
    run.price("bravo", "1249.99", seconds(25))  # not 0.5% below: rejected
    assert auction.closes_at(run.state) == seconds(50)
    assert auction.close_if_due(run.state, PLATFORM, seconds(49.9)) == []
    (closed,) = run.apply(auction.close_if_due(run.state, PLATFORM, seconds(50)))
    assert isinstance(closed, AuctionClosed)
    assert (closed.closed_at, closed.reason) == (seconds(50), AuctionEnd.INACTIVITY)


def test_a_rounds_auction_numbers_prices_by_round_and_closes_after_the_last() -> None:
    """3 rounds of 10 s: prices at 5, 10 and 29.9 s are in rounds 1, 2 and 3; it closes at 30 s."""
    run = opened(*THREE, rules=AuctionRules(ends=AuctionEnd.ROUNDS, rounds=3, round_seconds=10))
    accepted = [
        run.price("alpha", "990.00", seconds(5)),
        run.price("alpha", "980.00", seconds(10)),
        run.price("alpha", "970.00", seconds(29.9)),
    ]
    assert [e.round for e in accepted if isinstance(e, AuctionPriceAccepted)] == [1, 2, 3]
    assert [e.sequence for e in accepted if isinstance(e, AuctionPriceAccepted)] == [1, 2, 3]
    assert auction.closes_at(run.state) == seconds(30)
    (closed,) = run.apply(auction.close_if_due(run.state, PLATFORM, seconds(30)))
    assert isinstance(closed, AuctionClosed)
    assert closed.reason is AuctionEnd.ROUNDS


def test_the_timer_is_told_what_is_due_next() -> None:
    """Scheduled: the start; open: the close; closed: nothing."""
    run = scheduled(*THREE)
    assert auction.next_due(run.state) == T0
    run.apply(auction.open_auction(run.state, PLATFORM, T0))
    assert auction.next_due(run.state) == seconds(60)
    run.apply(auction.close_if_due(run.state, PLATFORM, seconds(60)))
    assert auction.next_due(run.state) is None


def test_an_auction_opens_at_its_start_and_only_once() -> None:
    """Before starts_at, or a second time, opening is the wrong state."""
    run = scheduled(*THREE)
    with pytest.raises(WrongState) as early:
        auction.open_auction(run.state, PLATFORM, seconds(-1))
    assert early.value.code == "start_ahead"
    run.apply(auction.open_auction(run.state, PLATFORM, T0))
    assert run.events[-1] == AuctionOpened(opened_at=T0)
    with pytest.raises(WrongState):
        auction.open_auction(run.state, PLATFORM, seconds(1))


# Rejected prices: recorded, reported, and changing no rank


def rejected(run: Run, bidder_id: str, price: str, at: datetime) -> AuctionPriceRejected:
    """Submit a price that must be rejected; check that check_price raises what is recorded
    and that no rank, price or closing time moved."""
    before = (auction.ranking(run.state), auction.closes_at(run.state), run.state.accepted)
    with pytest.raises(Rejected) as raised:
        auction.check_price(run.state, bidder_id, Decimal(price), at)
    event = run.price(bidder_id, price, at)
    assert isinstance(event, AuctionPriceRejected)
    reported = auction.error_of(event)
    assert (type(reported), reported.code, reported.detail) == (
        type(raised.value),
        raised.value.code,
        raised.value.detail,
    )
    assert reported.code == event.reason_code.value
    assert (auction.ranking(run.state), auction.closes_at(run.state), run.state.accepted) == before
    return event


def test_a_price_not_far_enough_below_ones_last_is_recorded_as_not_decreasing() -> None:
    """1,000.00 after 1,002.00 is less than 0.50% lower: at most 1002 * 0.995 = 996.99."""
    run = opened(participant("alpha", "1002.00"), participant("bravo", "1100.00"))
    event = rejected(run, "alpha", "1000.00", seconds(1))
    assert event.reason_code is RejectionReason.NOT_DECREASING
    assert event.reason == (
        "1,000.00 is not at least 0.50% below your last price 1,002.00: at most 996.99"
    )
    assert auction.error_of(event).status == 422
    assert isinstance(run.price("alpha", "996.99", seconds(2)), AuctionPriceAccepted)


def test_the_decrement_is_from_ones_own_last_price_not_the_leaders() -> None:
    """bravo may lower its price without beating alpha's."""
    run = opened(participant("alpha", "500.00"), participant("bravo", "1000.00"))
    assert isinstance(run.price("bravo", "990.00", seconds(1)), AuctionPriceAccepted)
    assert (
        rejected(run, "bravo", "990.00", seconds(2)).reason_code is RejectionReason.NOT_DECREASING
    )


def test_a_price_from_someone_not_invited_is_recorded_and_forbidden() -> None:
    """A foreign bidder is refused with 403 and learns nothing of the auction's state."""
    run = opened(*THREE)
    event = rejected(run, "delta", "1.00", seconds(1))
    assert (event.reason_code, event.bidder_id) == (RejectionReason.NOT_A_PARTICIPANT, "delta")
    assert isinstance(auction.error_of(event), NotAllowed)
    assert auction.error_of(event).status == 403


def test_a_price_at_the_closing_time_is_late_even_before_the_timer_closes() -> None:
    """At 60 s the auction is still open in the state, but the price is late (409)."""
    run = opened(*THREE)
    event = rejected(run, "alpha", "900.00", seconds(60))
    assert event.reason_code is RejectionReason.LATE
    assert isinstance(auction.error_of(event), WrongState)
    run.apply(auction.close_if_due(run.state, PLATFORM, seconds(60)))
    assert rejected(run, "alpha", "900.00", seconds(61)).reason_code is RejectionReason.LATE


def test_a_price_before_the_opening_is_recorded_as_not_open() -> None:
    """Scheduled, even past starts_at until the timer opens it: not open (409)."""
    run = scheduled(*THREE)
    assert rejected(run, "alpha", "900.00", seconds(-5)).reason_code is RejectionReason.NOT_OPEN
    assert rejected(run, "alpha", "900.00", seconds(0)).reason_code is RejectionReason.NOT_OPEN
    assert run.state.status is AuctionStatus.SCHEDULED


@pytest.mark.parametrize("price", ["0", "-10.00", "900.001", "NaN", "Infinity", "1e30"])
def test_a_price_that_is_not_an_amount_in_cents_is_recorded_as_invalid(price: str) -> None:
    """Zero, negative, fractions of a cent, not a number, too many digits: 422."""
    run = opened(*THREE)
    event = rejected(run, "alpha", price, seconds(1))
    assert event.reason_code is RejectionReason.INVALID_PRICE
    assert auction.error_of(event).status == 422


def test_a_rejection_keeps_the_price_as_sent_through_json() -> None:
    """Even a price that is not a number is recorded and read back."""
    run = opened(*THREE)
    event = rejected(run, "alpha", "NaN", seconds(1))
    again = AuctionPriceRejected.model_validate_json(event.model_dump_json())
    assert again.price.is_nan()
    assert again.reason == event.reason


def test_cancelled_is_final_and_takes_no_prices() -> None:
    """The buyer's officer cancels; prices are then not open, nothing closes, no second cancel."""
    run = opened(*THREE)
    with pytest.raises(NotAllowed):
        auction.cancel(run.state, Actor(id="alpha", role=Role.SUPPLIER), "no", seconds(1))
    run.apply(auction.cancel(run.state, OFFICER, "Budget withdrawn", seconds(1)))
    assert run.state.status is AuctionStatus.CANCELLED
    assert rejected(run, "alpha", "900.00", seconds(2)).reason_code is RejectionReason.NOT_OPEN
    assert auction.close_if_due(run.state, PLATFORM, seconds(100)) == []
    with pytest.raises(WrongState):
        auction.cancel(run.state, OFFICER, "again", seconds(3))


# Scheduling rules


def schedule_with(**changes: Any) -> list[Event]:
    arguments: dict[str, Any] = {
        "ocid": "ocds-000000-2026-000001",
        "lot_id": "lot-1",
        "buyer_id": BUYER,
        "currency": "RON",
        "starts_at": T0,
        "rules": FIXED_60,
        "price_weight": Decimal(100),
        "participants": THREE,
        "now": INVITED,
    }
    actor = changes.pop("actor", PLATFORM)
    return auction.schedule(actor, **(arguments | changes))


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"now": T0 - timedelta(days=1)}, "notice_too_short"),
        ({"participants": THREE[:1]}, "too_few_participants"),
        ({"participants": (*THREE, THREE[0])}, "repeated_bidder"),
        ({"participants": (participant("a", "1.00", "1"), THREE[0])}, "quality_part_too_large"),
        ({"actor": Actor(id="officer-x", role=Role.OFFICER, agency_id="other")}, "not_allowed"),
    ],
)
def test_an_auction_is_scheduled_only_by_the_rules(changes: dict[str, Any], code: str) -> None:
    """Two days' notice, two or more distinct bidders, quality parts within the formula, the
    buyer's officer or the platform."""
    with pytest.raises(Rejected) as refused:
        schedule_with(**changes)
    assert refused.value.code == code


def test_the_buyers_officer_may_schedule() -> None:
    """An officer of the buyer, as well as the platform."""
    assert isinstance(schedule_with(actor=OFFICER)[0], AuctionScheduled)


# What bidders see


def test_invitations_hold_the_rules_and_ones_own_standing_only() -> None:
    """Each invitation has the start, the end rule, the decrement, the formula and its own
    initial price and rank, the number of participants, and nobody else's id or price."""
    run = scheduled(
        participant("alpha", "1000.00", "30"),
        participant("bravo", "900.00", "20"),
        participant("charlie", "1200.00", "40"),
        price_weight="60",
    )
    scheduled_event = run.events[0]
    assert isinstance(scheduled_event, AuctionScheduled)
    sent = dict(auction.invitations(scheduled_event))
    assert sent["alpha"]["initial_rank"] == 2
    assert sent["alpha"]["initial_price"] == "1000.00"
    assert sent["alpha"]["formula"]["your_quality_part"] == "30.0000"
    assert sent["alpha"]["formula"]["price_weight"] == "60"
    assert sent["alpha"]["ends"] == {"rule": "fixed_time", "duration_seconds": 60}
    assert sent["alpha"]["minimum_decrement"] == "0.50"
    assert sent["alpha"]["starts_at"] == T0.isoformat()
    assert sent["alpha"]["participants"] == 3
    secrets = {
        "alpha": ("alpha", "1000.00", "30.0000"),
        "bravo": ("bravo", "900.00", "20.0000"),
        "charlie": ("charlie", "1200.00", "40.0000"),
    }
    for bidder, invitation in sent.items():
        text = json.dumps(invitation)
        for other, values in secrets.items():
            if other != bidder:
                assert not any(value in text for value in values)


def test_a_bidder_sees_its_own_standing_and_the_leading_price_but_no_identity() -> None:
    """alpha sees its price, score and rank, the lowest price and best total, anonymously."""
    run = opened(*THREE)
    run.price("alpha", "750.00", seconds(1))
    view = auction.bidder_view(run.state, "bravo")
    assert view["your_price"] == "1250.00"
    assert view["your_rank"] == 3
    assert view["your_total"] == "60.0000"  # 100 * 750 / 1250
    assert view["leading_price"] == "750.00"
    assert view["best_total"] == "100.0000"
    assert view["participants"] == 3
    assert view["your_next_price_at_most"] == "1243.75"
    text = json.dumps(view)
    assert "alpha" not in text
    assert "charlie" not in text


def test_the_leading_price_is_hidden_when_the_specification_says_so() -> None:
    """show_leading_price=False: only one's own standing and the number of participants."""
    run = opened(*THREE, show_leading_price=False)
    view = auction.bidder_view(run.state, "alpha")
    assert (view["leading_price"], view["best_total"]) == (None, None)
    assert "800.00" not in json.dumps(view)


def test_only_participants_have_a_view() -> None:
    """A stranger asking for its view is refused."""
    with pytest.raises(NotAllowed):
        auction.bidder_view(opened(*THREE).state, "delta")


def test_all_views_at_once_equal_each_view_alone() -> None:
    """bidder_views ranks once and gives the same as bidder_view for each bidder."""
    run = opened(*THREE)
    run.price("bravo", "700.00", seconds(1))
    views = auction.bidder_views(run.state)
    assert views == {b: auction.bidder_view(run.state, b) for b in ("alpha", "bravo", "charlie")}


# Events and history

# What the event store would do: write the events as JSON and read them back as any of them.
READER: TypeAdapter[list[Any]] = TypeAdapter(
    list[
        Annotated[
            AuctionScheduled
            | AuctionOpened
            | AuctionPriceAccepted
            | AuctionPriceRejected
            | AuctionClosed
            | AuctionCancelled,
            Field(discriminator="type"),
        ]
    ]
)


def test_events_read_back_from_json_replay_to_the_same_auction() -> None:
    """Through one TypeAdapter over AUCTION_EVENTS, as the event store would."""
    run = opened(*THREE)
    run.price("alpha", "900.00", seconds(1))
    run.price("delta", "1.00", seconds(2))
    run.apply(auction.close_if_due(run.state, PLATFORM, seconds(60)))
    again = READER.validate_json(READER.dump_json(run.events))
    assert again == run.events
    assert auction.replay(again) == run.state
    assert {cls.model_fields["type"].default for cls in AUCTION_EVENTS} == {
        e.__name__ for e in AUCTION_EVENTS
    }


def test_a_history_the_lifecycle_forbids_is_refused() -> None:
    """A price accepted before the opening, out of sequence, or from a stranger is corrupt."""
    run = scheduled(*THREE)
    price = AuctionPriceAccepted(bidder_id="alpha", price=Decimal(900), at=T0, round=1, sequence=1)
    with pytest.raises(ValueError, match="cannot happen"):
        auction.evolve(run.state, price)
    run.apply(auction.open_auction(run.state, PLATFORM, T0))
    with pytest.raises(ValueError, match="does not follow"):
        auction.evolve(run.state, price.model_copy(update={"sequence": 2}))
    with pytest.raises(ValueError, match="does not follow"):
        auction.evolve(run.state, price.model_copy(update={"bidder_id": "delta"}))
    with pytest.raises(ValueError, match="cannot happen"):
        auction.evolve(None, AuctionOpened(opened_at=T0))


def test_the_scheduled_event_refuses_quality_parts_beyond_the_formula() -> None:
    """The wire format holds the invariants too: no quality part above 100 - price_weight."""
    with pytest.raises(ValidationError):
        AuctionScheduled(
            ocid="o",
            lot_id="l",
            buyer_id=BUYER,
            currency="RON",
            starts_at=T0,
            rules=FIXED_60,
            price_weight=Decimal(90),
            participants=(participant("a", "1.00", "11"), participant("b", "2.00")),
        )


@given(st.lists(st.integers(0, 5), min_size=0, max_size=300), st.lists(st.integers(), min_size=1))
@settings(max_examples=50, deadline=None)
def test_the_persistent_vector_behaves_like_a_list_and_never_changes_old_versions(
    items: list[int], writes: list[int]
) -> None:
    """Each set gives a new vector equal to the list with that item changed; old ones stay."""
    vector = PersistentVector.of(items)
    assert list(vector) == items
    versions = [(vector, list(items))]
    model = list(items)
    for n, value in enumerate(writes):
        if not items:
            with pytest.raises(IndexError):
                vector.set(0, value)
            break
        i = (n * 7919 + value) % len(items)
        vector, model[i] = vector.set(i, value), value
        assert vector[i] == value
        versions.append((vector, list(model)))
    for version, expected in versions:
        assert list(version) == expected
        assert len(version) == len(expected)


# Properties over random auctions and random prices


@st.composite
def rules(draw: st.DrawFn) -> AuctionRules:
    return AuctionRules(
        minimum_decrement=draw(st.sampled_from([Decimal("0.01"), Decimal("0.50"), Decimal(5)])),
        ends=draw(st.sampled_from(list(AuctionEnd))),
        duration_seconds=draw(st.integers(10, 25)),
        inactivity_seconds=draw(st.integers(5, 15)),
        rounds=draw(st.integers(1, 3)),
        round_seconds=draw(st.integers(10, 15)),
    )


@st.composite
def auctions(draw: st.DrawFn) -> Run:
    size = draw(st.integers(2, 6))
    price_weight = draw(st.sampled_from(["100", "60", "40"]))
    room = 100 - int(price_weight)
    people = [
        participant(
            f"bidder-{n}",
            str(draw(st.decimals(Decimal("1.00"), Decimal("100000.00"), places=2))),
            str(draw(st.decimals(Decimal(0), Decimal(room), places=4))),
        )
        for n in range(size)
    ]
    return scheduled(*people, rules=draw(rules()), price_weight=price_weight)


@dataclass(frozen=True)
class Step:
    who: int  # a participant, by position modulo their number
    stranger: bool  # someone not invited sends it instead
    mode: str  # "down": by a share of one's own last price; "any": an arbitrary amount
    amount: int  # per mille below the last price, or cents
    wait_ms: int
    tick: bool  # the timer runs: opens or closes what is due


steps = st.builds(
    Step,
    who=st.integers(0, 5),
    stranger=st.integers(0, 9).map(lambda n: n == 0),
    mode=st.sampled_from(["down", "down", "down", "any"]),
    amount=st.integers(-20, 60),
    wait_ms=st.one_of(st.integers(0, 1000), st.integers(0, 3000), st.integers(3000, 20_000)),
    tick=st.booleans(),
)


def price_for(run: Run, step: Step, bidder_id: str) -> Decimal:
    if step.mode == "any" or bidder_id not in run.state.index:
        return Decimal(step.amount * 997) / 100
    last = run.state.standing(bidder_id).price
    return (last * (1000 - step.amount) / 1000).quantize(Decimal("0.01"))


def drive(run: Run, plan: list[Step]) -> None:
    """Play the steps from 1 s before the start, checking what must hold after each one."""
    now = T0 - timedelta(seconds=1)
    n = len(run.state.participants)
    for step in plan:
        now += timedelta(milliseconds=step.wait_ms)
        if step.tick:
            if run.state.status is AuctionStatus.SCHEDULED and now >= run.state.starts_at:
                run.apply(auction.open_auction(run.state, PLATFORM, now))
            run.apply(auction.close_if_due(run.state, PLATFORM, now))
        bidder_id = "stranger" if step.stranger else f"bidder-{step.who % n}"
        before = run.state
        (event,) = run.apply(
            auction.submit_price(run.state, bidder_id, price_for(run, step, bidder_id), now)
        )
        if isinstance(event, AuctionPriceAccepted):
            assert before.status is AuctionStatus.OPEN
            assert event.at < auction.closes_at(before)
            assert 1 <= event.round <= last_round(before.rules)
        else:
            assert isinstance(event, AuctionPriceRejected)
            assert auction.ranking(run.state) == auction.ranking(before)
            assert auction.closes_at(run.state) == auction.closes_at(before)
            if before.status is not AuctionStatus.CANCELLED and bidder_id in before.index:
                late = before.opened_at is not None and now >= auction.closes_at(before)
                assert (event.reason_code is RejectionReason.LATE) == late
        assert sorted(r.rank for r in auction.ranking(run.state)) == list(range(1, n + 1))


def last_round(rules: AuctionRules) -> int:
    return rules.rounds if rules.ends is AuctionEnd.ROUNDS else 1


def final_prices_fall_by_the_decrement(run: Run) -> None:
    state = run.state
    last = {p.bidder_id: p.initial_price for p in state.participants}
    share = (100 - state.rules.minimum_decrement) / 100
    for event in run.events:
        if isinstance(event, AuctionPriceAccepted):
            assert event.price <= last[event.bidder_id] * share
            assert event.price < last[event.bidder_id]
            last[event.bidder_id] = event.price


def closing_time_from_the_events(run: Run) -> datetime | None:
    """When the rules say the auction closes, worked out from the events alone."""
    rules = run.state.rules
    opened_at = next((e.opened_at for e in run.events if isinstance(e, AuctionOpened)), None)
    if opened_at is None:
        return None
    if rules.ends is AuctionEnd.FIXED_TIME:
        return opened_at + timedelta(seconds=rules.duration_seconds)
    if rules.ends is AuctionEnd.ROUNDS:
        return opened_at + timedelta(seconds=rules.rounds * rules.round_seconds)
    accepted = [e.at for e in run.events if isinstance(e, AuctionPriceAccepted)]
    return max([opened_at, *accepted]) + timedelta(seconds=rules.inactivity_seconds)


@given(auctions(), st.lists(steps, min_size=5, max_size=60))
@settings(max_examples=150, deadline=None)
def test_random_auctions_keep_their_invariants(run: Run, plan: list[Step]) -> None:
    """Ranks are always 1..n, accepted prices fall by the decrement, in a round that exists,
    never at or after the close, rejections change nothing, the closing time follows from
    the events, and nothing is accepted once closed."""
    drive(run, plan)
    for event in run.events:
        hypothesis.event(type(event).__name__)
        if isinstance(event, AuctionPriceRejected):
            hypothesis.event(event.reason_code.value)
    final_prices_fall_by_the_decrement(run)
    expected = closing_time_from_the_events(run)
    if expected is not None:
        assert auction.closes_at(run.state) == expected
    closed_at = next(
        (i for i, e in enumerate(run.events) if isinstance(e, AuctionClosed)), len(run.events)
    )
    assert not any(isinstance(e, AuctionPriceAccepted) for e in run.events[closed_at:])


@given(auctions(), st.lists(steps, min_size=5, max_size=60))
@settings(max_examples=150, deadline=None)
def test_replay_equals_the_state_and_the_closing_ranking_is_reproducible(
    run: Run, plan: list[Step]
) -> None:
    """replay(events) is the state built step by step; once the auction has closed, the
    ranking recomputed from the replayed events is the one AuctionClosed recorded."""
    drive(run, plan)
    if run.state.status is AuctionStatus.OPEN:  # let the timer close it
        run.apply(auction.close_if_due(run.state, PLATFORM, auction.closes_at(run.state)))
    replayed = auction.replay(run.events)
    assert replayed == run.state
    stored = READER.validate_json(READER.dump_json(run.events))
    assert auction.replay(stored) == run.state
    closed = [e for e in run.events if isinstance(e, AuctionClosed)]
    if closed:
        assert replayed is not None
        assert [r.as_message() for r in auction.ranking(replayed)] == list(closed[0].ranking)


def test_fifty_bidders_two_hundred_prices_each_rank_after_every_price() -> None:
    """A busy auction: 10,000 prices, each followed by a full ranking; sane and complete."""
    people = [participant(f"bidder-{n:02}", f"{100_000 + 37 * n}.00") for n in range(50)]
    rules = AuctionRules(
        ends=AuctionEnd.FIXED_TIME, duration_seconds=3600, minimum_decrement=Decimal("0.01")
    )
    run = opened(*people, rules=rules)
    now = T0
    for _ in range(200):
        for p in people:
            now += timedelta(milliseconds=2)
            limit = auction.most_a_bidder_may_offer(run.state, p.bidder_id)
            assert isinstance(run.price(p.bidder_id, limit, now), AuctionPriceAccepted)
            ranks = auction.ranking(run.state)
            assert ranks[0].price == run.state.lowest
    assert run.state.accepted == 10_000
    assert sorted(r.rank for r in ranks) == list(range(1, 51))
    assert auction.replay(run.events) == run.state


# From the evaluation to the auction and back


def test_the_lot_the_evaluation_handed_over_is_scheduled_with_its_bids_and_formula() -> None:
    from tests.unit.evaluation_examples import BUYERS_OFFICER
    from tests.unit.test_evaluation import ready_for_auction

    evaluated = ready_for_auction().evaluation
    (event,) = auction.schedule_from_evaluation(
        None,
        evaluated,
        FIXED_60,
        BUYERS_OFFICER,
        lot_id="lot-1",
        starts_at=T0,
        now=T0 - timedelta(days=3),
    )
    assert isinstance(event, AuctionScheduled)
    assert event.buyer_id == evaluated.facts.buyer_id
    assert event.price_weight == evaluated.facts.price_weight
    assert {(p.bid_id, p.initial_price) for p in event.participants} == {
        ("a", Decimal("900.00")),
        ("b", Decimal("850.00")),
    }
    state = auction.evolve(None, event)
    with pytest.raises(WrongState) as twice:
        auction.schedule_from_evaluation(
            state, evaluated, FIXED_60, BUYERS_OFFICER, lot_id="lot-1", starts_at=T0, now=INVITED
        )
    assert twice.value.code == "already_scheduled"


def test_a_lot_still_in_evaluation_has_no_auction_to_schedule() -> None:
    from tests.unit.evaluation_examples import BUYERS_OFFICER, bid, facts, started

    evaluated = started(facts(auction=True), bid("a", "900.00"), bid("b", "850.00")).evaluation
    with pytest.raises(WrongState) as refused:
        auction.schedule_from_evaluation(
            None, evaluated, FIXED_60, BUYERS_OFFICER, lot_id="lot-1", starts_at=T0, now=INVITED
        )
    assert refused.value.code == "not_ready_for_auction"


def test_the_close_gives_the_evaluation_each_bids_final_price() -> None:
    run = opened(*THREE)
    run.price("bravo", "700.00", seconds(3))
    (closed,) = run.apply(auction.close_if_due(run.state, PLATFORM, seconds(60)))
    assert isinstance(closed, AuctionClosed)
    result = auction.result(closed, run.state)
    assert {(p.bid_id, str(p.price.amount), p.price.currency) for p in result.final_prices} == {
        ("bid-alpha", "1000.00", "RON"),
        ("bid-bravo", "700.00", "RON"),
        ("bid-charlie", "800.00", "RON"),
    }


def test_only_the_platform_opens_and_closes_an_auction() -> None:
    officer = Actor(id="officer-ion", role=Role.OFFICER, agency_id=BUYER)
    run = scheduled(*THREE)
    with pytest.raises(NotAllowed):
        auction.open_auction(run.state, officer, T0)
    run.apply(auction.open_auction(run.state, PLATFORM, T0))
    with pytest.raises(NotAllowed):
        auction.close_if_due(run.state, officer, seconds(60))
