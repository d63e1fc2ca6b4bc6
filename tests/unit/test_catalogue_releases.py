"""Direct purchases and price quotations as OCDS releases: each public step a release, the
procurementMethod from the registry, and valid OCDS alone and as a record."""

from datetime import timedelta
from typing import Any
from uuid import uuid4

from publication import catalogue_releases, ocds
from schemas.base import Event
from schemas.catalogue import (
    DirectPurchaseAccepted,
    DirectPurchaseDeclined,
    DirectPurchaseOrdered,
    QuotesOpened,
    QuotesRequested,
    QuoteSubmitted,
)
from schemas.events import Envelope, envelope
from tests.ocds_validation import assert_valid
from tests.unit.catalogue_examples import NOW, PARTIES_OF_EXAMPLES, catalogue_events


def history(events: list[Event]) -> list[Envelope]:
    return [
        envelope(
            event,
            event_id=uuid4(),
            aggregate_id=getattr(events[0], "ocid", "x"),
            sequence=number,
            actor="officer-ana",
            occurred_at=NOW + timedelta(minutes=number),
        )
        for number, event in enumerate(events, start=1)
    ]


def of(kind: type[Event]) -> Any:
    return next(e for e in catalogue_events() if isinstance(e, kind))


def package(written: list[ocds.Release]) -> tuple[dict[str, Any], dict[str, Any]]:
    uri, when = "https://achizitii.example.ro/ocds/x.json", NOW + timedelta(days=1)
    publisher, extensions_at = "Achiziții Publice", "https://achizitii.example.ro/ocds/extensions/"
    return (
        ocds.release_package(
            written, uri=uri, published_date=when, publisher=publisher, extensions_at=extensions_at
        ),
        ocds.record_package(
            [ocds.compile_record(written)],
            uri=uri,
            published_date=when,
            publisher=publisher,
            extensions_at=extensions_at,
        ),
    )


def test_an_accepted_direct_purchase_is_a_limited_award_and_an_active_contract() -> None:
    """Ordered: tender and pending award; accepted: the award active and its contract."""
    ordered = of(DirectPurchaseOrdered)
    written = catalogue_releases.releases(
        history([ordered, of(DirectPurchaseAccepted)]), PARTIES_OF_EXAMPLES
    )
    assert [r["tag"] for r in written] == [["tender", "award"], ["awardUpdate", "contract"]]
    first, last = written
    assert first["tender"]["procurementMethod"] == "limited"
    assert first["tender"]["procurementMethodDetails"] == (
        "Direct purchase from the electronic catalogue"
    )
    assert first["tender"]["procurementMethodRationale"] == ordered.reason_not_cheapest
    assert first["awards"][0]["status"] == "pending"
    assert last["awards"][0]["status"] == "active"
    assert last["contracts"][0]["status"] == "active"
    for made in package(written):
        assert_valid(made)


def test_a_declined_direct_purchase_cancels_its_award() -> None:
    """The supplier's refusal leaves an unsuccessful tender and a cancelled award."""
    written = catalogue_releases.releases(
        history([of(DirectPurchaseOrdered), of(DirectPurchaseDeclined)]), PARTIES_OF_EXAMPLES
    )
    assert written[-1]["tender"]["status"] == "unsuccessful"
    assert written[-1]["awards"][0]["status"] == "cancelled"
    assert_valid(package(written)[0])


def test_a_price_quotation_is_selective_and_its_quotes_are_public_only_at_the_opening() -> None:
    """Asked: the tender; a sealed quote writes nothing; opened: every quote and the award."""
    events = [of(QuotesRequested), of(QuoteSubmitted), of(QuotesOpened)]
    written = catalogue_releases.releases(history(events), PARTIES_OF_EXAMPLES)
    assert [r["tag"] for r in written] == [["tender"], ["tenderUpdate", "award"]]
    asked, opened = written
    assert asked["tender"]["procurementMethod"] == "selective"
    assert "bids" not in asked
    assert [b["status"] for b in opened["bids"]["details"]] == ["valid"]
    assert opened["awards"][0]["suppliers"][0]["id"] == "supplier-a"
    for made in package(written):
        assert_valid(made)
