"""The public view of a tender, built from its events with no I/O."""

import uuid
from decimal import Decimal

from readmodels.projections import tender_document
from schemas.events import Envelope, Event, TenderPublished, envelope
from schemas.values import Item, Lot, Requirements, Value
from tests.unit.examples import BUYER, DEADLINE, EXAMPLE_EVENTS, NOW, OCID


def wrap(event: Event, sequence: int) -> Envelope:
    return envelope(
        event,
        event_id=uuid.uuid4(),
        aggregate_id=OCID,
        sequence=sequence,
        actor="officer-ana",
        occurred_at=NOW,
    )


def lot(lot_id: str, amount: str) -> Lot:
    item = Item(
        id=f"{lot_id}-i", description="Toner", cpv="30125100-2", quantity=Decimal(1), unit="piece"
    )
    return Lot(
        id=lot_id,
        title=f"Lot {lot_id}",
        value=Value(amount=Decimal(amount), currency="RON"),
        items=[item],
    )


def test_the_estimated_value_is_summed_exactly() -> None:
    """Lot values add up to the cent, however large: money is never a float."""
    requirements = Requirements(
        cpv="30125100-2", lots=[lot("a", "1234567890123456.78"), lot("b", "0.01")]
    )
    published = TenderPublished(
        tender_id="t-1",
        ocid=OCID,
        buyer_id=BUYER,
        title="Toner for 2030",
        description="Toner cartridges.",
        procedure_type="open",
        requirements=requirements,
        submission_deadline=DEADLINE,
    )
    document = tender_document(None, wrap(published, 1))
    assert document["estimated_value"] == {"amount": "1234567890123456.79", "currency": "RON"}


def test_amendments_and_cancellation_are_recorded_in_order() -> None:
    """Each amendment is listed with its reason; a cancellation sets the status and reason."""
    names = [
        "TenderPublished",
        "TenderDetailsAmended",
        "TenderRequirementsAmended",
        "TenderCancelled",
    ]
    document = None
    for sequence, name in enumerate(names, start=1):
        document = tender_document(document, wrap(EXAMPLE_EVENTS[name], sequence))
    assert document is not None
    assert [a["reason"] for a in document["amendments"]] == ["Typo", "Larger budget"]
    assert document["estimated_value"]["amount"] == "1500.00"
    assert document["status"] == "cancelled"
    assert document["cancellation"]["reason"] == "The budget was withdrawn"
