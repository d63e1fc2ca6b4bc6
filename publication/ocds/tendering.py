"""The tender of a release: its publication, amendments, closing and cancellation, and the
tender section with its lots and items.

``tender.value`` is the sum of the lots' estimates. The tender's own CPV codes have no core
field; each item carries its CPV code, and the main code decides ``mainProcurementCategory``
(division 45 works, 50 and above services, the rest goods).
"""

from typing import Any

from procurement import tender as tenders
from procurement.procedures import PROCEDURES
from publication.ocds.clarifying import clarifications_section
from publication.ocds.parties import reference
from publication.ocds.procedure import Handler, Procedure, release_id
from publication.ocds.standard import iso, value_of
from schemas.events import (
    Envelope,
    TenderCancelled,
    TenderDeadlineExtended,
    TenderDetailsAmended,
    TenderRequirementsAmended,
)
from schemas.values import AwardCriteria, Item, Lot, Requirements


def published(procedure: Procedure, envelope: Envelope) -> list[str]:
    procedure.tender = tenders.evolve(None, envelope.event)
    procedure.published_at = envelope.occurred_at
    return ["tender"]


def amended(procedure: Procedure, envelope: Envelope) -> list[str]:
    event = envelope.event
    assert isinstance(
        event, TenderDetailsAmended | TenderRequirementsAmended | TenderDeadlineExtended
    )
    procedure.tender = tenders.evolve(procedure.published, event)
    amendment = {
        "id": str(envelope.event_id),
        "date": iso(envelope.occurred_at),
        "rationale": event.reason,
        "description": _amendment_description(event),
        "releaseID": release_id(procedure, envelope),
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
    moved = f"The submission deadline moved from {iso(event.previous_deadline)} to {iso(event.submission_deadline)}"
    return moved + (
        ", as the rules require after a significant amendment." if event.required_by_rules else "."
    )


def tender_moved(tag: str) -> Handler:
    def handle(procedure: Procedure, envelope: Envelope) -> list[str]:
        procedure.tender = tenders.evolve(procedure.published, envelope.event)
        procedure.cancelled |= isinstance(envelope.event, TenderCancelled)
        return [tag]

    return handle


def tender_status(procedure: Procedure) -> str:
    """``cancelled`` when the procedure is; once every lot has ended (awarded, cancelled or
    unsuccessful), ``complete`` if any was awarded, ``unsuccessful`` if none was."""
    lots = {lot.id for lot in procedure.published.requirements.lots}
    if procedure.cancelled:
        return "cancelled"
    ended = procedure.cancelled_lots | procedure.unsuccessful_lots
    if lots <= ended:
        return "unsuccessful"
    if procedure.lot_awards and lots <= ended | set(procedure.lot_awards):
        return "complete"
    return "active"


def tender_section(procedure: Procedure) -> dict[str, Any]:
    tender = procedure.published
    requirements = tender.requirements
    assert procedure.published_at is not None
    published: dict[str, Any] = {
        "id": tender.tender_id,
        "title": tender.title,
        "description": tender.description,
        "status": tender_status(procedure),
        "items": [item_of(item, lot.id) for lot in requirements.lots for item in lot.items],
        "lots": [_lot_of(procedure, lot) for lot in requirements.lots],
        "value": value_of(requirements.estimated_value)
        | {"valueAddedTaxIncluded": requirements.value_added_tax_included},
        "procuringEntity": reference(procedure, tender.buyer_id),
        "procurementMethod": PROCEDURES[tender.procedure_type].method,
        "procurementMethodDetails": PROCEDURES[tender.procedure_type].method_details,
        "mainProcurementCategory": _category(requirements.cpv),
        "awardCriteria": str(requirements.award_criteria),
        "awardCriteriaDetails": award_criteria_details(
            requirements, PROCEDURES[tender.procedure_type].has_auction
        ),
        "submissionMethod": ["electronicSubmission"],
        "tenderPeriod": {
            "startDate": iso(procedure.published_at),
            "endDate": iso(tender.submission_deadline),
        },
    }
    published |= clarifications_section(procedure)
    if procedure.amendments:
        published["amendments"] = procedure.amendments
    if procedure.number_of_tenderers is not None:
        published["numberOfTenderers"] = procedure.number_of_tenderers
    if procedure.tenderers_public:
        published["tenderers"] = [reference(procedure, b) for b in procedure.bidders]
    return published


def _category(cpv: str) -> str:
    """The CPV's own split: division 45 is works, 50 and above services, the rest goods."""
    division = int(cpv[:2])
    if division == 45:
        return "works"
    return "services" if division >= 50 else "goods"


def award_criteria_details(requirements: Requirements, has_auction: bool) -> str:
    """The award rules exactly as ``procurement.evaluation.scoring`` applies them, with this
    tender's weights and share, so that anyone can recompute the ranking from them."""
    weight = requirements.price_weight
    parts = [f"price {weight} points"]
    parts += [f"{c.name} {c.weight} points" for c in requirements.quality_criteria]
    prices = (
        "the final prices of the lot's electronic auction (held when at least two bids are "
        "admissible; otherwise the total prices for the lot as opened)"
        if has_auction
        else "each bid's total price for the lot as opened"
    )
    share = f"{requirements.abnormally_low_share}%"
    rated = requirements.award_criteria is AwardCriteria.RATED_CRITERIA
    rules = [
        f"Score out of 100 points: {'; '.join(parts)} (weights and shares are in percent).",
        f"The price score = {weight} * lowest price / the bid's price, where the prices are "
        f"{prices} and the lowest is that of the bids in the ranking (admissible, and not "
        "removed as abnormally low).",
    ]
    if rated:
        rules.append(
            "The quality part = the sum over the criteria of weight * the average of the "
            "committee members' scores of the bid (0 to 100, each member's latest) / 100."
        )
    rules += [
        f"The price score{' and the quality part are each' if rated else ' is'} computed "
        "to 28 significant digits and rounded once, half up, to 0.0001 point; the total "
        f"is {'their sum' if rated else 'the price score'}, and the highest total wins.",
        _tie_break(has_auction),
        f"A price is abnormally low when it is below {share} of the average price of the "
        f"other bids in the ranking, or below {share} of the lot's estimated value (either "
        "one suffices; each threshold is rounded half up to the cent); this is checked once, "
        "when the prices are final. Such a bid can win only once its justification is "
        "accepted, and leaves the ranking when it is rejected.",
    ]
    return " ".join(rules)


def _tie_break(has_auction: bool) -> str:
    received = (
        "the bid received first (the receipt's received_at, then the bid id in code point order)"
    )
    if not has_auction:
        return f"Equal totals go to {received}."
    return (
        "Equal totals go to the price reached first: a price lowered in the auction by the "
        "sequence of the accepted auction prices, earlier first; prices as opened count as "
        f"reached before any auction price, and among them to {received}."
    )


def item_of(item: Item, lot_id: str) -> dict[str, Any]:
    return {
        "id": item.id,
        "description": item.description,
        "classification": {"scheme": "CPV", "id": item.cpv},
        "quantity": item.quantity,
        "unit": {"name": item.unit},
        "relatedLot": lot_id,
    }


def _lot_of(procedure: Procedure, lot: Lot) -> dict[str, Any]:
    published: dict[str, Any] = {"id": lot.id, "title": lot.title}
    if lot.description:
        published["description"] = lot.description
    vat = {"valueAddedTaxIncluded": procedure.published.requirements.value_added_tax_included}
    return published | {
        "status": _lot_status(procedure, lot.id),
        "value": value_of(lot.value) | vat,
    }


def _lot_status(procedure: Procedure, lot_id: str) -> str:
    if procedure.cancelled or lot_id in procedure.cancelled_lots:
        return "cancelled"
    if lot_id in procedure.unsuccessful_lots:
        return "unsuccessful"
    return "complete" if lot_id in procedure.lot_awards else "active"
