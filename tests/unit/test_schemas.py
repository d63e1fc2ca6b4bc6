"""The wire contract: what validates, what is refused and why, and how events are read back."""

import json
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given, settings
from pydantic import ValidationError

from schemas.base import Message
from schemas.bids import BidContent
from schemas.commands import AmendTender, PublishTender
from schemas.events import EVENT_TYPES, Envelope, Event, TenderPublished, envelope
from schemas.upcasting import read_envelope
from schemas.values import Item, Lot, ProcedureType, Requirements, Value
from tests.strategies import (
    CORRUPTIONS,
    corrupted_publish_payloads,
    cpv_codes,
    events,
    garbage_payloads,
    publish_commands,
    requirements,
)
from tests.unit.examples import DEADLINE, EXAMPLE_EVENTS, NOW, OCID, publish_command
from tests.unit.examples import requirements as paper_requirements

EVENT_ID = UUID("00000000-0000-4000-8000-000000000001")
COMMAND_ID = UUID("00000000-0000-4000-8000-000000000002")


def wrap(event: Event, *, sequence: int = 1) -> Envelope:
    return envelope(
        event,
        event_id=EVENT_ID,
        aggregate_id=OCID,
        sequence=sequence,
        actor="officer-ana",
        occurred_at=NOW,
        command_id=COMMAND_ID,
    )


def lot(lot_id: str, amount: str, *, currency: str = "RON", item_id: str | None = None) -> Lot:
    item = Item(
        id=item_id or f"{lot_id}-item",
        description="Toner cartridges",
        cpv="30125100-2",
        quantity=Decimal(10),
        unit="piece",
    )
    return Lot(
        id=lot_id,
        title=f"Lot {lot_id}",
        value=Value(amount=Decimal(amount), currency=currency),
        items=[item],
    )


def v1_tender_published() -> dict[str, Any]:
    """A TenderPublished envelope as schema version 1 wrote it: no procedure_type."""
    raw: dict[str, Any] = json.loads(wrap(EXAMPLE_EVENTS["TenderPublished"]).model_dump_json())
    del raw["event"]["procedure_type"]
    raw["schema_version"] = 1
    return raw


# Envelopes and schema versions


def test_every_event_type_has_an_example() -> None:
    """The examples below cover every event type the platform records, and no other."""
    assert set(EXAMPLE_EVENTS) == set(EVENT_TYPES)


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_event_round_trips_through_envelope_json(event_type: str) -> None:
    """Each event type, written as envelope JSON and read back, is the envelope written."""
    written = wrap(EXAMPLE_EVENTS[event_type])
    read = read_envelope(written.model_dump_json())
    assert read == written
    assert read.type == event_type
    assert read.schema_version == EVENT_TYPES[event_type].schema_version


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_event_is_read_from_bytes_and_from_a_dict(event_type: str) -> None:
    """read_envelope accepts the stored forms of JSON: bytes, and an already-decoded object."""
    written = wrap(EXAMPLE_EVENTS[event_type])
    assert read_envelope(written.model_dump_json().encode()) == written
    assert read_envelope(json.loads(written.model_dump_json())) == written


@settings(max_examples=150, deadline=None)
@given(event=events())
def test_any_valid_event_round_trips(event: Event) -> None:
    """Any valid event, of any type, survives the envelope's JSON unchanged."""
    written = wrap(event, sequence=7)
    assert read_envelope(written.model_dump_json()) == written


def test_tender_published_v1_is_read_as_an_open_tender_at_v2() -> None:
    """A tender published before procedure types existed is read as an open tender, at version 2."""
    read = read_envelope(json.dumps(v1_tender_published()))
    assert read.schema_version == 2
    assert isinstance(read.event, TenderPublished)
    assert read.event.procedure_type is ProcedureType.OPEN
    published = EXAMPLE_EVENTS["TenderPublished"]
    assert read.event == published.model_copy(update={"procedure_type": ProcedureType.OPEN})


def test_tender_published_at_v2_must_name_its_procedure_type() -> None:
    """At the current version procedure_type is required: only v1 records are upcast."""
    raw = v1_tender_published()
    raw["schema_version"] = 2
    with pytest.raises(ValidationError, match="procedure_type"):
        read_envelope(raw)


def test_envelope_stamps_the_current_schema_version() -> None:
    """envelope() records the version each event type is written at today."""
    assert wrap(EXAMPLE_EVENTS["TenderPublished"]).schema_version == 2
    assert wrap(EXAMPLE_EVENTS["TenderClosed"]).schema_version == 1


def test_unknown_event_type_is_rejected() -> None:
    """An envelope whose event type the platform does not know fails validation."""
    raw = json.loads(wrap(EXAMPLE_EVENTS["TenderCancelled"]).model_dump_json())
    raw["event"]["type"] = "TenderExploded"
    with pytest.raises(ValidationError, match="TenderExploded"):
        read_envelope(raw)


@pytest.mark.parametrize("sequence", [0, -1])
def test_sequence_numbers_start_at_one(sequence: int) -> None:
    """An envelope's sequence within its aggregate is 1 or more."""
    raw = json.loads(wrap(EXAMPLE_EVENTS["TenderCancelled"]).model_dump_json())
    raw["sequence"] = sequence
    with pytest.raises(ValidationError, match="sequence"):
        read_envelope(raw)


@pytest.mark.parametrize(
    "record",
    [
        pytest.param(b"not json", id="not JSON"),
        pytest.param(b"{}", id="empty object"),
        pytest.param(b'{"event": {"type": "TenderClosed"}}', id="event without content"),
        pytest.param(b"[]", id="array"),
        pytest.param(b"null", id="null"),
        pytest.param(b'{"event": null}', id="null event"),
        pytest.param(b'{"event": "TenderClosed"}', id="string event"),
    ],
)
def test_unreadable_record_fails_with_a_value_error(record: bytes) -> None:
    """A malformed record raises ValueError (ValidationError is one), which the projection
    worker catches to skip it; any other exception would stop the worker."""
    with pytest.raises(ValueError):  # noqa: PT011 - the worker's contract is exactly ValueError
        read_envelope(record)


# Unknown fields and immutability


def test_command_with_unknown_field_is_rejected() -> None:
    """A command carrying a field the contract does not define is refused, not trimmed."""
    body = publish_command().model_dump(mode="json") | {"is_admin": True}
    with pytest.raises(ValidationError, match="is_admin"):
        PublishTender.model_validate(body)


def test_event_with_unknown_field_is_rejected() -> None:
    """An envelope whose event carries an unknown field is refused."""
    raw = json.loads(wrap(EXAMPLE_EVENTS["TenderCancelled"]).model_dump_json())
    raw["event"]["refund"] = "all bidders"
    with pytest.raises(ValidationError, match="refund"):
        read_envelope(raw)


def test_envelope_with_unknown_field_is_rejected() -> None:
    """An envelope with a field of its own that the contract does not define is refused."""
    raw = json.loads(wrap(EXAMPLE_EVENTS["TenderCancelled"]).model_dump_json())
    raw["priority"] = "high"
    with pytest.raises(ValidationError, match="priority"):
        read_envelope(raw)


def test_messages_are_immutable() -> None:
    """A validated message cannot be changed after the fact."""
    command = publish_command()
    with pytest.raises(ValidationError, match="frozen"):
        command.title = "Something else"  # type: ignore[misc]


# Values


@settings(max_examples=100)
@given(code=cpv_codes())
def test_cpv_code_of_a_real_division_is_accepted(code: str) -> None:
    """Eight digits from a real CPV division, a hyphen and a check digit is a CPV code."""
    item = Item(id="i", description="d", cpv=code, quantity=Decimal(1), unit="piece")
    assert item.cpv == code


@pytest.mark.parametrize(
    "code", ["1234", "30197630", "30197630-12", "3019763A-1", "30197630_1", "", "30 197630-1"]
)
def test_cpv_code_of_the_wrong_format_is_rejected(code: str) -> None:
    """A CPV code not shaped like 45000000-7 is refused, with the expected shape in the message."""
    with pytest.raises(ValidationError, match="must be 8 digits, a hyphen and a check digit"):
        Item(id="i", description="d", cpv=code, quantity=Decimal(1), unit="piece")


@pytest.mark.parametrize("code", ["99000000-1", "00000000-0", "10000000-5", "46000000-1"])
def test_cpv_code_of_an_unknown_division_is_rejected(code: str) -> None:
    """A well-formed CPV code whose division the CPV does not have is refused, naming it."""
    with pytest.raises(ValidationError, match=f"names division {code[:2]}, which the CPV"):
        Requirements(cpv=code, lots=[lot("lot-1", "10.00")])


@pytest.mark.parametrize("currency", ["RON", "EUR", "USD", "GBP"])
def test_iso_currency_is_accepted(currency: str) -> None:
    """An ISO 4217 code is a currency."""
    assert Value(amount=Decimal("1.00"), currency=currency).currency == currency


@pytest.mark.parametrize("currency", ["XYZ", "ron", "EURO", "LEI", ""])
def test_unknown_currency_is_rejected(currency: str) -> None:
    """Anything but an ISO 4217 code is refused, and the message says what is expected."""
    with pytest.raises(ValidationError, match="is not an ISO 4217 code"):
        Value(amount=Decimal("1.00"), currency=currency)


@pytest.mark.parametrize("amount", ["0", "0.00", "-0.01", "-10", "1.001", "NaN", "Infinity"])
def test_value_must_be_a_positive_amount_in_cents(amount: str) -> None:
    """An amount is more than zero, finite, and has at most two decimals."""
    with pytest.raises(ValidationError, match="amount"):
        Value(amount=amount, currency="RON")


def test_requirements_in_two_currencies_are_rejected() -> None:
    """All lots of a tender are valued in one currency."""
    with pytest.raises(ValidationError, match=r"one currency, got \['EUR', 'RON'\]"):
        Requirements(
            cpv="30190000-7",
            lots=[lot("lot-1", "10.00"), lot("lot-2", "20.00", currency="EUR")],
        )


def test_requirements_with_a_repeated_lot_id_are_rejected() -> None:
    """Two lots of one tender cannot share an id."""
    with pytest.raises(ValidationError, match=r"lot ids must be unique .* \['lot-1'\]"):
        Requirements(
            cpv="30190000-7",
            lots=[lot("lot-1", "10.00", item_id="a"), lot("lot-1", "20.00", item_id="b")],
        )


def test_requirements_with_a_repeated_item_id_are_rejected() -> None:
    """Item ids are unique across the whole tender, not only within a lot."""
    with pytest.raises(ValidationError, match=r"item ids must be unique .* \['toner'\]"):
        Requirements(
            cpv="30190000-7",
            lots=[lot("lot-1", "10.00", item_id="toner"), lot("lot-2", "20.00", item_id="toner")],
        )


def test_requirements_need_a_lot() -> None:
    """A tender buys something: requirements without lots are refused."""
    with pytest.raises(ValidationError, match="lots"):
        Requirements(cpv="30190000-7", lots=[])


def test_estimated_value_sums_the_lots() -> None:
    """The estimated value is the sum of the lot values, in their currency."""
    requirements = Requirements(
        cpv="30190000-7",
        lots=[lot("lot-1", "1000.00"), lot("lot-2", "250.50"), lot("lot-3", "0.01")],
    )
    assert requirements.estimated_value == Value(amount=Decimal("1250.51"), currency="RON")


@settings(max_examples=100, deadline=None)
@given(generated=requirements())
def test_estimated_value_is_the_sum_of_any_lots(generated: Requirements) -> None:
    """For any valid requirements, the estimated value is the exact sum of the lot values."""
    total = sum((each.value.amount for each in generated.lots), Decimal(0))
    assert generated.estimated_value.amount == total
    assert generated.estimated_value.currency == generated.lots[0].value.currency


def test_lots_whose_total_overflows_a_value_are_refused() -> None:
    """Two lots that are each a valid Value but add up to more than a Value holds are
    refused, so a valid tender always has an estimated value."""
    largest = "9999999999999999.99"  # 18 digits, the most a Value allows
    with pytest.raises(ValidationError, match="more than a value can hold"):
        Requirements(cpv="30190000-7", lots=[lot("lot-1", largest), lot("lot-2", largest)])


# Commands


def test_amendment_that_changes_nothing_is_rejected() -> None:
    """An amendment with only a reason is refused, naming what it could have changed."""
    with pytest.raises(ValidationError, match="must change at least one of: title, description"):
        AmendTender(ocid=OCID, reason="No reason")


def test_amendment_that_changes_one_thing_is_accepted() -> None:
    """An amendment needs a reason and any one change."""
    amendment = AmendTender(ocid=OCID, reason="Later", submission_deadline=DEADLINE)
    assert amendment.submission_deadline == DEADLINE
    assert (amendment.title, amendment.description, amendment.requirements) == (None, None, None)


def test_publish_requires_an_aware_deadline() -> None:
    """A submission deadline without a time zone is ambiguous, so it is refused."""
    body = publish_command().model_dump(mode="json") | {"submission_deadline": "2030-05-01T12:00"}
    with pytest.raises(ValidationError, match="timezone"):
        PublishTender.model_validate(body)


def test_text_is_stripped_before_its_length_is_checked() -> None:
    """A title of spaces around two letters is too short: whitespace does not count."""
    with pytest.raises(ValidationError, match="title"):
        PublishTender.model_validate(
            publish_command().model_dump(mode="json") | {"title": "   ab   "}
        )


@settings(max_examples=100, deadline=None)
@given(command=publish_commands())
def test_publish_command_round_trips_through_json(command: PublishTender) -> None:
    """Any valid PublishTender, sent as JSON, is read back as the same command."""
    assert PublishTender.model_validate_json(command.model_dump_json()) == command


@settings(max_examples=200, deadline=None)
@given(payload=garbage_payloads())
def test_garbage_is_refused_with_a_validation_error_or_is_a_valid_command(payload: Any) -> None:
    """Whatever arrives, validating it as PublishTender either fails with ValidationError or
    yields a PublishTender; no other exception escapes, from Python objects or from JSON."""
    for validate in (PublishTender.model_validate, PublishTender.model_validate_json):
        source = payload if validate is PublishTender.model_validate else json.dumps(payload)
        try:
            command = validate(source)
        except ValidationError:
            continue
        assert isinstance(command, PublishTender)


@settings(max_examples=150, deadline=None)
@given(payload=corrupted_publish_payloads())
def test_a_tender_broken_in_one_place_is_refused(payload: dict[str, Any]) -> None:
    """A valid tender with any one field corrupted fails validation."""
    with pytest.raises(ValidationError):
        PublishTender.model_validate(payload)


@pytest.mark.parametrize("corruption", sorted(CORRUPTIONS))
def test_each_corruption_is_refused(corruption: str) -> None:
    """Each kind of breakage, applied to the example tender, is refused on its own."""
    body = publish_command().model_dump(mode="json")
    CORRUPTIONS[corruption](body)
    with pytest.raises(ValidationError):
        PublishTender.model_validate(body)


def test_example_tender_is_valid_as_json() -> None:
    """The uncorrupted example, the base of the corruption tests, is itself valid."""
    body = publish_command().model_dump(mode="json")
    assert PublishTender.model_validate(body) == publish_command()
    assert body["requirements"] == paper_requirements().model_dump(mode="json")


# The examples the README points to


@pytest.mark.parametrize(
    ("name", "model"), [("tender.json", PublishTender), ("bid.json", BidContent)]
)
def test_the_readmes_examples_are_valid(name: str, model: type[Message]) -> None:
    path = Path(__file__).parents[2] / "examples" / name
    model.model_validate_json(path.read_bytes())  # raises ValidationError if it is not
