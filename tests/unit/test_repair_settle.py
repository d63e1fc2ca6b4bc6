"""The repair timer leaves a lagging stream its work: while the stream of a topic delivers,
the store is asked only for events the stream has not reached in 30 s, not 2 s."""

from adapters.kafka.topology import TENDERS
from readmodels.projections import Repair


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_stream_that_never_delivered_is_repaired_after_two_seconds() -> None:
    assert Repair(TENDERS, Clock()).settle == Repair.SETTLE == 2.0


def test_a_delivering_stream_is_lagging_not_losing() -> None:
    clock = Clock()
    repair = Repair(TENDERS, clock)
    repair.delivered()
    clock.now += 4.9
    assert repair.settle == Repair.SETTLE_WHILE_DELIVERING == 30.0


def test_a_stream_silent_for_a_repair_tick_is_repaired_quickly_again() -> None:
    clock = Clock()
    repair = Repair(TENDERS, clock)
    repair.delivered()
    clock.now += 5.0
    assert repair.settle == Repair.SETTLE
