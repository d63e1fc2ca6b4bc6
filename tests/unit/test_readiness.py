"""Readiness judged from its figures: each check that fails is named, with why."""

from adapters.readiness import Figures, Limits, failing

KEEPING_UP = Figures(
    write_error=None,
    outbox_rows=3,
    relay_lag_seconds=0.2,
    projections_behind=2,
    projection_lag_seconds=0.5,
    unresolved_dead_letters=4,
    forged_records=1,
)


def test_a_platform_that_writes_and_keeps_up_is_ready() -> None:
    """Small lags, a write that committed and open dead letters fail no check."""
    assert failing(KEEPING_UP) == {}


def test_a_refused_write_fails_the_write_check_alone() -> None:
    """A read-only database fails the database_write check, with the database's reason."""
    figures = Figures(**KEEPING_UP.__dict__ | {"write_error": "read-only transaction"})
    assert list(failing(figures)) == ["database_write"]
    assert "read-only transaction" in failing(figures)["database_write"]


def test_lags_over_their_limits_each_fail_their_own_check() -> None:
    """An old outbox row, a long outbox and a stale read model each name their check."""
    limits = Limits(relay_lag_seconds=10, outbox_rows=100, projection_lag_seconds=10)
    figures = Figures(
        write_error=None,
        outbox_rows=101,
        relay_lag_seconds=11,
        projections_behind=7,
        projection_lag_seconds=12,
        unresolved_dead_letters=0,
        forged_records=0,
    )
    assert set(failing(figures, limits)) == {"relay_lag", "outbox_size", "projection_lag"}
    assert failing(KEEPING_UP, limits) == {}
