"""Catalogue offers, purchases and quotations for the unit tests, made through the domain."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from bidding import keys, quotes
from procurement.procedures import catalogue, direct_purchase, price_quotation
from procurement.procedures.catalogue import Offer
from procurement.procedures.direct_purchase import Market
from procurement.procedures.price_quotation import Band
from publication.ocds import PartyInfo
from schemas.base import Event
from schemas.catalogue import (
    AcceptPurchase,
    DeclinePurchase,
    OfferTerms,
    OpenQuotes,
    PublishOffer,
    PurchaseDirectly,
    Quote,
    RequestQuotes,
    SubmitQuote,
    UpdateOffer,
    WithdrawOffer,
)
from schemas.commands import Actor, Role
from schemas.values import Value

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
PAPER = "30197630-1"
TONER = "30125100-2"
PURCHASE = "ocds-000000-2027-000042"
QUOTATION = "ocds-000000-2027-000077"
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


def catalogue_events() -> list[Event]:
    """One event of each catalogue type, made by the rules themselves."""
    paper, dear = offer("a", "20.00"), offer("b", "25.00")
    update = UpdateOffer(offer_id=paper.offer_id, terms=terms("19.00"))
    withdraw = WithdrawOffer(offer_id=dear.offer_id, reason="Out of stock")
    market = Market(offers=[paper, dear], year_total=Decimal(0), threshold=ron("1000.00"))
    buy = PurchaseDirectly(
        offer_id=dear.offer_id, quantity=Decimal(2), reason_not_cheapest="Faster"
    )
    [ordered] = direct_purchase.decide(None, buy, OFFICER, NOW, market, ocid=PURCHASE)
    purchase = direct_purchase.replay([ordered])
    key = X25519PrivateKey.generate()
    band = Band([paper, dear], ron("10.00"), ron("1000.00"), timedelta(0))
    ask = RequestQuotes(
        title="Paper for the schools", cpv=PAPER, quantity=Decimal(5), unit="ream",
        currency="RON", deadline=NOW + timedelta(days=2), opening_key=keys.raw_public(key),
    )  # fmt: skip
    [requested] = price_quotation.request(ask, OFFICER, NOW, band, ocid=QUOTATION)
    quotation = price_quotation.replay([requested])
    assert quotation is not None
    quote = Quote(ocid=QUOTATION, supplier_id="supplier-a", unit_price=ron("18.00"))
    sealed = quotes.seal_quote(quote, keys.raw_public(key))
    [submitted] = price_quotation.submit(quotation, SubmitQuote(ocid=QUOTATION, sealed=sealed), supplier("a"), NOW)  # fmt: skip
    quotation = price_quotation.evolve(quotation, submitted)
    opening_key = key.private_bytes_raw()
    opened = [quotes.open_quote(QUOTATION, "supplier-a", sealed, key, "RON")]
    [quotes_opened] = price_quotation.open_quotes(
        quotation, OpenQuotes(ocid=QUOTATION, opening_key=opening_key), OFFICER,
        NOW + timedelta(days=2), key_matches=True, opened=opened,
    )  # fmt: skip
    return [
        *catalogue.decide(paper, update, supplier("a"), NOW),
        *catalogue.decide(dear, withdraw, supplier("b"), NOW),
        ordered,
        *direct_purchase.decide(purchase, AcceptPurchase(ocid=PURCHASE), supplier("b"), NOW),
        *direct_purchase.decide(
            purchase, DeclinePurchase(ocid=PURCHASE, reason="No stock"), supplier("b"), NOW
        ),
        requested,
        submitted,
        quotes_opened,
        *catalogue.decide(
            None, PublishOffer(terms=terms("3.00")), supplier("c"), NOW, offer_id="offer-c"
        ),
    ]


# The parties the examples name, as the releases see them.
PARTIES_OF_EXAMPLES = {
    OFFICER.agency_id or "": PartyInfo("agency-cluj", "Primăria Cluj-Napoca", "4305857", "RO-CUI"),
    **{
        f"supplier-{n}": PartyInfo(f"supplier-{n}", f"Furnizor {n} SRL", f"1000{i}", "RO-CUI", True)
        for i, n in enumerate("abc")
    },
}
