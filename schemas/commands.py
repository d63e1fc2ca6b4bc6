"""Every command the platform accepts: what someone asks for, in the imperative.

Commands are validated here, at the edge, before any rule of the domain runs; a command
that does not validate never reaches the event store.
"""

from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, Field, model_validator

from schemas.base import Message
from schemas.values import Email, Identifier, ProcedureType, Requirements, Text, Title


class Role(StrEnum):
    OPERATOR = "operator"  # runs the platform and registers agencies
    OFFICER = "officer"  # a procurement officer of one agency
    SYSTEM = "system"  # the platform's own services, such as the deadline service


class Actor(Message):
    """Who is acting, as established by authentication, never by the request body."""

    id: Identifier
    role: Role
    agency_id: Identifier | None = None


class Command(Message):
    pass


class RegisterAgency(Command):
    name: Title
    identifier: Identifier


class RegisterOfficer(Command):
    agency_id: Identifier
    name: Title
    email: Email


class PublishTender(Command):
    title: Title
    description: Text
    procedure_type: ProcedureType = ProcedureType.OPEN
    requirements: Requirements
    submission_deadline: AwareDatetime


class TenderAmendment(Command):
    """What an amendment changes; each kind of change becomes its own event."""

    reason: Text
    title: Title | None = None
    description: Text | None = None
    requirements: Requirements | None = None
    submission_deadline: AwareDatetime | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> "TenderAmendment":
        fields = ("title", "description", "requirements", "submission_deadline")
        if all(getattr(self, name) is None for name in fields):
            msg = f"an amendment must change at least one of: {', '.join(fields)}"
            raise ValueError(msg)
        return self


class AmendTender(TenderAmendment):
    ocid: Identifier


class Cancellation(Command):
    reason: Text


class CancelTender(Cancellation):
    ocid: Identifier


class CloseTender(Command):
    ocid: Identifier


TenderCommand = PublishTender | AmendTender | CancelTender | CloseTender
PartyCommand = RegisterAgency | RegisterOfficer
AnyCommand = Annotated[TenderCommand | PartyCommand, Field(union_mode="left_to_right")]
