"""The electronic catalogue: suppliers' standing offers, as pure functions.

One aggregate per offer. A supplier publishes, updates (every change is an event) and
withdraws its own offers; officers buy from them by direct purchase and ask their
suppliers for quotes. What counts as comparable, the cheapest and the median price (the
reference the savings are measured against) are decided here too.
"""

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from statistics import median

from procurement.errors import NotAllowed, NotFound, Rejected, WrongState
from schemas.base import Event
from schemas.catalogue import (
    CatalogueOfferPublished,
    CatalogueOfferUpdated,
    CatalogueOfferWithdrawn,
    OfferTerms,
    PublishOffer,
    UpdateOffer,
    WithdrawOffer,
)
from schemas.commands import Actor, Role
from schemas.values import CENT, Value


class OfferStatus(StrEnum):
    ACTIVE = "active"
    WITHDRAWN = "withdrawn"


LIFECYCLE: dict[tuple[OfferStatus | None, str], OfferStatus] = {
    (None, "CatalogueOfferPublished"): OfferStatus.ACTIVE,
    (OfferStatus.ACTIVE, "CatalogueOfferUpdated"): OfferStatus.ACTIVE,
    (OfferStatus.ACTIVE, "CatalogueOfferWithdrawn"): OfferStatus.WITHDRAWN,
}


@dataclass(frozen=True)
class Offer:
    offer_id: str
    supplier_id: str
    terms: OfferTerms
    status: OfferStatus
    version: int

    def valid_at(self, now: datetime) -> bool:
        """Active, and its validity runs through today (UTC)."""
        return self.status is OfferStatus.ACTIVE and now.date() <= self.terms.valid_until

    def comparable_to(self, cpv: str, currency: str, now: datetime) -> bool:
        """Same CPV code, same currency, still valid: what a purchase is compared against."""
        terms = self.terms
        return terms.cpv == cpv and terms.unit_price.currency == currency and self.valid_at(now)


# Rules


def supplier_must_act_for_itself(actor: Actor) -> str:
    if actor.role is not Role.SUPPLIER:
        raise NotAllowed(f"only a supplier publishes catalogue offers; {actor.id} is {actor.role}")
    return actor.id


def offer_must_be_the_suppliers(offer: Offer, actor: Actor) -> None:
    if actor.role is not Role.SUPPLIER or actor.id != offer.supplier_id:
        raise NotAllowed(f"offer {offer.offer_id} is {offer.supplier_id}'s, not {actor.id}'s")


def validity_must_not_be_over(terms: OfferTerms, now: datetime) -> None:
    if terms.valid_until < now.date():
        msg = f"an offer valid until {terms.valid_until} has already expired (today {now.date()})"
        raise Rejected(msg, code="offer_expired")


def offer_must_be_active(offer: Offer) -> None:
    if offer.status is not OfferStatus.ACTIVE:
        raise WrongState(f"offer {offer.offer_id} is {offer.status}", code="offer_withdrawn")


def offer_must_exist(offer: Offer | None, offer_id: str) -> Offer:
    if offer is None:
        raise NotFound(f"there is no catalogue offer {offer_id}")
    return offer


# Decisions


def decide(
    offer: Offer | None,
    command: PublishOffer | UpdateOffer | WithdrawOffer,
    actor: Actor,
    now: datetime,
    *,
    offer_id: str = "",
) -> list[Event]:
    if isinstance(command, PublishOffer):
        supplier_id = supplier_must_act_for_itself(actor)
        validity_must_not_be_over(command.terms, now)
        return [
            CatalogueOfferPublished(offer_id=offer_id, supplier_id=supplier_id, terms=command.terms)
        ]
    existing = offer_must_exist(offer, command.offer_id)
    offer_must_be_the_suppliers(existing, actor)
    offer_must_be_active(existing)
    if isinstance(command, UpdateOffer):
        validity_must_not_be_over(command.terms, now)
        if command.terms == existing.terms:
            raise Rejected(f"the update to {existing.offer_id} changes nothing", code="no_change")
        return [CatalogueOfferUpdated(offer_id=existing.offer_id, terms=command.terms)]
    return [CatalogueOfferWithdrawn(offer_id=existing.offer_id, reason=command.reason)]


# Evolution


def evolve(offer: Offer | None, event: Event) -> Offer:
    status = offer.status if offer else None
    after = LIFECYCLE.get((status, getattr(event, "type", "")))
    if after is None:
        msg = f"{type(event).__name__} cannot happen to an offer that is {status or 'unpublished'}"
        raise ValueError(msg)
    if isinstance(event, CatalogueOfferPublished):
        return Offer(event.offer_id, event.supplier_id, event.terms, after, 1)
    assert offer is not None
    offer = replace(offer, status=after, version=offer.version + 1)
    if isinstance(event, CatalogueOfferUpdated):
        return replace(offer, terms=event.terms)
    return offer


def replay(events: Iterable[Event]) -> Offer | None:
    offer: Offer | None = None
    for event in events:
        offer = evolve(offer, event)
    return offer


# What purchases compare against


def comparable(offers: Iterable[Offer], cpv: str, currency: str, now: datetime) -> list[Offer]:
    """The valid offers of this CPV code in this currency, cheapest first, then oldest id."""
    found = [offer for offer in offers if offer.comparable_to(cpv, currency, now)]
    return sorted(found, key=lambda offer: (offer.terms.unit_price.amount, offer.offer_id))


def median_unit_price(offers: Iterable[Offer], currency: str) -> Value:
    """The median unit price of these offers, to the cent (half up): the reference price."""
    prices = [offer.terms.unit_price.amount for offer in offers]
    if not prices:
        raise Rejected("no valid catalogue offer to price against", code="no_comparable_offer")
    middle = Decimal(median(prices)).quantize(CENT, rounding=ROUND_HALF_UP)
    return Value(amount=middle, currency=currency)


def total(unit_price: Value, quantity: Decimal) -> Value:
    """Unit price times quantity, to the cent (half up)."""
    amount = (unit_price.amount * quantity).quantize(CENT, rounding=ROUND_HALF_UP)
    if amount <= 0:
        raise Rejected(f"{quantity} at {unit_price.amount} is less than a cent", code="too_small")
    return Value(amount=amount, currency=unit_price.currency)
