"""Which failures set an event aside as a dead letter, and which are waited out."""

import asyncpg
from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError, MessageSizeTooLargeError

from adapters.kafka import outbox_publishing
from adapters.postgres import dead_letters


def test_a_failure_of_the_event_is_not_transient() -> None:
    """Bad data, a broken invariant or an unreadable event belong to the event: set aside."""
    for error in (
        asyncpg.UntranslatableCharacterError("unsupported Unicode escape sequence"),
        asyncpg.CheckViolationError("violates check constraint"),
        AssertionError("TenderClosed before its publication"),
        ValueError("no upcaster for TenderPublished from schema version 0"),
    ):
        assert not dead_letters.is_transient(error), error


def test_a_database_that_is_away_or_busy_is_waited_out() -> None:
    """A lost connection, a deadlock, a shutdown or a missing table would fail every event
    alike: the consumer retries instead of setting events aside."""
    for error in (
        ConnectionRefusedError(),
        asyncpg.ConnectionDoesNotExistError("connection was closed"),
        asyncpg.DeadlockDetectedError("deadlock detected"),
        asyncpg.AdminShutdownError("terminating connection"),
        asyncpg.UndefinedTableError('relation "tenders" does not exist'),
        asyncpg.InterfaceError("pool is closing"),
    ):
        assert dead_letters.is_transient(error), error


def test_the_relay_sets_aside_only_what_the_broker_refuses_for_the_record_itself() -> None:
    """Too large or no topic: the record is refused forever. The broker away or slow: it
    would refuse every record, so it is retried."""
    assert isinstance(MessageSizeTooLargeError(), outbox_publishing.REFUSED)
    assert isinstance(outbox_publishing.NoTopic("no topic"), outbox_publishing.REFUSED)
    assert not isinstance(KafkaTimeoutError(), outbox_publishing.REFUSED)
    assert not isinstance(KafkaConnectionError(), outbox_publishing.REFUSED)


def test_an_error_is_described_with_its_kind_and_detail_and_kept_short() -> None:
    """The operator reads the error's class, message and PostgreSQL's detail, never
    megabytes of it."""
    error = asyncpg.UntranslatableCharacterError("unsupported Unicode escape sequence")
    error.detail = "\\u0000 cannot be converted to text."
    assert dead_letters.describe(error) == (
        "UntranslatableCharacterError: unsupported Unicode escape sequence"
        "\nDETAIL:  \\u0000 cannot be converted to text."
    )
    assert len(dead_letters.describe(ValueError("x" * 100_000))) == 4000


def test_a_described_error_never_holds_what_postgresql_text_refuses() -> None:
    """An error quoting a title with U+0000 or a lone surrogate is stored escaped, or
    recording the dead letter would fail as the event did."""
    described = dead_letters.describe(ValueError("title 'Paper\x00 \ud800'"))
    assert described == "ValueError: title 'Paper\\x00 \\ud800'"
    described.encode("utf-8")
