"""Lift events written by older schema versions to the shape the code reads today.

An upcaster takes the raw JSON object of one event type at one version and returns it
at the next version. Stored events are never rewritten: they are upcast as they are read.
"""

import json
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from schemas.events import ENVELOPE, EVENT_TYPES, Envelope

Raw = dict[str, Any]
Upcaster = Callable[[Raw], Raw]


def _tender_published_v1_to_v2(event: Raw) -> Raw:
    # Before electronic reverse auctions existed every tender was an open tender.
    return {**event, "procedure_type": "open"}


UPCASTERS: dict[tuple[str, int], Upcaster] = {
    ("TenderPublished", 1): _tender_published_v1_to_v2,
}


def upcast(raw: Raw) -> Raw:
    """Return ``raw`` (an envelope as a dict) at the current version of its event type."""
    event = raw.get("event")
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        return raw  # validation will say what is missing
    kind: str = event["type"]
    cls = EVENT_TYPES.get(kind)
    if cls is None:
        return raw  # validation will name the unknown type
    version = raw.get("schema_version", 1)
    while isinstance(version, int) and version < cls.schema_version:
        step = UPCASTERS.get((kind, version))
        if step is None:
            msg = f"no upcaster for {kind} from schema version {version}"
            raise ValueError(msg)
        event = step(event)
        version += 1
    return {**raw, "schema_version": version, "event": event}


def read_envelope(data: bytes | str | Raw) -> Envelope:
    """Read one envelope from JSON, whichever schema version wrote it."""
    if isinstance(data, bytes | str):
        current = _current(data)
        if current is not None:
            return current
    raw = json.loads(data) if isinstance(data, bytes | str) else data
    if not isinstance(raw, dict):
        msg = f"an event envelope is a JSON object, not {type(raw).__name__}"
        raise ValueError(msg)
    return ENVELOPE.validate_python(upcast(raw))


def _current(data: bytes | str) -> Envelope | None:
    """The envelope read straight from its JSON when its event is at the current version,
    the usual case: pydantic's own JSON reading costs a third less than a parse, then a
    validation of the dict. An older version (valid or not in today's shape) is None, and
    read the long way, through its upcasters."""
    try:
        envelope = ENVELOPE.validate_json(data)
    except ValidationError:
        return None
    return envelope if envelope.schema_version == type(envelope.event).schema_version else None
