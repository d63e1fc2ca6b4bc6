"""Catalogue offers, purchases and quotations for the unit tests, made through the domain."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from procurement.procedures import catalogue
from procurement.procedures.catalogue import Offer
from schemas.catalogue import OfferTerms, PublishOffer
from schemas.commands import Actor, Role
from schemas.values import Value

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
PAPER = "30197630-1"
TONER = "30125100-2"
OFFICER = Actor(id="officer-ana", role=Role.OFFICER, agency_id="agency-cluj")
OTHER_OFFICER = Actor(id="officer-ion", role=Role.OFFICER, agency_id="agency-iasi")


def supplier(name: str) -> Actor:
    return Actor(id=f"supplier-{name}", role=Role.SUPPLIER)


def ron(amount: str) -> Value:
    return Value(amount=Decimal(amount), currency="RON")


def terms(
    price: str,
    *,
    cpv: str = PAPER,
    currency: str = "RON",
    valid_until: date | None = None,
    description: str = "A4 paper, 80 g/m², 500 sheets",
) -> OfferTerms:
    return OfferTerms(
        description=description,
        cpv=cpv,
        unit="ream",
        unit_price=Value(amount=Decimal(price), currency=currency),
        vat_rate=Decimal(19),
        delivery_area="RO-CJ",
        delivery_days=3,
        valid_until=valid_until or (NOW + timedelta(days=90)).date(),
    )


def offer(name: str, price: str, **kwargs: object) -> Offer:
    """A supplier's offer, published through the domain at ``NOW``."""
    offer_id = f"offer-{name}-{price}"
    command = PublishOffer(terms=terms(price, **kwargs))  # type: ignore[arg-type]
    events = catalogue.decide(None, command, supplier(name), NOW, offer_id=offer_id)
    published = catalogue.replay(events)
    assert published is not None
    return published
