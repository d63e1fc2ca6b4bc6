"""Direct purchase from the electronic catalogue (Law 98/2016, Article 7(5); SEAP's
"cumpărare directă"), as pure functions.

Under the direct-purchase threshold, an officer buys a quantity from one catalogue offer.
The purchase records the offer as it stood, the price, the cheapest comparable offer and
the median comparable price (the reference for savings). Taking an offer other than the
cheapest needs a reason. A purchase at or above the threshold is refused; one that brings
the buyer's purchases of the CPV code this year to the threshold is recorded but flagged,
as a contract split to stay under it would be. The supplier then accepts (the purchase is
concluded: it is its own contract) or declines with a reason.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from procurement.errors import NotAllowed, NotFound, Rejected, WrongState
from procurement.procedures import catalogue
from procurement.procedures.catalogue import Offer
from procurement.procedures.registry import Engine, Procedure, ValueBand
from schemas.base import Event
from schemas.catalogue import (
    AcceptPurchase,
    DeclinePurchase,
    DirectPurchaseAccepted,
    DirectPurchaseDeclined,
    DirectPurchaseOrdered,
    OfferBought,
    PurchaseDirectly,
)
from schemas.commands import Actor, Role
from schemas.values import Value

PROCEDURE = Procedure(
    method="limited",
    method_details="Direct purchase from the electronic catalogue",
    engine=Engine.CATALOGUE,
    value_band=ValueBand.BELOW_DIRECT_PURCHASE,
)


def purchase_id(ocid: str) -> str:
    """The purchase's aggregate: apart from a tender's, which routes by ocid would replay."""
    return f"{ocid}:purchase"


class PurchaseStatus(StrEnum):
    AWAITING_SUPPLIER = "awaiting_supplier"
    CONCLUDED = "concluded"  # the supplier accepted: the purchase is the contract
    DECLINED = "declined"


LIFECYCLE: dict[tuple[PurchaseStatus | None, str], PurchaseStatus] = {
    (None, "DirectPurchaseOrdered"): PurchaseStatus.AWAITING_SUPPLIER,
    (PurchaseStatus.AWAITING_SUPPLIER, "DirectPurchaseAccepted"): PurchaseStatus.CONCLUDED,
    (PurchaseStatus.AWAITING_SUPPLIER, "DirectPurchaseDeclined"): PurchaseStatus.DECLINED,
}


@dataclass(frozen=True)
class Purchase:
    ordered: DirectPurchaseOrdered
    status: PurchaseStatus
    version: int

    @property
    def supplier_id(self) -> str:
        return self.ordered.offer.supplier_id


@dataclass(frozen=True)
class Market:
    """What the catalogue and the buyer's earlier purchases say when the officer buys."""

    offers: Sequence[Offer]  # every offer of the CPV code, the one bought among them
    year_total: Decimal  # the buyer's purchases of the CPV code this year, not declined
    threshold: Value  # the direct-purchase limit for this buyer and CPV code


# Rules


def officer_must_buy_for_an_agency(actor: Actor) -> str:
    if actor.role is not Role.OFFICER or actor.agency_id is None:
        raise NotAllowed(f"only a procurement officer buys directly; {actor.id} is {actor.role}")
    return actor.agency_id


def offer_must_be_valid(offer: Offer | None, offer_id: str, now: datetime) -> Offer:
    found = catalogue.offer_must_exist(offer, offer_id)
    if not found.valid_at(now):
        msg = f"offer {offer_id} is {found.status}, valid until {found.terms.valid_until}"
        raise WrongState(f"{msg}: it cannot be bought", code="offer_not_valid")
    return found


def purchase_must_stay_under_the_threshold(value: Value, threshold: Value) -> None:
    if value.currency != threshold.currency:
        msg = (
            f"the direct-purchase threshold is in {threshold.currency}; an offer priced in "
            f"{value.currency} cannot be bought directly"
        )
        raise Rejected(msg, code="currency_not_thresholded")
    if value.amount >= threshold.amount:
        msg = (
            f"{value.amount} {value.currency} without VAT is not below the direct-purchase "
            f"threshold of {threshold.amount} {threshold.currency}: use a price quotation or "
            "an open procedure"
        )
        raise Rejected(msg, code="over_threshold")


def another_offer_needs_a_reason(offer: Offer, cheapest: Offer, reason: str | None) -> None:
    cheaper = cheapest.terms.unit_price.amount < offer.terms.unit_price.amount
    if cheaper and not reason:
        msg = (
            f"offer {cheapest.offer_id} is cheaper ({cheapest.terms.unit_price.amount} against "
            f"{offer.terms.unit_price.amount} per {offer.terms.unit}): say why it was not taken"
        )
        raise Rejected(msg, code="reason_required")


def supplier_must_answer_its_own_purchase(purchase: Purchase, actor: Actor) -> None:
    if actor.role is not Role.SUPPLIER or actor.id != purchase.supplier_id:
        raise NotAllowed(f"only {purchase.supplier_id} answers purchase {purchase.ordered.ocid}")


def purchase_must_await_the_supplier(purchase: Purchase) -> None:
    if purchase.status is not PurchaseStatus.AWAITING_SUPPLIER:
        msg = f"purchase {purchase.ordered.ocid} is already {purchase.status}"
        raise WrongState(msg)


# Decisions


def order(
    command: PurchaseDirectly, actor: Actor, now: datetime, market: Market, *, ocid: str
) -> list[Event]:
    buyer_id = officer_must_buy_for_an_agency(actor)
    by_id = {offer.offer_id: offer for offer in market.offers}
    offer = offer_must_be_valid(by_id.get(command.offer_id), command.offer_id, now)
    terms = offer.terms
    value = catalogue.total(terms.unit_price, command.quantity)
    purchase_must_stay_under_the_threshold(value, market.threshold)
    comparable = catalogue.comparable(market.offers, terms.cpv, value.currency, now)
    cheapest = comparable[0]  # the offer itself is comparable, so there is one
    another_offer_needs_a_reason(offer, cheapest, command.reason_not_cheapest)
    year_total = market.year_total + value.amount
    return [
        DirectPurchaseOrdered(
            ocid=ocid,
            buyer_id=buyer_id,
            offer=OfferBought(offer_id=offer.offer_id, supplier_id=offer.supplier_id, terms=terms),
            quantity=command.quantity,
            value=value,
            cheapest_offer_id=cheapest.offer_id,
            cheapest_unit_price=cheapest.terms.unit_price,
            reason_not_cheapest=command.reason_not_cheapest if cheapest is not offer else None,
            reference_unit_price=catalogue.median_unit_price(comparable, value.currency),
            year_total_before=market.year_total,
            threshold=market.threshold,
            splitting_suspected=year_total >= market.threshold.amount,
        )
    ]


def answer(
    purchase: Purchase | None, command: AcceptPurchase | DeclinePurchase, actor: Actor
) -> list[Event]:
    if purchase is None:
        raise NotFound(f"there is no direct purchase {command.ocid}")
    supplier_must_answer_its_own_purchase(purchase, actor)
    purchase_must_await_the_supplier(purchase)
    if isinstance(command, AcceptPurchase):
        return [DirectPurchaseAccepted(ocid=command.ocid, supplier_id=actor.id)]
    return [DirectPurchaseDeclined(ocid=command.ocid, supplier_id=actor.id, reason=command.reason)]


def decide(
    purchase: Purchase | None,
    command: PurchaseDirectly | AcceptPurchase | DeclinePurchase,
    actor: Actor,
    now: datetime,
    market: Market | None = None,
    *,
    ocid: str = "",
) -> list[Event]:
    if isinstance(command, PurchaseDirectly):
        assert market is not None, "a purchase is decided against the catalogue"
        return order(command, actor, now, market, ocid=ocid)
    return answer(purchase, command, actor)


# Evolution


def evolve(purchase: Purchase | None, event: Event) -> Purchase:
    status = purchase.status if purchase else None
    after = LIFECYCLE.get((status, getattr(event, "type", "")))
    if after is None:
        msg = f"{type(event).__name__} cannot happen to a purchase that is {status or 'unordered'}"
        raise ValueError(msg)
    if isinstance(event, DirectPurchaseOrdered):
        return Purchase(ordered=event, status=after, version=1)
    assert purchase is not None
    return replace(purchase, status=after, version=purchase.version + 1)


def replay(events: Iterable[Event]) -> Purchase | None:
    purchase: Purchase | None = None
    for event in events:
        purchase = evolve(purchase, event)
    return purchase
