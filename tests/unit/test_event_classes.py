"""Each event class says which topic carries it and whether the public may see it, and the
union of recorded events is read from the classes: a new event is one class, in one file."""

import importlib
import pkgutil
from typing import Literal

import pytest

import schemas
from schemas.base import Event, TenderEvent
from schemas.events import ENVELOPE, EVENT_TYPES
from tests.unit.examples import EXAMPLE_EVENTS


def _defined_in_schemas() -> set[type[Event]]:
    """Every event class written in a module of ``schemas``, once all of them are imported."""
    for module in pkgutil.walk_packages(schemas.__path__, "schemas."):
        importlib.import_module(module.name)
    found: set[type[Event]] = set()
    unvisited: list[type[Event]] = [Event]
    while unvisited:
        for subclass in unvisited.pop().__subclasses__():
            unvisited.append(subclass)
            if subclass.__module__.startswith("schemas.") and subclass.is_concrete():
                found.add(subclass)
    return found


def test_every_event_class_in_schemas_is_recorded() -> None:
    """A module of events that ``schemas.events`` forgot to import would leave its events
    out of the union: the event store could write them but never read them back."""
    written = _defined_in_schemas()
    unrecorded = sorted(
        f"{cls.__module__}.{cls.__name__}" for cls in written - {*EVENT_TYPES.values()}
    )
    assert not unrecorded, f"import their modules in schemas.events: {unrecorded}"
    assert set(EVENT_TYPES.values()) <= written


def test_each_event_is_recorded_under_its_class_name() -> None:
    """Routing, visibility and the event store all name an event by its ``type``."""
    assert {name: cls.__name__ for name, cls in EVENT_TYPES.items()} == {
        name: name for name in EVENT_TYPES
    }


def test_every_event_class_says_its_topic_and_visibility() -> None:
    """Both are read from the class: no list elsewhere has to be kept in step."""
    for cls in EVENT_TYPES.values():
        assert isinstance(cls.topic, str), cls
        assert cls.topic.startswith("procurement."), cls
        assert isinstance(cls.public, bool), cls


@pytest.mark.parametrize("name", sorted(EXAMPLE_EVENTS))
def test_the_envelope_reads_every_event_as_its_own_class(name: str) -> None:
    """The discriminated union is built from the classes, so each type reads back as itself."""
    event = EXAMPLE_EVENTS[name]
    raw = {
        "event_id": "00000000-0000-4000-8000-000000000001",
        "schema_version": type(event).schema_version,
        "occurred_at": "2030-01-01T00:00:00Z",
        "aggregate_id": "ocds-test",
        "sequence": 1,
        "actor": "someone",
        "event": event.model_dump(mode="json"),
    }
    assert type(ENVELOPE.validate_python(raw).event) is EVENT_TYPES[name]


def test_an_event_class_without_a_topic_fails_where_it_is_written() -> None:
    """Deriving from ``Event`` itself instead of a topic's base class names no topic."""
    with pytest.raises(TypeError, match=r"ItemListed.*topic"):

        class ItemListed(Event):
            public = True
            type: Literal["ItemListed"] = "ItemListed"


def test_an_event_class_that_does_not_say_whether_it_is_public_fails() -> None:
    """Whether the public may see a new fact is decided for each event, never by default."""
    with pytest.raises(TypeError, match=r"TenderRenamed.*public"):

        class TenderRenamed(TenderEvent):
            type: Literal["TenderRenamed"] = "TenderRenamed"


def test_a_topic_base_class_itself_is_not_recorded() -> None:
    """The bases carry no ``type``: only the classes that do are events on the wire."""
    assert not TenderEvent.is_concrete()
    assert TenderEvent not in EVENT_TYPES.values()
