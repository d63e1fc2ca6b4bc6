"""Price quotation: at least three catalogue suppliers asked (or all when fewer), in the
value band, quotes sealed until the deadline, opened together, the lowest wins."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from bidding import keys, quotes
from procurement.errors import NotAllowed, Rejected, WrongState
from procurement.procedures import price_quotation
from procurement.procedures.price_quotation import Band, Quotation, QuotationStatus
from schemas.catalogue import (
    OpenQuotes,
    Quote,
    QuotesOpened,
    QuotesRequested,
    RequestQuotes,
    SubmitQuote,
)
from schemas.commands import Actor
from tests.unit.catalogue_examples import (
    NOW,
    OFFICER,
    OTHER_OFFICER,
    PAPER,
    offer,
    ron,
    supplier,
)

OCID = "ocds-000000-2027-000077"
KEY = X25519PrivateKey.generate()
KEY_TEXT = KEY.private_bytes_raw()
DEADLINE = NOW + timedelta(days=3)
OFFERS = [offer("a", "20.00"), offer("b", "22.00"), offer("c", "25.00"), offer("d", "30.00")]
BAND = Band(
    offers=OFFERS,
    direct_purchase_limit=ron("1000.00"),
    open_procedure_limit=ron("10000.00"),
    minimum_period=timedelta(days=2),
)


def ask(
    quantity: str = "100", suppliers: tuple[str, ...] = (), band: Band = BAND, deadline: datetime = DEADLINE
) -> QuotesRequested:  # fmt: skip
    command = RequestQuotes(
        title="Paper for the schools",
        cpv=PAPER,
        quantity=Decimal(quantity),
        unit="ream",
        currency="RON",
        deadline=deadline,
        opening_key=keys.raw_public(KEY),
        suppliers=suppliers,
    )
    [requested] = price_quotation.request(command, OFFICER, NOW, band, ocid=OCID)
    assert isinstance(requested, QuotesRequested)
    return requested


def quoted(prices: dict[str, str], at: datetime = NOW) -> Quotation:
    """A quotation of 100 reams asked of every supplier, each quoting its price."""
    quotation = price_quotation.replay([ask()])
    assert quotation is not None
    for name, price in prices.items():
        sealed = quotes.seal_quote(
            Quote(ocid=OCID, supplier_id=f"supplier-{name}", unit_price=ron(price)),
            keys.raw_public(KEY),
        )
        command = SubmitQuote(ocid=OCID, sealed=sealed)
        [submitted] = price_quotation.submit(quotation, command, supplier(name), at)
        quotation = price_quotation.evolve(quotation, submitted)
    return quotation


def open_all(quotation: Quotation, actor: Actor = OFFICER, at: datetime = DEADLINE) -> QuotesOpened:
    requested = quotation.requested
    opened = [
        quotes.open_quote(OCID, who, sealed, quotes.private_key(KEY_TEXT), requested.currency)
        for who, sealed in quotation.sealed.items()
    ]
    command = OpenQuotes(ocid=OCID, opening_key=KEY_TEXT)
    matches = quotes.key_matches(KEY_TEXT, requested.opening_key)
    [event] = price_quotation.open_quotes(
        quotation, command, actor, at, key_matches=matches, opened=opened
    )
    assert isinstance(event, QuotesOpened)
    return event


def test_every_supplier_offering_the_cpv_is_asked_by_default_at_the_median_price() -> None:
    """No list: all four suppliers of valid paper offers; reference is their median."""
    requested = ask()
    assert requested.invited == ("supplier-a", "supplier-b", "supplier-c", "supplier-d")
    assert requested.reference_unit_price == ron("23.50")


def test_at_least_three_suppliers_are_asked_or_every_one_when_fewer_offer() -> None:
    """Two of four is too few; two of two is all there are; a stranger is refused."""
    with pytest.raises(Rejected) as refused:
        ask(suppliers=("supplier-a", "supplier-b"))
    assert refused.value.code == "too_few_suppliers"
    assert ask(suppliers=("supplier-a", "supplier-b", "supplier-c")).invited[-1] == "supplier-c"
    two = Band(OFFERS[:2], BAND.direct_purchase_limit, BAND.open_procedure_limit, timedelta(0))
    assert ask(band=two).invited == ("supplier-a", "supplier-b")
    with pytest.raises(Rejected) as stranger:
        ask(suppliers=("supplier-a", "supplier-b", "supplier-x"))
    assert stranger.value.code == "supplier_not_in_catalogue"


def test_the_estimate_must_fall_between_the_direct_purchase_and_open_thresholds() -> None:
    """At the median of 23.50: 10 reams is a direct purchase, 1000 an open procedure."""
    for quantity, code in (("10", "below_quotation_band"), ("1000", "over_threshold")):
        with pytest.raises(Rejected) as refused:
            ask(quantity)
        assert refused.value.code == code


def test_the_deadline_leaves_suppliers_the_minimum_period() -> None:
    """A deadline a day away is refused when two days are the minimum."""
    with pytest.raises(Rejected) as refused:
        ask(deadline=NOW + timedelta(days=1))
    assert refused.value.code == "quotation_period_too_short"


def test_the_lowest_quote_wins_when_all_open_together_after_the_deadline() -> None:
    """Every quote opens at once; the lowest unit price wins, for the whole quantity."""
    opened = open_all(quoted({"c": "21.00", "a": "19.50", "b": "19.90"}))
    assert opened.winner_id == "supplier-a"
    assert opened.value == ron("1950.00")
    assert [q.supplier_id for q in opened.quotes] == ["supplier-c", "supplier-a", "supplier-b"]
    assert opened.opening_key == KEY_TEXT  # published: anyone can open the quotes again


def test_a_tie_goes_to_the_supplier_that_quoted_first() -> None:
    """Equal prices: the earlier quote wins."""
    assert open_all(quoted({"b": "19.00", "a": "19.00"})).winner_id == "supplier-b"


def test_a_later_quote_replaces_the_earlier_one() -> None:
    """Only a supplier's latest sealed quote opens."""
    quotation = quoted({"a": "24.00", "b": "21.00"})
    quotation = price_quotation.evolve(
        quotation,
        price_quotation.submit(
            quotation,
            SubmitQuote(
                ocid=OCID,
                sealed=quotes.seal_quote(
                    Quote(ocid=OCID, supplier_id="supplier-a", unit_price=ron("20.00")),
                    keys.raw_public(KEY),
                ),
            ),
            supplier("a"),
            NOW,
        )[0],
    )
    assert open_all(quotation).winner_id == "supplier-a"


def test_a_supplier_replaces_its_quote_a_bounded_number_of_times() -> None:
    """Every quote is kept until the opening, which reads them all: one supplier may not
    fill the store with replacements, and the others are not held to its count."""
    quotation = quoted({"a": "24.00"})
    again = SubmitQuote(ocid=OCID, sealed=quotation.sealed["supplier-a"])
    for _ in range(price_quotation.MAX_QUOTES_PER_SUPPLIER - 1):
        [submitted] = price_quotation.submit(quotation, again, supplier("a"), NOW)
        quotation = price_quotation.evolve(quotation, submitted)
    with pytest.raises(Rejected) as refused:
        price_quotation.submit(quotation, again, supplier("a"), NOW)
    assert refused.value.code == "too_many_quotes"
    assert price_quotation.submit(quotation, again, supplier("b"), NOW)


def test_a_quote_sealed_for_another_supplier_opens_without_a_price() -> None:
    """A copied ciphertext does not open as the copier's quote."""
    quotation = quoted({"a": "19.00"})
    copied = SubmitQuote(ocid=OCID, sealed=quotation.sealed["supplier-a"])
    quotation = price_quotation.evolve(
        quotation, price_quotation.submit(quotation, copied, supplier("b"), NOW)[0]
    )
    opened = open_all(quotation)
    assert {q.supplier_id: q.unit_price for q in opened.quotes}["supplier-b"] is None
    assert opened.winner_id == "supplier-a"


def test_no_quote_after_the_deadline_no_opening_before_it_and_only_with_the_right_key() -> None:
    """Late quotes, early openings and a wrong key are refused."""
    with pytest.raises(WrongState):
        quoted({"a": "19.00"}, at=DEADLINE)
    quotation = quoted({"a": "19.00"})
    with pytest.raises(WrongState) as early:
        open_all(quotation, at=NOW)
    assert early.value.code == "deadline_ahead"
    wrong = X25519PrivateKey.generate().private_bytes_raw()
    with pytest.raises(Rejected) as refused:
        price_quotation.open_quotes(
            quotation,
            OpenQuotes(ocid=OCID, opening_key=wrong),
            OFFICER,
            DEADLINE,
            key_matches=quotes.key_matches(wrong, quotation.requested.opening_key),
            opened=[],
        )
    assert refused.value.code == "wrong_key"


def test_only_invited_suppliers_quote_and_only_the_buyers_officer_opens() -> None:
    """An uninvited supplier cannot quote; another agency's officer cannot open."""
    quotation = quoted({})
    with pytest.raises(NotAllowed):
        price_quotation.submit(quotation, SubmitQuote(ocid=OCID, sealed=b"x"), supplier("x"), NOW)
    with pytest.raises(NotAllowed):
        open_all(quotation, actor=OTHER_OFFICER)


def test_an_opened_quotation_stays_opened() -> None:
    """After the opening, nothing is submitted or opened again."""
    quotation = quoted({"a": "19.00"})
    quotation = price_quotation.evolve(quotation, open_all(quotation))
    assert quotation.status is QuotationStatus.OPENED
    with pytest.raises(WrongState):
        open_all(quotation)
