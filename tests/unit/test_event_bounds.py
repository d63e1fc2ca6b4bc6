"""Every event a command records fits in ``schemas.bounds.MAX_EVENT_BYTES`` as envelope JSON,
whatever valid values it holds, so no accepted command can stall the relay on a record the
broker refuses. The bound of each type is read from its fields (tests/unit/json_bounds.py)."""

from decimal import Decimal
from uuid import UUID

import pytest
from hypothesis import given, settings
from pydantic import ValidationError

from adapters.kafka.topology import MAX_MESSAGE_BYTES
from procurement.tender import publish
from schemas.bounds import MAX_EVENT_BYTES, MAX_REQUIREMENTS_BYTES
from schemas.commands import Actor, Command, PublishTender, Role
from schemas.events import EVENT_TYPES, Envelope, Event, envelope
from schemas.values import Item, Lot, Requirements, Value
from tests.strategies import events
from tests.unit.examples import DEADLINE, NOW, RULES
from tests.unit.json_bounds import json_bound, model_bound

# Written by the platform from every opened bid of a tender, so they grow with the number
# of bids (up to schemas.evaluation.MAX_BIDS) rather than with what any one client sends.
GROWS_WITH_BIDS = {
    "EvaluationStarted",
    "LotReadyForAuction",
    "AuctionResultRecorded",
    "AwardDecided",
}
WIDE = "\U0001f600"  # four bytes of UTF-8, the most a character takes
LONGEST_ID = "a" + "\U0001d400" * 99  # a letter, then 99 four-byte letters


def envelope_bound(event_type: type[Event]) -> float:
    """The bound of an envelope carrying an event of ``event_type``."""
    others = {name: field for name, field in Envelope.model_fields.items() if name != "event"}
    fields = sum(
        len(name) + 4 + json_bound(field.annotation, field.metadata)
        for name, field in others.items()
    )
    return 2 + fields + len('"event":') + model_bound(event_type)


@pytest.mark.parametrize("event_type", sorted(set(EVENT_TYPES) - GROWS_WITH_BIDS))
def test_every_event_fits_the_bound(event_type: str) -> None:
    """The largest envelope of the event type, every string at its longest in four-byte
    characters and every list at its longest, is no more than MAX_EVENT_BYTES."""
    assert envelope_bound(EVENT_TYPES[event_type]) <= MAX_EVENT_BYTES


def test_only_the_events_of_every_bid_exceed_the_bound() -> None:
    """A new event type with an unbounded field, or one that outgrows the bound, fails here
    instead of slipping past; the events that grow with the bids are still finite."""
    beyond = {name for name, cls in EVENT_TYPES.items() if envelope_bound(cls) > MAX_EVENT_BYTES}
    assert beyond == GROWS_WITH_BIDS
    assert all(envelope_bound(EVENT_TYPES[name]) < float("inf") for name in beyond)


def _commands(base: type[Command] = Command) -> list[type[Command]]:
    return [found for cls in base.__subclasses__() for found in (cls, *_commands(cls))]


# Issued by the platform itself, from every opened bid or every auction participant.
ISSUED_BY_THE_PLATFORM = {"StartEvaluation", "RecordAuctionResult"}
# Carries a file's bytes to the document store; its event records only their digest.
CARRIES_A_FILE = {"PublishDocument"}


@pytest.mark.parametrize(
    "command", sorted({cls.__name__: cls for cls in _commands()}.items()), ids=lambda c: c[0]
)
def test_every_command_a_client_sends_is_bounded(command: tuple[str, type[Command]]) -> None:
    """Every field of every command has a bound; what a client may send fits MAX_EVENT_BYTES."""
    name, cls = command
    bound = model_bound(cls)
    assert bound < float("inf")
    if name not in ISSUED_BY_THE_PLATFORM | CARRIES_A_FILE:
        assert bound <= MAX_EVENT_BYTES


def test_the_bound_is_well_under_the_brokers_record_limit() -> None:
    """The relay and the topics allow records of MAX_MESSAGE_BYTES: eight events' worth."""
    assert MAX_EVENT_BYTES * 8 <= MAX_MESSAGE_BYTES


@settings(max_examples=100, deadline=None)
@given(event=events())
def test_the_bound_holds_for_any_valid_event(event: Event) -> None:
    """The computed bound is an upper bound: no generated event's JSON exceeds it."""
    assert len(event.model_dump_json().encode()) <= model_bound(type(event))


def wide_item(number: int, chars: int) -> Item:
    return Item(
        id=f"item-{number:03}",
        description=WIDE * chars,
        cpv="30197630-1",
        quantity=Decimal("99999999999999.9999"),
        unit=WIDE * 50,
    )


def wide_lot(items: list[Item]) -> Lot:
    return Lot(
        id="lot-1",
        title=WIDE * 500,
        description=WIDE * 10_000,
        value=Value(amount=Decimal("9999999999999999.99"), currency="RON"),
        items=items,
    )


def largest_requirements() -> Requirements:
    """Lots and items of four-byte characters, filling the budget to within one character."""
    full = wide_item(0, 10_000)
    one = len(full.model_dump_json().encode()) + 1  # and a comma
    base = len(
        Requirements.model_construct(cpv="30197630-1", lots=[wide_lot([wide_item(0, 1)])])
        .model_dump_json()
        .encode()
    )
    count = (MAX_REQUIREMENTS_BYTES - base) // one
    last = (MAX_REQUIREMENTS_BYTES - base - count * one) // 4 + 1
    items = [wide_item(n, 10_000) for n in range(count)] + [wide_item(count, last)]
    return Requirements(cpv="30197630-1", lots=[wide_lot(items)])


def test_the_largest_tender_the_schema_admits_fits_the_bound() -> None:
    """A tender whose every text is at its longest in four-byte characters and whose lots
    fill their budget is published, and its envelope stays under MAX_EVENT_BYTES."""
    requirements = largest_requirements()
    assert len(requirements.model_dump_json().encode()) > MAX_REQUIREMENTS_BYTES - 4
    command = PublishTender(
        title=WIDE * 500,
        description=WIDE * 10_000,
        requirements=requirements,
        submission_deadline=DEADLINE,
    )
    officer = Actor(id=LONGEST_ID, role=Role.OFFICER, agency_id=LONGEST_ID)
    [event] = publish(command, officer, NOW, RULES, tender_id=LONGEST_ID, ocid=LONGEST_ID)
    written = envelope(
        event,
        event_id=UUID(int=1),
        aggregate_id=LONGEST_ID,
        sequence=2**31 - 1,
        actor=LONGEST_ID,
        occurred_at=NOW,
        command_id=UUID(int=2),
    )
    size = len(written.model_dump_json().encode())
    assert size <= MAX_EVENT_BYTES
    assert size <= envelope_bound(type(event))


def test_one_character_more_is_refused_naming_the_budget() -> None:
    """Past the budget the requirements are refused, with the size and what to do instead."""
    largest = largest_requirements()
    lot = largest.lots[0]
    last = lot.items[-1]
    longer = last.model_copy(update={"description": last.description + WIDE})
    body = largest.model_dump(mode="json")
    body["lots"][0]["items"][-1] = longer.model_dump(mode="json")
    with pytest.raises(ValidationError, match=r"the lots and items: .* bytes as JSON, more than"):
        Requirements.model_validate(body)


def test_a_tender_of_seventeen_mebibytes_is_refused() -> None:
    """446 items of 10,000 emoji each, every one valid on its own, make a tender over the
    broker's record limit: it is refused before any event exists."""
    items = [wide_item(n, 10_000) for n in range(446)]
    body = {"cpv": "30197630-1", "lots": [wide_lot(items).model_dump(mode="json")]}
    with pytest.raises(ValidationError, match="documents"):
        Requirements.model_validate(body)
