"""The procedure as the releases see it, built up event by event by the handlers of
``tendering``, ``bidders``, ``awarding`` and ``contracting``."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from contracts.contract import Contract
from procurement import enquiries
from procurement import tender as tenders
from publication.ocds.registrations import PartyInfo
from schemas.events import Envelope
from schemas.values import Lot, Value


@dataclass
class Bid:
    """A bid as the opening and the evaluation made it public: its price for each lot."""

    bidder_id: str
    prices: dict[str, Value]  # by lot; empty for a bid that could not be opened
    status: dict[str, str] = field(default_factory=dict)  # by lot: valid or disqualified


@dataclass
class Procedure:
    ocid: str
    parties: Mapping[str, PartyInfo]
    tender: tenders.Tender | None = None
    published_at: datetime | None = None
    amendments: list[dict[str, Any]] = field(default_factory=list)
    bidders: dict[str, None] = field(default_factory=dict)  # an ordered set, secret until award
    bids: dict[str, Bid] = field(default_factory=dict)  # by bid id, in opening order
    number_of_tenderers: int | None = None
    tenderers_public: bool = False
    awards: dict[str, dict[str, Any]] = field(default_factory=dict)
    lot_awards: dict[str, str] = field(default_factory=dict)  # lot -> its current award
    cancelled_lots: set[str] = field(default_factory=set)
    unsuccessful_lots: set[str] = field(default_factory=set)
    cancelled: bool = False
    contracts: dict[str, Contract] = field(default_factory=dict)  # by aggregate id
    contract_amendments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    complaints: dict[str, dict[str, Any]] = field(default_factory=dict)  # each also on its award
    review_bodies: dict[str, None] = field(default_factory=dict)  # an ordered set
    last_release: str | None = None
    # Documents and enquiries, which follow every event of the tender (publication.ocds.history).
    clarifications: enquiries.Clarifications = field(default_factory=enquiries.Clarifications)

    @property
    def published(self) -> tenders.Tender:
        if self.tender is None:
            msg = f"the history of {self.ocid} must start with its TenderPublished"
            raise ValueError(msg)
        return self.tender


# Applies one event to the procedure and says which tags its release has; none: no release.
Handler = Callable[[Procedure, Envelope], list[str]]


def release_id(procedure: Procedure, envelope: Envelope) -> str:
    return f"{procedure.ocid}-{envelope.event_id}"


def lot_by_id(procedure: Procedure, lot_id: str) -> Lot:
    lots = procedure.published.requirements.lots
    found = next((lot for lot in lots if lot.id == lot_id), None)
    if found is None:
        raise ValueError(f"{procedure.ocid} has no lot {lot_id}")
    return found
