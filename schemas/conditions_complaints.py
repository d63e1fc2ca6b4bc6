"""Complaints about a tender's conditions (its documents, requirements and criteria), filed
by any registered supplier before the submission deadline, and the review body's decisions
on them (Directive 89/665/EEC, Articles 1(3) and 2(1)); keyed by "<ocid>:complaints"."""

from enum import StrEnum
from typing import Annotated, ClassVar, Literal

from pydantic import Field

from schemas.base import EvaluationEvent, Event
from schemas.commands import Command
from schemas.values import Identifier, Text


class ConditionsRemedy(StrEnum):
    """What became of an upheld complaint about the conditions."""

    AWAITED = "awaited"  # the buyer has neither amended nor cancelled since the decision
    AMENDED = "amended"  # the requirements were amended significantly after the decision
    CANCELLED = "cancelled"  # the tender was cancelled


# Commands


class FileConditionsComplaint(Command):
    ocid: Identifier
    grounds: Text  # what in the conditions is unlawful, and why


class UpholdConditionsComplaint(Command):
    ocid: Identifier
    complaint_id: Identifier
    reason: Text


class DismissConditionsComplaint(Command):
    ocid: Identifier
    complaint_id: Identifier
    reason: Text


AnyConditionsComplaintCommand = (
    FileConditionsComplaint | UpholdConditionsComplaint | DismissConditionsComplaint
)

# Events: public, as the remedies on the evaluation's awards are.


class ConditionsComplaintEvent(Event):
    """Complaints about a tender's conditions, keyed by "<ocid>:complaints": carried with
    the evaluation's events, but a family of their own, for they exist before any evaluation
    and are none of its steps."""

    topic: ClassVar[str] = EvaluationEvent.topic


class ConditionsComplaintFiled(ConditionsComplaintEvent):
    public = True
    type: Literal["ConditionsComplaintFiled"] = "ConditionsComplaintFiled"
    complaint_id: Identifier
    supplier_id: Identifier
    grounds: Text


class ConditionsComplaintUpheld(ConditionsComplaintEvent):
    """The conditions are unlawful: the buyer must amend them significantly, which extends
    the submission deadline, or cancel the tender. Until then the tender does not close."""

    public = True
    type: Literal["ConditionsComplaintUpheld"] = "ConditionsComplaintUpheld"
    complaint_id: Identifier
    reason: Text
    reviewer_id: Identifier
    review_body_id: Identifier
    tender_version: Annotated[
        int, Field(ge=1)
    ]  # the tender's last event then: its remedy must come after it


class ConditionsComplaintDismissed(ConditionsComplaintEvent):
    public = True
    type: Literal["ConditionsComplaintDismissed"] = "ConditionsComplaintDismissed"
    complaint_id: Identifier
    reason: Text
    reviewer_id: Identifier
    review_body_id: Identifier
