"""The shared base of every message: frozen, strict about unknown fields, JSON on the wire.

Every event class also says which Kafka topic carries it, by deriving from that topic's
base class below, and whether the public may see it, with ``public = True`` or ``False``.
The union of recorded events, each topic's event types and the public timeline are all
read from the classes (``schemas.events``, ``adapters.kafka.topology``, the portal), so a
new event is one class in one file.
"""

import operator
from collections.abc import Iterable
from functools import reduce
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field


class Message(BaseModel):
    """A value on the wire: immutable, and unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Event(Message):
    """A fact in the past tense; ``schema_version`` is the shape its type is written at."""

    schema_version: ClassVar[int] = 1
    topic: ClassVar[str]  # the Kafka topic that carries it, set by the topic's base class
    public: ClassVar[bool]  # whether a tender's public timeline shows it
    if TYPE_CHECKING:
        # Each event declares it as a Literal of its own name, the discriminator on the
        # wire; the base classes hold no field of their own.
        type: str

    @classmethod
    def is_concrete(cls) -> bool:
        """Whether this class is an event on the wire (it names its ``type``), not a base."""
        field = cls.model_fields.get("type")
        return field is not None and isinstance(field.default, str)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if not cls.is_concrete():
            return
        if not hasattr(cls, "topic"):
            msg = (
                f"event {cls.__name__} names no topic: derive it from the base class of the"
                " topic that carries it (TenderEvent, PartyEvent, ...), not from Event"
            )
            raise TypeError(msg)
        if not hasattr(cls, "public"):
            msg = f"event {cls.__name__} must say whether the public may see it: public = True or False"
            raise TypeError(msg)


class TenderEvent(Event):
    """Published, amended, closed or cancelled; keyed by the tender's ocid."""

    topic = "procurement.tenders"


class PartyEvent(Event):
    """Agencies, officers and suppliers registered, and claims on a registration."""

    topic = "procurement.parties"


class BidEvent(Event):
    """Sealed bids and their opening, keyed by "<ocid>:bids". Before the opening, these
    carry only ciphertexts and digests."""

    topic = "procurement.bids"


class EvaluationEvent(Event):
    """Evaluation, award, standstill and complaints, keyed by "<ocid>:evaluation"."""

    topic = "procurement.evaluations"


class AuctionEvent(Event):
    """Electronic reverse auctions, keyed by "<ocid>:auction:<lot_id>"."""

    topic = "procurement.auctions"


class ContractEvent(Event):
    """Contracts, keyed by their contract id."""

    topic = "procurement.contracts"


def concrete_events(base: type[Event]) -> tuple[type[Event], ...]:
    """Every event class derived from ``base`` so far, in the order they were written."""
    found: list[type[Event]] = []
    for subclass in base.__subclasses__():
        if subclass.is_concrete():
            found.append(subclass)
        found.extend(concrete_events(subclass))
    return tuple(found)


def one_of(events: Iterable[type[Event]]) -> Any:
    """The union of these event classes, told apart by their ``type`` as pydantic reads it.

    Built at run time, so type checkers see it as ``Any``: modules give it the static type
    of the events' common base class under ``TYPE_CHECKING``."""
    return Annotated[reduce(operator.or_, events), Field(discriminator="type")]
