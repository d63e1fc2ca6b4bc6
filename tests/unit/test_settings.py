"""Deployment settings read from the environment, and the routing of events to topics."""

from datetime import timedelta
from pathlib import Path

import pytest

from adapters.kafka.topology import TOPIC_OF_EVENT, TOPICS
from adapters.settings import Settings, parse_duration
from procurement.rules import ProcedureRules
from schemas.events import EVENT_TYPES


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30d", timedelta(days=30)),
        ("12h", timedelta(hours=12)),
        ("15m", timedelta(minutes=15)),
        ("90s", timedelta(seconds=90)),
        ("0", timedelta(0)),
        ("45", timedelta(seconds=45)),
        ("1.5h", timedelta(minutes=90)),
        (" 2d ", timedelta(days=2)),
    ],
)
def test_parse_duration_reads_a_number_and_a_unit(text: str, expected: timedelta) -> None:
    """A duration is a number with an optional unit of s, m, h or d; no unit means seconds."""
    assert parse_duration(text, "PROCUREMENT_MIN_TENDER_PERIOD") == expected


@pytest.mark.parametrize("text", ["soon", "", "30 days", "-5s", "1w", "d"])
def test_parse_duration_names_the_variable_it_cannot_read(text: str) -> None:
    """A value that is not a duration is refused, naming the variable and giving examples."""
    with pytest.raises(ValueError, match=r"PROCUREMENT_MIN_TENDER_PERIOD=.* such as 30d") as error:
        parse_duration(text, "PROCUREMENT_MIN_TENDER_PERIOD")
    assert repr(text) in str(error.value)


def test_settings_default_to_the_embedded_services_and_the_directive() -> None:
    """With nothing set, the platform starts its own database and broker and uses EU periods."""
    settings = Settings.from_env({})
    assert settings.database_url is None
    assert settings.kafka_bootstrap_servers is None
    assert settings.data_dir == Path(".procurement")
    assert settings.rules == ProcedureRules()
    assert settings.rules.minimum_tender_period == timedelta(days=30)


def test_settings_are_read_from_the_environment() -> None:
    """DATABASE_URL, KAFKA_BOOTSTRAP_SERVERS and the minimum periods come from the environment."""
    settings = Settings.from_env(
        {
            "DATABASE_URL": "postgresql://procurement@db:5432/procurement",
            "KAFKA_BOOTSTRAP_SERVERS": "kafka-1:9092,kafka-2:9092",
            "PROCUREMENT_MIN_TENDER_PERIOD": "90s",
            "PROCUREMENT_MIN_PERIOD_AFTER_AMENDMENT": "15m",
        }
    )
    assert settings.database_url == "postgresql://procurement@db:5432/procurement"
    assert settings.kafka_bootstrap_servers == "kafka-1:9092,kafka-2:9092"
    assert settings.rules == ProcedureRules(
        minimum_tender_period=timedelta(seconds=90),
        minimum_period_after_significant_amendment=timedelta(minutes=15),
    )


def test_empty_service_addresses_mean_embedded() -> None:
    """An empty DATABASE_URL or KAFKA_BOOTSTRAP_SERVERS counts as unset."""
    settings = Settings.from_env({"DATABASE_URL": "", "KAFKA_BOOTSTRAP_SERVERS": ""})
    assert (settings.database_url, settings.kafka_bootstrap_servers) == (None, None)


def test_a_bad_period_in_the_environment_names_its_variable() -> None:
    """A minimum tender period that is not a duration stops start-up, naming the variable."""
    with pytest.raises(ValueError, match="PROCUREMENT_MIN_TENDER_PERIOD='soon'"):
        Settings.from_env({"PROCUREMENT_MIN_TENDER_PERIOD": "soon"})


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_every_event_type_goes_to_exactly_one_topic(event_type: str) -> None:
    """Each event type is routed to one topic, so its consumers know where to find it."""
    topics = [topic.name for topic in TOPICS if event_type in topic.event_types]
    assert topics == [TOPIC_OF_EVENT[event_type]]


def test_topics_route_only_known_event_types() -> None:
    """No topic claims an event type that the schemas do not define."""
    assert set(TOPIC_OF_EVENT) == set(EVENT_TYPES)
    assert len({topic.name for topic in TOPICS}) == len(TOPICS)
