"""Every event the platform records, and the envelope that carries one.

Events are facts in the past tense. ``type`` tells them apart, so one ``TypeAdapter``
reads any of them; ``schema_version`` says which shape of that type was written, and
``schemas.upcasting`` lifts older shapes to the current one before validation.
"""

from datetime import datetime
from typing import Annotated, ClassVar, Literal
from uuid import UUID

from pydantic import AwareDatetime, Field, TypeAdapter

from schemas.base import Message
from schemas.values import Email, Identifier, ProcedureType, Requirements, Text, Title


class Event(Message):
    schema_version: ClassVar[int] = 1


# Parties


class AgencyRegistered(Event):
    type: Literal["AgencyRegistered"] = "AgencyRegistered"
    agency_id: Identifier
    name: Title
    identifier: Identifier  # the national registration number, e.g. RO-CUI-4267117


class OfficerRegistered(Event):
    type: Literal["OfficerRegistered"] = "OfficerRegistered"
    officer_id: Identifier
    agency_id: Identifier
    name: Title
    email: Email


# Tenders


class TenderPublished(Event):
    schema_version: ClassVar[int] = 2  # v2 added procedure_type; v1 tenders were all open
    type: Literal["TenderPublished"] = "TenderPublished"
    tender_id: Identifier
    ocid: Identifier
    buyer_id: Identifier
    title: Title
    description: Text
    procedure_type: ProcedureType
    requirements: Requirements
    submission_deadline: AwareDatetime


class TenderDetailsAmended(Event):
    """Wording changed; what is bought and how it is judged did not."""

    type: Literal["TenderDetailsAmended"] = "TenderDetailsAmended"
    title: Title
    description: Text
    reason: Text


class TenderRequirementsAmended(Event):
    """A significant change: lots, items, values, classification or award criteria."""

    type: Literal["TenderRequirementsAmended"] = "TenderRequirementsAmended"
    requirements: Requirements
    reason: Text


class TenderDeadlineExtended(Event):
    type: Literal["TenderDeadlineExtended"] = "TenderDeadlineExtended"
    previous_deadline: AwareDatetime
    submission_deadline: AwareDatetime
    reason: Text
    required_by_rules: bool  # True when a significant amendment forced the extension


class TenderCancelled(Event):
    type: Literal["TenderCancelled"] = "TenderCancelled"
    reason: Text


class TenderClosed(Event):
    """The submission deadline passed: no bid is accepted any more."""

    type: Literal["TenderClosed"] = "TenderClosed"
    submission_deadline: AwareDatetime


AnyEvent = Annotated[
    AgencyRegistered
    | OfficerRegistered
    | TenderPublished
    | TenderDetailsAmended
    | TenderRequirementsAmended
    | TenderDeadlineExtended
    | TenderCancelled
    | TenderClosed,
    Field(discriminator="type"),
]

EVENT_TYPES: dict[str, type[Event]] = {
    cls.model_fields["type"].default: cls
    for cls in (
        AgencyRegistered,
        OfficerRegistered,
        TenderPublished,
        TenderDetailsAmended,
        TenderRequirementsAmended,
        TenderDeadlineExtended,
        TenderCancelled,
        TenderClosed,
    )
}


class Envelope(Message):
    """One recorded event with the facts every consumer needs to order and deduplicate it."""

    event_id: UUID
    schema_version: int = Field(ge=1)
    occurred_at: AwareDatetime
    aggregate_id: Identifier  # a tender's ocid, or a party's id
    sequence: int = Field(ge=1)  # 1, 2, 3... within one aggregate, with no gaps
    actor: Identifier
    command_id: UUID | None = None
    event: AnyEvent

    @property
    def type(self) -> str:
        return self.event.type


def envelope(
    event: Event,
    *,
    event_id: UUID,
    aggregate_id: str,
    sequence: int,
    actor: str,
    occurred_at: datetime,
    command_id: UUID | None = None,
) -> Envelope:
    """Wrap an event, stamping the schema version its type is written at today."""
    return Envelope(
        event_id=event_id,
        schema_version=type(event).schema_version,
        occurred_at=occurred_at,
        aggregate_id=aggregate_id,
        sequence=sequence,
        actor=actor,
        command_id=command_id,
        event=event,
    )


ENVELOPE = TypeAdapter(Envelope)
