"""The recorded events of one procedure as OCDS 1.1 releases, records and packages.

``releases`` folds the history of one ocid (the tender, its bid log, its evaluation, its
contracts and auctions, in store order) and writes one release for each event that changes
what the public may know; the others write none. The choices behind the mapping:

**Schema.** The OCDS 1.1.5 core release schema and the platform's own three extensions
(``schemas/ocds_extensions``, served by the API at ``/ocds/extensions/<name>/extension.json``
and declared in every package): ``lots`` (``tender.lots``, each item's ``relatedLot``, each
award's ``relatedLots``), ``bids`` (``bids.details``: who bid for which lot, at what price,
with what outcome) and ``partyScale`` (a supplier's declared ``details.scale``). Their fields
have the names and shapes the open-contracting community's lots, bids and party scale
extensions use. ``tender.value`` is the sum of the lots' estimates. A lot cancelled before its
award is also published as an award with status ``unsuccessful`` (the awardStatus code for an
award that could not be made). The tender's own CPV codes have no core field; each item
carries its CPV code, and the main code decides ``mainProcurementCategory`` (division 45
works, 50 and above services, the rest goods).

**Snapshots.** Each release carries everything public at its moment (tender, awards,
contracts, parties), and its ``tag`` names what the event changed. A release thus reads on
its own, and merging any prefix of them by the OCDS rules gives the state at that point.

**Bidders.** Nothing about bidders before the bids are opened; ``numberOfTenderers`` from the
opening (every bidder whose bid was opened or rejected); the tenderers themselves, in
``tender.tenderers`` and as parties with the role ``tenderer``, from the first award. A lot's
bids (``bids.details``, one entry per bid and lot, with the price and whether the committee
found it valid) once the lot is awarded or cancelled: its prices are then the award's
evidence; a bid that could not be opened is listed, without a price, from the first award.
The price is the auction's final one when the lot had an auction. Award winners also get the
role ``supplier``.

**Awards.** ``pending`` while the standstill runs (complaints may still overturn it),
``active`` once its contract is drawn (the standstill is over), ``cancelled`` when a complaint
is upheld or its lot or the procedure is cancelled. The id is the platform's award id
(``contracts.contract.award_id``), which contracts name as their ``awardID``. An auction's
final price is the awarded value and the bid's value.

**Values.** Amounts and quantities stay ``Decimal`` in the dicts, exact to the cent; write
them with ``dumps``, which prints each one as the exact JSON number it is (``json.dumps``
refuses them, and a float would round amounts of 16 digits or more).

**Dates.** ``date`` is when the event was recorded; dates without a time (a contract's
period, a milestone's due date) are the start of that day in UTC, and a period's last day
ends at 23:59:59. ``language`` is Romanian, the language of the notices the platform's buyers
publish.
"""

import copy
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from contracts.contract import Contract, Milestone, award_id, ocds_status
from contracts.contract import evolve as evolve_contract
from procurement import tender as tenders
from procurement.procedures import PROCEDURES
from schemas.contracts import (
    ContractActivated,
    ContractAmended,
    ContractCompleted,
    ContractDrawn,
    ContractSigned,
    ContractTerminated,
    MilestoneRecorded,
    PaymentRecorded,
    Period,
)
from schemas.evaluation import (
    AuctionResultRecorded,
    AwardDecided,
    BidDisqualified,
    BidQualified,
    ComplaintUpheld,
    JustificationRejected,
    LotCancelled,
    ProcedureCancelled,
    Remedy,
)
from schemas.events import (
    AgencyRegistered,
    BidOpened,
    BidRejected,
    BidsOpened,
    Envelope,
    Event,
    SupplierRegistered,
    TenderCancelled,
    TenderClosed,
    TenderDeadlineExtended,
    TenderDetailsAmended,
    TenderPublished,
    TenderRequirementsAmended,
)
from schemas.values import Item, Lot, Requirements, Value

VERSION = "1.1"
LANGUAGE = "ro"
EXTENSIONS = ("lots", "bids", "partyScale")  # folders of schemas/ocds_extensions
Release = dict[str, Any]

_REGISTRATION = re.compile(r"^([A-Z]{2}-[A-Z]+)-(\S+)$")  # RO-CUI-4267117: scheme, number


@dataclass(frozen=True)
class PartyInfo:
    """What the platform knows of a party, from AgencyRegistered or SupplierRegistered."""

    id: str
    name: str
    identifier: str | None = None  # the number in its register, e.g. 4267117
    scheme: str | None = None  # the register, e.g. RO-CUI
    is_sme: bool | None = None  # declared by suppliers; published as details.scale


def party_info(event: AgencyRegistered | SupplierRegistered) -> PartyInfo:
    """A party as registered; "RO-CUI-4267117" is the number 4267117 in the register RO-CUI."""
    found = _REGISTRATION.match(event.identifier)
    scheme, number = found.groups() if found else (None, event.identifier)
    if isinstance(event, AgencyRegistered):
        return PartyInfo(event.agency_id, event.name, number, scheme)
    return PartyInfo(event.supplier_id, event.name, number, scheme, event.is_sme)


# The procedure as the releases see it, built up event by event


@dataclass
class _Bid:
    """A bid as the opening and the evaluation made it public: its price for each lot."""

    bidder_id: str
    prices: dict[str, Value]  # by lot; empty for a bid that could not be opened
    status: dict[str, str] = field(default_factory=dict)  # by lot: valid or disqualified


@dataclass
class _Procedure:
    ocid: str
    parties: Mapping[str, PartyInfo]
    tender: tenders.Tender | None = None
    published_at: datetime | None = None
    amendments: list[dict[str, Any]] = field(default_factory=list)
    bidders: dict[str, None] = field(default_factory=dict)  # an ordered set, secret until award
    bids: dict[str, _Bid] = field(default_factory=dict)  # by bid id, in opening order
    number_of_tenderers: int | None = None
    tenderers_public: bool = False
    awards: dict[str, dict[str, Any]] = field(default_factory=dict)
    lot_awards: dict[str, str] = field(default_factory=dict)  # lot -> its current award
    cancelled_lots: set[str] = field(default_factory=set)
    cancelled: bool = False
    contracts: dict[str, Contract] = field(default_factory=dict)  # by aggregate id
    contract_amendments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    last_release: str | None = None

    @property
    def published(self) -> tenders.Tender:
        if self.tender is None:
            msg = f"the history of {self.ocid} must start with its TenderPublished"
            raise ValueError(msg)
        return self.tender


def releases(history: Sequence[Envelope], parties: Mapping[str, PartyInfo]) -> list[Release]:
    """One release per event of the procedure that changes public information, in order."""
    if not history:
        return []
    procedure = _Procedure(ocid=history[0].aggregate_id.partition(":")[0], parties=parties)
    written = []
    for envelope in history:
        tags = _apply(procedure, envelope)
        if tags:
            release = _release(procedure, envelope, tags)
            written.append(release)
            procedure.last_release = release["id"]
    return written


def _apply(procedure: _Procedure, envelope: Envelope) -> list[str]:
    """Apply the event and say which tags its release has; none: no release."""
    handler = _HANDLERS.get(type(envelope.event))
    if handler is None:  # bid log internals, evaluation steps, auctions, parties
        return []
    status = _tender_status(procedure) if procedure.tender else None
    tags = handler(procedure, envelope)
    tender_tagged = any(tag.startswith("tender") for tag in tags)
    if tags and status and status != _tender_status(procedure) and not tender_tagged:
        tags.append("tenderUpdate")  # an award or a lot's cancellation moved the tender too
    return tags


def _release(procedure: _Procedure, envelope: Envelope, tags: list[str]) -> Release:
    tender = procedure.published
    release: Release = {
        "ocid": procedure.ocid,
        "id": _release_id(procedure, envelope),
        "date": _iso(envelope.occurred_at),
        "tag": tags,
        "initiationType": "tender",
        "language": LANGUAGE,
        "parties": _parties(procedure),
        "buyer": _reference(procedure, tender.buyer_id),
        "tender": _tender(procedure),
    }
    if procedure.tenderers_public:
        release["bids"] = {"details": _bids(procedure)}
    if procedure.awards:
        release["awards"] = list(procedure.awards.values())
    if procedure.contracts:
        release["contracts"] = [_contract(procedure, key) for key in procedure.contracts]
    return copy.deepcopy(release)  # the next events must not change a release written


def _release_id(procedure: _Procedure, envelope: Envelope) -> str:
    return f"{procedure.ocid}-{envelope.event_id}"


# The tender


def _published(procedure: _Procedure, envelope: Envelope) -> list[str]:
    procedure.tender = tenders.evolve(None, envelope.event)
    procedure.published_at = envelope.occurred_at
    return ["tender"]


def _amended(procedure: _Procedure, envelope: Envelope) -> list[str]:
    event = envelope.event
    assert isinstance(
        event, TenderDetailsAmended | TenderRequirementsAmended | TenderDeadlineExtended
    )
    procedure.tender = tenders.evolve(procedure.published, event)
    amendment = {
        "id": str(envelope.event_id),
        "date": _iso(envelope.occurred_at),
        "rationale": event.reason,
        "description": _amendment_description(event),
        "releaseID": _release_id(procedure, envelope),
    }
    if procedure.last_release is not None:
        amendment["amendsReleaseID"] = procedure.last_release
    procedure.amendments.append(amendment)
    return ["tenderAmendment"]


def _amendment_description(
    event: TenderDetailsAmended | TenderRequirementsAmended | TenderDeadlineExtended,
) -> str:
    if isinstance(event, TenderDetailsAmended):
        return "The title and the description changed."
    if isinstance(event, TenderRequirementsAmended):
        return (
            "What is bought or how the award is decided changed (lots, items, values or criteria)."
        )
    moved = f"The submission deadline moved from {_iso(event.previous_deadline)} to {_iso(event.submission_deadline)}"
    return moved + (
        ", as the rules require after a significant amendment." if event.required_by_rules else "."
    )


def _tender_moved(tag: str) -> Callable[[_Procedure, Envelope], list[str]]:
    def handle(procedure: _Procedure, envelope: Envelope) -> list[str]:
        procedure.tender = tenders.evolve(procedure.published, envelope.event)
        procedure.cancelled |= isinstance(envelope.event, TenderCancelled)
        return [tag]

    return handle


def _bidder(procedure: _Procedure, envelope: Envelope) -> list[str]:
    event = envelope.event
    assert isinstance(event, BidOpened | BidRejected)
    procedure.bidders[event.bidder_id] = None
    prices = (
        {offer.lot_id: offer.price for offer in event.content.offers}
        if isinstance(event, BidOpened)
        else {}
    )
    procedure.bids[event.bid_id] = _Bid(event.bidder_id, prices)
    return []  # the bids become public information only as a whole, at BidsOpened


def _bid_judged(procedure: _Procedure, envelope: Envelope) -> list[str]:
    event = envelope.event
    assert isinstance(event, BidQualified | BidDisqualified | JustificationRejected)
    bid = procedure.bids.get(event.bid_id)
    if bid is None:
        return []
    valid = isinstance(event, BidQualified)
    lots = [event.lot_id] if isinstance(event, JustificationRejected) else event.lot_ids
    for lot_id in lots:
        bid.status[lot_id] = "valid" if valid else "disqualified"
    return []  # public with the lot's award


def _auction_result(procedure: _Procedure, envelope: Envelope) -> list[str]:
    event = envelope.event
    assert isinstance(event, AuctionResultRecorded)
    for final in event.final_prices:
        bid = procedure.bids.get(final.bid_id)
        if bid is not None and event.lot_id in bid.prices:
            bid.prices[event.lot_id] = final.price
    return []  # public with the lot's award


def _opened(procedure: _Procedure, envelope: Envelope) -> list[str]:
    procedure.number_of_tenderers = len(procedure.bidders)
    return ["tenderUpdate"]


def _tender_status(procedure: _Procedure) -> str:
    lots = {lot.id for lot in procedure.published.requirements.lots}
    if procedure.cancelled:
        return "cancelled"
    if lots <= procedure.cancelled_lots:
        return "unsuccessful"
    if procedure.lot_awards and lots <= procedure.cancelled_lots | set(procedure.lot_awards):
        return "complete"
    return "active"


def _tender(procedure: _Procedure) -> dict[str, Any]:
    tender = procedure.published
    requirements = tender.requirements
    assert procedure.published_at is not None
    published: dict[str, Any] = {
        "id": tender.tender_id,
        "title": tender.title,
        "description": tender.description,
        "status": _tender_status(procedure),
        "items": [_item(item, lot.id) for lot in requirements.lots for item in lot.items],
        "lots": [_lot_of(procedure, lot) for lot in requirements.lots],
        "value": _value(requirements.estimated_value),
        "procuringEntity": _reference(procedure, tender.buyer_id),
        "procurementMethod": PROCEDURES[tender.procedure_type].method,
        "procurementMethodDetails": PROCEDURES[tender.procedure_type].method_details,
        "mainProcurementCategory": _category(requirements.cpv),
        "awardCriteria": str(requirements.award_criteria),
        "awardCriteriaDetails": _criteria_details(requirements),
        "submissionMethod": ["electronicSubmission"],
        "tenderPeriod": {
            "startDate": _iso(procedure.published_at),
            "endDate": _iso(tender.submission_deadline),
        },
    }
    if procedure.amendments:
        published["amendments"] = procedure.amendments
    if procedure.number_of_tenderers is not None:
        published["numberOfTenderers"] = procedure.number_of_tenderers
    if procedure.tenderers_public:
        published["tenderers"] = [_reference(procedure, b) for b in procedure.bidders]
    return published


def _category(cpv: str) -> str:
    """The CPV's own split: division 45 is works, 50 and above services, the rest goods."""
    division = int(cpv[:2])
    if division == 45:
        return "works"
    return "services" if division >= 50 else "goods"


def _criteria_details(requirements: Requirements) -> str:
    parts = [f"price {requirements.price_weight} points"]
    parts += [f"{c.name} {c.weight} points" for c in requirements.quality_criteria]
    return "Score out of 100: " + "; ".join(parts) + ". Ties go to the tender received first."


def _item(item: Item, lot_id: str) -> dict[str, Any]:
    return {
        "id": item.id,
        "description": item.description,
        "classification": {"scheme": "CPV", "id": item.cpv},
        "quantity": item.quantity,
        "unit": {"name": item.unit},
        "relatedLot": lot_id,
    }


def _lot_of(procedure: _Procedure, lot: Lot) -> dict[str, Any]:
    published: dict[str, Any] = {"id": lot.id, "title": lot.title}
    if lot.description:
        published["description"] = lot.description
    return published | {"status": _lot_status(procedure, lot.id), "value": _value(lot.value)}


def _lot_status(procedure: _Procedure, lot_id: str) -> str:
    if procedure.cancelled or lot_id in procedure.cancelled_lots:
        return "cancelled"
    return "complete" if lot_id in procedure.lot_awards else "active"


def _bids(procedure: _Procedure) -> list[dict[str, Any]]:
    """Each bid's offer for each lot whose award is decided (or that was cancelled), and each
    bid that could not be opened; a lot still in evaluation keeps its prices to itself."""
    decided = {lot for award in procedure.awards.values() for lot in award["relatedLots"]}
    decided |= procedure.cancelled_lots
    details: list[dict[str, Any]] = []
    for bid_id, bid in procedure.bids.items():
        tenderers = [_reference(procedure, bid.bidder_id)]
        if not bid.prices:
            details.append({"id": bid_id, "status": "disqualified", "tenderers": tenderers})
        for lot_id, price in bid.prices.items():
            if lot_id in decided:
                details.append(
                    {
                        "id": f"{bid_id}:{lot_id}",
                        "status": bid.status.get(lot_id, "pending"),
                        "tenderers": tenderers,
                        "value": _value(price),
                        "relatedLots": [lot_id],
                    }
                )
    return details


# Awards


def _awarded(procedure: _Procedure, envelope: Envelope) -> list[str]:
    event = envelope.event
    assert isinstance(event, AwardDecided)
    lot = _lot(procedure, event.lot_id)
    awarded = award_id(event.lot_id, event.bid_id)
    procedure.awards[awarded] = {
        **_award_of(lot, awarded, "pending", event.decided_at),
        "value": _value(event.value),
        "suppliers": [_reference(procedure, event.bidder_id)],
    }
    procedure.lot_awards[event.lot_id] = awarded
    procedure.bidders.setdefault(event.bidder_id, None)
    procedure.tenderers_public = True
    return ["award"]


def _award_of(lot: Lot, award_id: str, status: str, when: datetime) -> dict[str, Any]:
    return {
        "id": award_id,
        "title": lot.title,
        "description": f"Lot {lot.id}",
        "status": status,
        "date": _iso(when),
        "items": [_item(item, lot.id) for item in lot.items],
        "relatedLots": [lot.id],
    }


def _complaint_upheld(procedure: _Procedure, envelope: Envelope) -> list[str]:
    event = envelope.event
    assert isinstance(event, ComplaintUpheld)
    if event.remedy is Remedy.CANCEL:
        procedure.cancelled_lots.add(event.lot_id)
    return ["awardCancellation"] if _cancel_award(procedure, event.lot_id) else []


def _lot_cancelled(procedure: _Procedure, envelope: Envelope) -> list[str]:
    event = envelope.event
    assert isinstance(event, LotCancelled)
    procedure.cancelled_lots.add(event.lot_id)
    if _cancel_award(procedure, event.lot_id):
        return ["awardCancellation"]
    award_id = f"{event.lot_id}:unsuccessful"
    lot = _lot(procedure, event.lot_id)
    unsuccessful = _award_of(lot, award_id, "unsuccessful", envelope.occurred_at)
    procedure.awards[award_id] = {**unsuccessful, "description": f"Lot {lot.id}: {event.reason}"}
    return ["award"]


def _procedure_cancelled(procedure: _Procedure, envelope: Envelope) -> list[str]:
    assert isinstance(envelope.event, ProcedureCancelled)
    procedure.cancelled = True
    cancelled = [_cancel_award(procedure, lot_id) for lot_id in list(procedure.lot_awards)]
    return ["tenderCancellation", *(["awardCancellation"] if cancelled else [])]


def _cancel_award(procedure: _Procedure, lot_id: str) -> bool:
    award_id = procedure.lot_awards.pop(lot_id, None)
    if award_id is not None:
        procedure.awards[award_id]["status"] = "cancelled"
    return award_id is not None


def _lot(procedure: _Procedure, lot_id: str) -> Lot:
    lots = procedure.published.requirements.lots
    found = next((lot for lot in lots if lot.id == lot_id), None)
    if found is None:
        raise ValueError(f"{procedure.ocid} has no lot {lot_id}")
    return found


# Contracts


def _contract_event(tag: str) -> Callable[[_Procedure, Envelope], list[str]]:
    def handle(procedure: _Procedure, envelope: Envelope) -> list[str]:
        key = envelope.aggregate_id
        before = procedure.contracts.get(key)
        procedure.contracts[key] = evolve_contract(before, envelope.event)
        return [tag]

    return handle


def _drawn(procedure: _Procedure, envelope: Envelope) -> list[str]:
    assert isinstance(envelope.event, ContractDrawn)
    tags = _contract_event("contract")(procedure, envelope)
    award = procedure.awards.get(envelope.event.award_id)
    if award is None or award["status"] == "active":
        return tags
    award["status"] = "active"  # a contract is drawn only once the standstill is over
    return ["awardUpdate", *tags]


def _signed(procedure: _Procedure, envelope: Envelope) -> list[str]:
    _contract_event("contract")(procedure, envelope)
    return []  # still pending until both have signed: ContractActivated tells


def _contract_amended(procedure: _Procedure, envelope: Envelope) -> list[str]:
    event = envelope.event
    assert isinstance(event, ContractAmended)
    tags = _contract_event("contractAmendment")(procedure, envelope)
    amendment = {
        "id": event.amendment_id,
        "date": _iso(envelope.occurred_at),
        "rationale": event.reason,
        "description": _contract_change(event),
        "releaseID": _release_id(procedure, envelope),
    }
    if procedure.last_release is not None:
        amendment["amendsReleaseID"] = procedure.last_release
    procedure.contract_amendments.setdefault(envelope.aggregate_id, []).append(amendment)
    return tags


def _contract_change(event: ContractAmended) -> str:
    changes = []
    if event.value != event.previous_value:
        changes.append(
            f"value {event.previous_value.amount} to {event.value.amount} {event.value.currency}"
        )
    if event.end_date != event.previous_end_date:
        changes.append(f"end date {event.previous_end_date} to {event.end_date}")
    total = f"{event.cumulative_change_percent}% of the original value in all, limit {event.threshold_percent}%"
    needs = " A new procedure is needed." if event.needs_new_procedure else ""
    return f"Changed {' and '.join(changes)} ({total}).{needs}"


def _milestone(procedure: _Procedure, envelope: Envelope) -> list[str]:
    event = envelope.event
    assert isinstance(event, MilestoneRecorded)
    known = procedure.contracts.get(envelope.aggregate_id)
    update = known is not None and event.milestone_id in known.milestones
    return _contract_event("implementationUpdate" if update else "implementation")(
        procedure, envelope
    )


def _contract(procedure: _Procedure, key: str) -> dict[str, Any]:
    contract = procedure.contracts[key]
    drawn = contract.drawn
    published: dict[str, Any] = {
        "id": drawn.contract_id,
        "awardID": drawn.award_id,
        "title": drawn.title,
        "status": ocds_status(contract),
        "value": _value(contract.value),
        "period": _period(contract.period),
        "items": [_item(item, drawn.lot_id) for item in drawn.items],
    }
    if contract.activated_at is not None:
        published["dateSigned"] = _iso(contract.activated_at)
    if key in procedure.contract_amendments:
        published["amendments"] = procedure.contract_amendments[key]
    if contract.milestones or contract.payments:
        published["implementation"] = _implementation(procedure, contract)
    return published


def _implementation(procedure: _Procedure, contract: Contract) -> dict[str, Any]:
    implementation: dict[str, Any] = {}
    if contract.milestones:
        implementation["milestones"] = [_milestone_of(m) for m in contract.milestones.values()]
    if contract.payments:
        implementation["transactions"] = [
            {
                "id": payment.payment_id,
                "date": _iso(payment.paid_at),
                "value": _value(payment.value),
                "payer": _reference(procedure, contract.buyer_id),
                "payee": _reference(procedure, contract.supplier_id),
            }
            for payment in contract.payments.values()
        ]
    return implementation


def _milestone_of(milestone: Milestone) -> dict[str, Any]:
    published = {
        "id": milestone.milestone_id,
        "title": milestone.title,
        "dueDate": _iso(_day_start(milestone.due_date)),
        "status": str(milestone.status),
    }
    if milestone.date_met is not None:
        published["dateMet"] = _iso(_day_start(milestone.date_met))
    return published


def _period(period: Period) -> dict[str, str]:
    end = datetime.combine(period.end_date, time(23, 59, 59), UTC)  # the last day is included
    return {"startDate": _iso(_day_start(period.start_date)), "endDate": _iso(end)}


# Parties


def _parties(procedure: _Procedure) -> list[dict[str, Any]]:
    roles: dict[str, list[str]] = {procedure.published.buyer_id: ["buyer", "procuringEntity"]}
    if procedure.tenderers_public:
        for bidder in procedure.bidders:
            roles.setdefault(bidder, []).append("tenderer")
    for award in procedure.awards.values():
        if award["status"] in ("pending", "active"):
            for supplier in award["suppliers"]:
                roles.setdefault(supplier["id"], []).append("supplier")
    for contract in procedure.contracts.values():
        if contract.payments:
            roles[contract.buyer_id].append("payer")
            roles.setdefault(contract.supplier_id, []).append("payee")
    return [_party(procedure, party_id, list(dict.fromkeys(r))) for party_id, r in roles.items()]


def _party(procedure: _Procedure, party_id: str, roles: list[str]) -> dict[str, Any]:
    party: dict[str, Any] = {**_reference(procedure, party_id)}
    info = procedure.parties.get(party_id)
    if info is not None and info.identifier is not None:
        identifier = {"id": info.identifier, "legalName": info.name}
        party["identifier"] = identifier | ({"scheme": info.scheme} if info.scheme else {})
    if info is not None and info.is_sme is not None:
        party["details"] = {"scale": "sme" if info.is_sme else "large"}
    party["roles"] = roles
    return party


def _reference(procedure: _Procedure, party_id: str) -> dict[str, str]:
    info = procedure.parties.get(party_id)
    return {"id": party_id} if info is None else {"id": party_id, "name": info.name}


# Values and dates


def _value(value: Value) -> dict[str, Any]:
    return {"amount": value.amount, "currency": value.currency}


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), UTC)


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError(f"{moment} has no time zone; OCDS dates must say which")
    return moment.isoformat()


_HANDLERS: dict[type[Event], Callable[[_Procedure, Envelope], list[str]]] = {
    TenderPublished: _published,
    TenderDetailsAmended: _amended,
    TenderRequirementsAmended: _amended,
    TenderDeadlineExtended: _amended,
    TenderCancelled: _tender_moved("tenderCancellation"),
    TenderClosed: _tender_moved("tenderUpdate"),
    BidOpened: _bidder,
    BidRejected: _bidder,
    BidQualified: _bid_judged,
    BidDisqualified: _bid_judged,
    JustificationRejected: _bid_judged,
    AuctionResultRecorded: _auction_result,
    BidsOpened: _opened,
    AwardDecided: _awarded,
    ComplaintUpheld: _complaint_upheld,
    LotCancelled: _lot_cancelled,
    ProcedureCancelled: _procedure_cancelled,
    ContractDrawn: _drawn,
    ContractSigned: _signed,
    ContractActivated: _contract_event("contract"),
    ContractAmended: _contract_amended,
    MilestoneRecorded: _milestone,
    PaymentRecorded: _contract_event("implementation"),
    ContractCompleted: _contract_event("contractTermination"),
    ContractTerminated: _contract_event("contractTermination"),
}


# What the mapping reads of a procedure's history, by event type: everything else (the sealed
# bids above all) never reaches it. The quiet ones only feed a later release.
READS = tuple(event_type.__name__ for event_type in _HANDLERS)
QUIET = frozenset(
    {
        "BidOpened",
        "BidRejected",
        "BidQualified",
        "BidDisqualified",
        "JustificationRejected",
        "AuctionResultRecorded",
        "ContractSigned",
    }
)


# Packages and records


def release_package(
    releases: Sequence[Release],
    *,
    uri: str,
    published_date: datetime,
    publisher: str,
    extensions_at: str,
) -> dict[str, Any]:
    """A release package; ``extensions_at`` is the URL the platform serves its extensions
    under, e.g. ``https://example.org/ocds/extensions/``."""
    metadata = _package_metadata(uri, published_date, publisher, extensions_at)
    return {**metadata, "releases": list(releases)}


def record_package(
    records: Sequence[dict[str, Any]],
    *,
    uri: str,
    published_date: datetime,
    publisher: str,
    extensions_at: str,
) -> dict[str, Any]:
    metadata = _package_metadata(uri, published_date, publisher, extensions_at)
    return {**metadata, "records": list(records)}


def extension_urls(extensions_at: str) -> list[str]:
    """Where each extension's ``extension.json`` is, as a package declares them."""
    base = extensions_at.rstrip("/")
    return [f"{base}/{name}/extension.json" for name in EXTENSIONS]


def _package_metadata(
    uri: str, published_date: datetime, publisher: str, extensions_at: str
) -> dict[str, Any]:
    return {
        "uri": uri,
        "version": VERSION,
        "extensions": extension_urls(extensions_at),
        "publishedDate": _iso(published_date),
        "publisher": {"name": publisher},
    }


def compile_record(releases: Sequence[Release]) -> dict[str, Any]:
    """The record of one ocid: its releases and their compiledRelease by the OCDS merge rules.

    Releases merge in date order (ties keep their order); objects merge field by field; arrays
    of objects that all have an ``id`` merge by id, other arrays replace; a null removes a field.
    ``id``, ``date`` and ``tag`` are not merged: the compiled release is ``<ocid>-<date>`` of
    the latest release, tagged ``compiled``. The core schema's ``wholeListMerge`` arrays are
    not emitted here. Merging by id cannot remove: an item that a requirements amendment
    dropped stays in the compiled ``tender.items`` (the latest release has the true list).
    """
    if not releases:
        raise ValueError("a record needs at least one release")
    ocids = {release["ocid"] for release in releases}
    if len(ocids) != 1:
        raise ValueError(f"a record is of one ocid, these releases are of {sorted(ocids)}")
    ordered = sorted(releases, key=lambda release: datetime.fromisoformat(release["date"]))
    compiled: dict[str, Any] = {}
    for release in ordered:
        changes = {k: v for k, v in release.items() if k not in ("id", "date", "tag")}
        compiled = _merge(compiled, changes)
    latest = ordered[-1]["date"]
    (ocid,) = ocids
    compiled |= {"id": f"{ocid}-{latest}", "date": latest, "tag": ["compiled"]}
    return {"ocid": ocid, "releases": list(ordered), "compiledRelease": compiled}


def _merge(earlier: Any, later: Any) -> Any:
    if isinstance(earlier, dict) and isinstance(later, dict):
        merged = dict(earlier)
        for key, value in later.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = _merge(earlier.get(key), value)
        return merged
    if _identified(earlier) and _identified(later):
        by_id = {item["id"]: item for item in earlier}
        for item in later:
            by_id[item["id"]] = _merge(by_id.get(item["id"]), item)
        return list(by_id.values())
    return copy.deepcopy(later)


def _identified(value: Any) -> bool:
    """An array of objects that all have an id: OCDS merges it by id."""
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(item, dict) and "id" in item for item in value)
    )


def dumps(value: Any) -> str:
    """Compact JSON text of a release, record or package, each Decimal as its exact number."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} is not a number JSON can write")
        return format(value, "f")
    if isinstance(value, dict):
        members = (f"{json.dumps(str(k), ensure_ascii=False)}:{dumps(v)}" for k, v in value.items())
        return "{" + ",".join(members) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(dumps(item) for item in value) + "]"
    return json.dumps(value, ensure_ascii=False)
