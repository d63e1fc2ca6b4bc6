"""An envelope read straight from its JSON (the current versions) is exactly the one read
through the upcasters, for every event type; an older version still goes through them."""

import json
import uuid

import pytest

from schemas.events import ENVELOPE, Event, envelope
from schemas.upcasting import read_envelope, upcast
from tests.unit.examples import EXAMPLE_EVENTS, NOW


def the_long_way(data: str) -> object:
    return ENVELOPE.validate_python(upcast(json.loads(data)))


def as_json(event: Event) -> str:
    return envelope(
        event,
        event_id=uuid.uuid4(),
        aggregate_id="ocds-000000-0001",
        sequence=1,
        actor="officer-ana",
        occurred_at=NOW,
    ).model_dump_json()


@pytest.mark.parametrize("name", sorted(EXAMPLE_EVENTS))
def test_every_event_type_reads_the_same_straight_from_json(name: str) -> None:
    data = as_json(EXAMPLE_EVENTS[name])
    assert read_envelope(data) == the_long_way(data)
    assert read_envelope(data.encode()) == the_long_way(data)


def test_an_older_version_is_upcast() -> None:
    published = EXAMPLE_EVENTS["TenderPublished"]
    raw = json.loads(as_json(published))
    raw["schema_version"] = 1
    del raw["event"]["procedure_type"]
    read = read_envelope(json.dumps(raw))
    assert read.schema_version == type(published).schema_version
    assert read.event.model_dump()["procedure_type"] == "open"
