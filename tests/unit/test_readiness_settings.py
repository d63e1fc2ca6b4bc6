"""Readiness's limits come from the settings, and a dead letter is a warning, not a failure:
it is isolated, so it must not take the API out of a load balancer."""

from datetime import timedelta

import pytest

from adapters.readiness import Figures, Limits, failing, warnings
from adapters.settings import Settings

QUIET = Figures(
    write_error=None,
    outbox_rows=0,
    relay_lag_seconds=0.0,
    projections_behind=0,
    projection_lag_seconds=0.0,
    unresolved_dead_letters=0,
    forged_records=0,
)


def test_the_limits_are_read_from_the_environment() -> None:
    """Durations in the settings' notation, the outbox size as a number; defaults otherwise."""
    env = {
        "PROCUREMENT_READY_RELAY_LAG": "2m",
        "PROCUREMENT_READY_OUTBOX_ROWS": "500",
        "PROCUREMENT_READY_PROJECTION_LAG": "45",
    }
    assert Settings.from_env(env).readiness == Limits(
        relay_lag_seconds=120.0, outbox_rows=500, projection_lag_seconds=45.0
    )
    assert Settings.from_env({}).readiness == Limits()
    assert Limits() == Limits(relay_lag_seconds=30.0, outbox_rows=10_000, projection_lag_seconds=30)


def test_a_limit_that_is_not_a_number_is_refused_naming_the_setting() -> None:
    """A typo in a limit stops the start with the setting's name, not a silent default."""
    with pytest.raises(ValueError, match="PROCUREMENT_READY_OUTBOX_ROWS"):
        Settings.from_env({"PROCUREMENT_READY_OUTBOX_ROWS": "lots"})
    with pytest.raises(ValueError, match="PROCUREMENT_READY_RELAY_LAG"):
        Settings.from_env({"PROCUREMENT_READY_RELAY_LAG": "soon"})


def test_dead_letters_are_a_warning_with_their_count_and_fail_no_check() -> None:
    """Unresolved dead letters leave readiness passing and are named with their count."""
    figures = Figures(**QUIET.__dict__ | {"unresolved_dead_letters": 3})
    assert failing(figures) == {}
    found = warnings(figures)
    assert list(found) == ["dead_letters"]
    assert "3 events" in found["dead_letters"]
    assert warnings(QUIET) == {}


def test_a_single_dead_letter_is_named_in_the_singular() -> None:
    """The warning reads as a sentence for one letter too."""
    figures = Figures(**QUIET.__dict__ | {"unresolved_dead_letters": 1})
    assert "1 event was set aside" in warnings(figures)["dead_letters"]


def test_limits_are_durations_of_the_settings() -> None:
    """A limit given as a timedelta-like duration string keeps sub-second precision."""
    env = {"PROCUREMENT_READY_PROJECTION_LAG": "0.5s"}
    assert (
        Settings.from_env(env).readiness.projection_lag_seconds
        == timedelta(milliseconds=500).total_seconds()
    )
