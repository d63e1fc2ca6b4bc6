"""The electronic catalogue and the procedures that buy from it, on the wire.

Suppliers publish catalogue offers (one aggregate each, id ``offer-…``); an officer buys
from one directly under the direct-purchase threshold (``DirectPurchase…``, aggregate id
the purchase's ocid), or asks catalogue suppliers for sealed quotes between that threshold
and the open procedure's (``PriceQuotation…``, aggregate id the quotation's ocid). The
rules are in ``procurement.procedures``.
"""

from datetime import date
from decimal import Decimal
from typing import Annotated, ClassVar, Literal

from pydantic import AwareDatetime, Field

from schemas.base import Event, Message, concrete_events
from schemas.bids import Base64, Ciphertext, PublicKey, base64_of
from schemas.commands import Command
from schemas.text import OneLine
from schemas.values import CpvCode, Currency, Identifier, Text, Title, Value

Quantity = Annotated[Decimal, Field(gt=0, max_digits=18, decimal_places=4, allow_inf_nan=False)]
VatRate = Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2)]
Unit = Annotated[str, Field(min_length=1, max_length=50), OneLine]
Area = Annotated[str, Field(min_length=2, max_length=200), OneLine]
Reason = Text
Amount = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=2, allow_inf_nan=False)]
# The quotation key's private half, raw X25519, handed in after the deadline.
OpeningKey = Annotated[Base64, Field(min_length=32, max_length=32), base64_of(32)]
Suppliers = Annotated[tuple[Identifier, ...], Field(max_length=200)]


class OfferTerms(Message):
    """What a catalogue offer sells and on which terms; the unit price is without VAT."""

    description: Title
    cpv: CpvCode
    unit: Unit
    unit_price: Value
    vat_rate: VatRate
    delivery_area: Area  # e.g. "RO-CJ" or "Romania"
    delivery_days: Annotated[int, Field(ge=0, le=365)]
    valid_until: date  # the offer holds through this day (UTC)


# Commands


class PublishOffer(Command):
    terms: OfferTerms


class UpdateOffer(Command):
    offer_id: Identifier
    terms: OfferTerms


class WithdrawOffer(Command):
    offer_id: Identifier
    reason: Reason


class PurchaseDirectly(Command):
    offer_id: Identifier
    quantity: Quantity
    # Required when a cheaper comparable offer (same CPV and currency, still valid) exists.
    reason_not_cheapest: Reason | None = None


class AcceptPurchase(Command):
    ocid: Identifier


class DeclinePurchase(Command):
    ocid: Identifier
    reason: Reason


class RequestQuotes(Command):
    title: Title
    cpv: CpvCode
    quantity: Quantity
    unit: Unit
    currency: Currency
    deadline: AwareDatetime
    opening_key: PublicKey  # raw X25519: quotes are sealed to it; the officer keeps the private key
    suppliers: Suppliers = ()  # empty: every supplier offering the CPV is asked


class SubmitQuote(Command):
    ocid: Identifier
    sealed: Ciphertext  # procurement.procedures.price_quotation.seal_quote


class OpenQuotes(Command):
    ocid: Identifier
    opening_key: OpeningKey


class Quote(Message):
    """What a supplier quotes, sealed on its own machine until the opening."""

    ocid: Identifier
    supplier_id: Identifier
    unit_price: Value


# Events: one topic, keyed by the offer id or the procedure's ocid.


class CatalogueEvent(Event):
    """Catalogue offers, direct purchases and price quotations."""

    topic: ClassVar[str] = "procurement.catalogue"


class CatalogueOfferPublished(CatalogueEvent):
    public: ClassVar[bool] = True
    type: Literal["CatalogueOfferPublished"] = "CatalogueOfferPublished"
    offer_id: Identifier
    supplier_id: Identifier
    terms: OfferTerms


class CatalogueOfferUpdated(CatalogueEvent):
    public: ClassVar[bool] = True
    type: Literal["CatalogueOfferUpdated"] = "CatalogueOfferUpdated"
    offer_id: Identifier
    terms: OfferTerms


class CatalogueOfferWithdrawn(CatalogueEvent):
    public: ClassVar[bool] = True
    type: Literal["CatalogueOfferWithdrawn"] = "CatalogueOfferWithdrawn"
    offer_id: Identifier
    reason: Reason


class OfferBought(Message):
    """The offer as it stood when it was bought: the purchase replays without the catalogue."""

    offer_id: Identifier
    supplier_id: Identifier
    terms: OfferTerms


class DirectPurchaseOrdered(CatalogueEvent):
    public: ClassVar[bool] = True
    type: Literal["DirectPurchaseOrdered"] = "DirectPurchaseOrdered"
    ocid: Identifier
    buyer_id: Identifier
    offer: OfferBought
    quantity: Quantity
    value: Value  # unit price times quantity, without VAT
    cheapest_offer_id: Identifier  # the cheapest comparable offer at the time (may be this one)
    cheapest_unit_price: Value
    reason_not_cheapest: Reason | None
    reference_unit_price: Value  # the median comparable catalogue price at the time
    # The buyer's purchases of this CPV code this year, before this one, in the threshold's currency.
    year_total_before: Amount
    threshold: Value
    splitting_suspected: bool  # the year's total passes the threshold with this purchase


class DirectPurchaseAccepted(CatalogueEvent):
    """The supplier accepted: the purchase is concluded."""

    public: ClassVar[bool] = True
    type: Literal["DirectPurchaseAccepted"] = "DirectPurchaseAccepted"
    ocid: Identifier
    supplier_id: Identifier


class DirectPurchaseDeclined(CatalogueEvent):
    public: ClassVar[bool] = True
    type: Literal["DirectPurchaseDeclined"] = "DirectPurchaseDeclined"
    ocid: Identifier
    supplier_id: Identifier
    reason: Reason


class QuotesRequested(CatalogueEvent):
    public: ClassVar[bool] = True
    type: Literal["QuotesRequested"] = "QuotesRequested"
    ocid: Identifier
    buyer_id: Identifier
    title: Title
    cpv: CpvCode
    quantity: Quantity
    unit: Unit
    currency: Currency
    deadline: AwareDatetime
    opening_key: PublicKey
    invited: Annotated[tuple[Identifier, ...], Field(min_length=1, max_length=200)]
    reference_unit_price: Value  # the median comparable catalogue price at the time


class QuoteSubmitted(CatalogueEvent):
    public: ClassVar[bool] = False
    type: Literal["QuoteSubmitted"] = "QuoteSubmitted"
    supplier_id: Identifier
    sealed: Ciphertext  # a later one replaces an earlier one


class QuoteOpened(Message):
    supplier_id: Identifier
    unit_price: Value | None  # None: it did not open as a quote for this place
    reason: Annotated[str, Field(max_length=500), OneLine] | None = None


class QuotesOpened(CatalogueEvent):
    """After the deadline, every quote at once; the lowest wins, ties to the earliest sent."""

    public: ClassVar[bool] = True
    type: Literal["QuotesOpened"] = "QuotesOpened"
    opening_key: OpeningKey  # published, so anyone can open the quotes again
    quotes: Annotated[tuple[QuoteOpened, ...], Field(max_length=200)]
    winner_id: Identifier | None  # None: no valid quote
    value: Value | None  # the winner's unit price times the quantity


CATALOGUE_EVENTS = concrete_events(CatalogueEvent)
AnyCatalogueCommand = (
    PublishOffer
    | UpdateOffer
    | WithdrawOffer
    | PurchaseDirectly
    | AcceptPurchase
    | DeclinePurchase
    | RequestQuotes
    | SubmitQuote
    | OpenQuotes
)
