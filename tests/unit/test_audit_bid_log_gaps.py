"""A bid log's events in the transparency log: the committee's naming and confirmations at
once (sequences from 1), its bids never, and everything from the seal on. The audit accepts
that shape and still names a gap inside either run."""

from sdk.audit.transparency import _gaps

BIDS = "ocds-000000-2026-000001:bids"


def test_the_committee_run_then_the_run_from_the_seal_has_no_gap() -> None:
    assert _gaps(BIDS, [1, 2, 3, 15, 16, 17, 18]) == []
    assert _gaps(BIDS, [1, 2, 3, 4, 5]) == []  # no bids: the seal follows the confirmations
    assert _gaps(BIDS, [15, 16, 17]) == []  # a log from before the committee's events


def test_a_gap_after_the_seal_is_named() -> None:
    assert _gaps(BIDS, [1, 2, 3, 15, 17]) == ["events missing from the log: sequences [16]"]
