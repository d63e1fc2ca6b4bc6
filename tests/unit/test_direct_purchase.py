"""Direct purchase from the catalogue: under the threshold, the cheapest comparable offer or
a reason, the year's total watched for split purchases, and the supplier's answer."""

from decimal import Decimal

import pytest

from procurement.errors import NotAllowed, Rejected, WrongState
from procurement.procedures import catalogue, direct_purchase
from procurement.procedures.catalogue import Offer
from procurement.procedures.direct_purchase import Market, Purchase, PurchaseStatus
from schemas.catalogue import (
    AcceptPurchase,
    CatalogueOfferWithdrawn,
    DeclinePurchase,
    DirectPurchaseOrdered,
    PurchaseDirectly,
)
from tests.unit.catalogue_examples import NOW, OFFICER, TONER, offer, ron, supplier

OCID = "ocds-000000-2027-000042"
CHEAP = offer("a", "20.00")
DEAR = offer("b", "25.00")
MIDDLE = offer("c", "22.00")
TONER_OFFER = offer("d", "1.00", cpv=TONER)
MARKET = Market(
    offers=[CHEAP, DEAR, MIDDLE, TONER_OFFER], year_total=Decimal(0), threshold=ron("1000.00")
)


def buy(offer: Offer, quantity: str, market: Market = MARKET, reason: str | None = None) -> DirectPurchaseOrdered:  # fmt: skip
    command = PurchaseDirectly(
        offer_id=offer.offer_id, quantity=Decimal(quantity), reason_not_cheapest=reason
    )
    [ordered] = direct_purchase.decide(None, command, OFFICER, NOW, market, ocid=OCID)
    assert isinstance(ordered, DirectPurchaseOrdered)
    return ordered


def test_buying_the_cheapest_offer_records_the_price_and_the_median_reference() -> None:
    """The purchase holds the offer as it stood, quantity times price, and the median."""
    ordered = buy(CHEAP, "10")
    assert ordered.buyer_id == OFFICER.agency_id
    assert ordered.offer.supplier_id == "supplier-a"
    assert ordered.value == ron("200.00")
    assert ordered.cheapest_offer_id == CHEAP.offer_id
    assert ordered.reason_not_cheapest is None
    assert ordered.reference_unit_price == ron("22.00")  # the toner is not comparable
    assert not ordered.splitting_suspected


def test_a_dearer_offer_needs_a_reason_and_the_reason_is_recorded() -> None:
    """Without a reason it is refused and nothing is recorded; with one, both are kept."""
    with pytest.raises(Rejected) as refused:
        buy(DEAR, "10")
    assert refused.value.code == "reason_required"
    assert CHEAP.offer_id in refused.value.detail
    ordered = buy(DEAR, "10", reason="Delivered in one day, which the school needs")
    assert ordered.cheapest_offer_id == CHEAP.offer_id
    assert ordered.cheapest_unit_price == ron("20.00")
    assert ordered.reason_not_cheapest == "Delivered in one day, which the school needs"


def test_a_purchase_at_or_over_the_threshold_is_refused() -> None:
    """Direct purchase is only for values below the threshold, without VAT."""
    buy(CHEAP, "49.9995")  # 999.99
    for quantity in ("50", "60"):
        with pytest.raises(Rejected) as refused:
            buy(CHEAP, quantity)
        assert refused.value.code == "over_threshold"


def test_a_purchase_that_takes_the_years_total_to_the_threshold_is_flagged_as_split() -> None:
    """Each purchase is under the threshold, but the year's total is not: recorded, flagged."""
    earlier = Market(offers=MARKET.offers, year_total=Decimal(900), threshold=ron("1000.00"))
    ordered = buy(CHEAP, "5", earlier)  # 100.00: 1000.00 this year
    assert ordered.splitting_suspected
    assert ordered.year_total_before == Decimal(900)
    assert not buy(CHEAP, "4.95", earlier).splitting_suspected  # 999.00


def test_only_a_valid_offer_in_the_thresholds_currency_is_bought_by_an_officer() -> None:
    """A withdrawn offer, one in another currency, or a supplier buying, are refused."""
    withdrawn = catalogue.evolve(DEAR, CatalogueOfferWithdrawn(offer_id=DEAR.offer_id, reason="x"))
    with pytest.raises(WrongState):
        buy(withdrawn, "1", Market([withdrawn, CHEAP], Decimal(0), ron("1000")))
    euro = offer("e", "2.00", currency="EUR")
    with pytest.raises(Rejected) as refused:
        buy(euro, "1", Market([euro], Decimal(0), ron("1000")))
    assert refused.value.code == "currency_not_thresholded"
    command = PurchaseDirectly(offer_id=CHEAP.offer_id, quantity=Decimal(1))
    with pytest.raises(NotAllowed):
        direct_purchase.decide(None, command, supplier("a"), NOW, MARKET, ocid=OCID)


def ordered_purchase() -> Purchase:
    purchase = direct_purchase.replay([buy(CHEAP, "10")])
    assert purchase is not None
    return purchase


def test_the_supplier_accepts_and_the_purchase_is_concluded() -> None:
    """Acceptance concludes it; nothing more can be answered."""
    purchase = ordered_purchase()
    events = direct_purchase.decide(purchase, AcceptPurchase(ocid=OCID), supplier("a"), NOW)
    concluded = direct_purchase.evolve(purchase, events[0])
    assert concluded.status is PurchaseStatus.CONCLUDED
    with pytest.raises(WrongState):
        direct_purchase.decide(concluded, DeclinePurchase(ocid=OCID, reason="x"), supplier("a"), NOW)  # fmt: skip


def test_only_the_offers_supplier_answers_and_a_decline_keeps_its_reason() -> None:
    """Another supplier or the officer cannot accept for the supplier."""
    purchase = ordered_purchase()
    for someone in (supplier("b"), OFFICER):
        with pytest.raises(NotAllowed):
            direct_purchase.decide(purchase, AcceptPurchase(ocid=OCID), someone, NOW)
    decline = DeclinePurchase(ocid=OCID, reason="Out of stock")
    [declined] = direct_purchase.decide(purchase, decline, supplier("a"), NOW)
    assert direct_purchase.evolve(purchase, declined).status is PurchaseStatus.DECLINED


def test_an_answer_to_no_purchase_is_not_found() -> None:
    """Answering a purchase that was never ordered says so."""
    with pytest.raises(Rejected) as missing:
        direct_purchase.decide(None, AcceptPurchase(ocid=OCID), supplier("a"), NOW)
    assert missing.value.status == 404
