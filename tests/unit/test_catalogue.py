"""The electronic catalogue: suppliers publish, update and withdraw their own offers; what
is comparable, the cheapest and the median price; and the registry of procedure types."""

from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.settings import Settings
from procurement import tender
from procurement.errors import NotAllowed, Rejected, WrongState
from procurement.procedures import (
    PROCEDURES,
    Engine,
    Thresholds,
    catalogue,
    procedure_must_run_as_a_tender,
)
from procurement.procedures.catalogue import LIFECYCLE, OfferStatus
from schemas.catalogue import (
    CatalogueOfferUpdated,
    CatalogueOfferWithdrawn,
    PublishOffer,
    UpdateOffer,
    WithdrawOffer,
)
from schemas.events import EVENT_TYPES
from schemas.values import ProcedureType, codelist
from tests.unit.catalogue_examples import NOW, OFFICER, PAPER, TONER, offer, supplier, terms
from tests.unit.examples import RULES, publish_command

# The registry


def test_every_procedure_type_has_an_entry_with_an_ocds_method_from_the_codelist() -> None:
    """Each procedure type publishes a procurementMethod of the closed OCDS codelist."""
    assert set(PROCEDURES) == set(ProcedureType)
    assert {entry.method for entry in PROCEDURES.values()} <= codelist("method")


def test_catalogue_procedures_publish_as_limited_and_selective() -> None:
    """A direct purchase is "limited", a price quotation "selective"; the open ones "open",
    and only the open procedure with auction has an auction."""
    assert PROCEDURES[ProcedureType.DIRECT_PURCHASE].method == "limited"
    assert (
        PROCEDURES[ProcedureType.DIRECT_PURCHASE].method_details
        == "Direct purchase from the electronic catalogue"
    )
    assert PROCEDURES[ProcedureType.PRICE_QUOTATION].method == "selective"
    assert [t for t, p in PROCEDURES.items() if p.has_auction] == [ProcedureType.OPEN_WITH_AUCTION]


def test_a_catalogue_procedure_is_never_published_as_a_tender() -> None:
    """Publishing a tender as a direct purchase or a quotation is refused; open ones pass."""
    procedure_must_run_as_a_tender(ProcedureType.OPEN)
    for procedure_type, entry in PROCEDURES.items():
        if entry.engine is Engine.CATALOGUE:
            with pytest.raises(Rejected) as refused:
                procedure_must_run_as_a_tender(procedure_type)
            assert refused.value.code == "not_a_tendered_procedure"


def test_the_direct_purchase_threshold_follows_the_romanian_rules_and_the_overrides() -> None:
    """270,120 lei for supplies and services, 900,400 lei for works; an authority's own
    override of the longest CPV prefix wins over one for any authority."""
    default = Thresholds()
    assert default.direct_purchase_limit("agency-a", PAPER).amount == Decimal(270120)
    assert default.direct_purchase_limit("agency-a", "45210000-2").amount == Decimal(900400)
    overrides = Thresholds.parse_overrides("*:30=100000, agency-a:3019=50000, agency-a:30=70000")
    limits = Thresholds(overrides=overrides)
    assert limits.direct_purchase_limit("agency-a", PAPER).amount == Decimal(50000)
    assert limits.direct_purchase_limit("agency-a", TONER).amount == Decimal(70000)
    assert limits.direct_purchase_limit("agency-b", PAPER).amount == Decimal(100000)
    assert limits.direct_purchase_limit("agency-b", "45210000-2").amount == Decimal(900400)


def test_a_malformed_threshold_override_says_how_to_write_it() -> None:
    """An override that is not AGENCY:PREFIX=LIMIT is refused with the expected form."""
    with pytest.raises(ValueError, match="AGENCY:CPV_PREFIX=LIMIT"):
        Thresholds.parse_overrides("agency-a=30")


# Offers


def test_a_supplier_publishes_updates_and_withdraws_its_own_offer() -> None:
    """Each change is an event; the offer's terms follow them."""
    paper = offer("a", "25.00")
    assert paper.supplier_id == "supplier-a"
    assert paper.status is OfferStatus.ACTIVE
    update = UpdateOffer(offer_id=paper.offer_id, terms=terms("24.50"))
    [updated] = catalogue.decide(paper, update, supplier("a"), NOW)
    assert isinstance(updated, CatalogueOfferUpdated)
    paper = catalogue.evolve(paper, updated)
    assert paper.terms.unit_price.amount == Decimal("24.50")
    assert paper.version == 2
    withdraw = WithdrawOffer(offer_id=paper.offer_id, reason="Out of stock")
    [withdrawn] = catalogue.decide(paper, withdraw, supplier("a"), NOW)
    assert isinstance(withdrawn, CatalogueOfferWithdrawn)
    paper = catalogue.evolve(paper, withdrawn)
    assert paper.status is OfferStatus.WITHDRAWN
    assert not paper.valid_at(NOW)
    with pytest.raises(WrongState):
        catalogue.decide(paper, withdraw, supplier("a"), NOW)


def test_only_the_supplier_itself_changes_an_offer_and_only_a_supplier_publishes() -> None:
    """Another supplier or an officer is refused."""
    paper = offer("a", "25.00")
    with pytest.raises(NotAllowed):
        catalogue.decide(paper, UpdateOffer(offer_id=paper.offer_id, terms=terms("1.00")), supplier("b"), NOW)  # fmt: skip
    with pytest.raises(NotAllowed):
        catalogue.decide(None, PublishOffer(terms=terms("1.00")), OFFICER, NOW, offer_id="x")


def test_an_expired_offer_is_not_published_and_an_update_must_change_something() -> None:
    """Validity in the past is refused; an update with the same terms too."""
    yesterday = (NOW - timedelta(days=1)).date()
    with pytest.raises(Rejected) as refused:
        offer("a", "25.00", valid_until=yesterday)
    assert refused.value.code == "offer_expired"
    paper = offer("a", "25.00")
    with pytest.raises(Rejected) as unchanged:
        catalogue.decide(paper, UpdateOffer(offer_id=paper.offer_id, terms=paper.terms), supplier("a"), NOW)  # fmt: skip
    assert unchanged.value.code == "no_change"


def test_comparable_offers_share_cpv_and_currency_and_are_valid_cheapest_first() -> None:
    """Other CPV codes, currencies and expired offers are left out."""
    offers = [
        offer("a", "25.00"),
        offer("b", "21.00"),
        offer("c", "19.00", cpv=TONER),
        offer("d", "5.00", currency="EUR"),
        offer("e", "20.00"),
    ]
    later = NOW + timedelta(days=91)
    found = catalogue.comparable(offers, PAPER, "RON", NOW)
    assert [o.supplier_id for o in found] == ["supplier-e", "supplier-b", "supplier-a"]
    assert catalogue.comparable(offers, PAPER, "RON", later) == []


def test_the_reference_price_is_the_median_to_the_cent() -> None:
    """Odd count: the middle price; even count: the mean of the two middle ones, half up."""
    three = [offer("a", "25.00"), offer("b", "21.00"), offer("e", "20.00")]
    assert catalogue.median_unit_price(three, "RON").amount == Decimal("21.00")
    four = [*three, offer("f", "20.01")]
    assert catalogue.median_unit_price(four, "RON").amount == Decimal("20.51")
    with pytest.raises(Rejected):
        catalogue.median_unit_price([], "RON")


@given(st.lists(st.sampled_from(sorted({t for _, t in LIFECYCLE})), max_size=6))
def test_no_illegal_offer_transition_is_reachable(types: list[str]) -> None:
    """Any sequence of offer events either follows the lifecycle or is refused."""
    examples = {
        "CatalogueOfferPublished": catalogue.decide(
            None, PublishOffer(terms=terms("3.00")), supplier("a"), NOW, offer_id="offer-1"
        )[0],
        "CatalogueOfferUpdated": CatalogueOfferUpdated(offer_id="offer-1", terms=terms("2.00")),
        "CatalogueOfferWithdrawn": CatalogueOfferWithdrawn(offer_id="offer-1", reason="Gone"),
    }
    state = None
    for name in types:
        assert name in EVENT_TYPES
        allowed = (state.status if state else None, name) in LIFECYCLE
        if allowed:
            state = catalogue.evolve(state, examples[name])
        else:
            with pytest.raises(ValueError, match="cannot happen"):
                catalogue.evolve(state, examples[name])


def test_publishing_a_tender_as_a_direct_purchase_is_refused() -> None:
    """The tender's own rules ask the registry: a catalogue procedure is not tendered."""
    command = publish_command().model_copy(update={"procedure_type": ProcedureType.DIRECT_PURCHASE})
    with pytest.raises(Rejected) as refused:
        tender.publish(command, OFFICER, NOW, RULES, tender_id="t-1", ocid="ocds-x-1")
    assert refused.value.code == "not_a_tendered_procedure"


def test_the_thresholds_and_the_quotation_period_are_settings() -> None:
    """The environment sets the limits, an authority's override and the quotation period;
    without it, the Romanian defaults and two days."""
    env = {
        "PROCUREMENT_DIRECT_PURCHASE_LIMIT": "135060",
        "PROCUREMENT_DIRECT_PURCHASE_OVERRIDES": "agency-a:30=50000",
        "PROCUREMENT_MIN_QUOTATION_PERIOD": "1h",
    }
    rules = Settings.from_env(env).catalogue
    assert rules.thresholds.direct_purchase_limit("agency-b", PAPER).amount == Decimal(135060)
    assert rules.thresholds.direct_purchase_limit("agency-a", PAPER).amount == Decimal(50000)
    assert rules.minimum_quotation_period == timedelta(hours=1)
    default = Settings.from_env({}).catalogue
    assert default.thresholds.direct_purchase_limit("agency-b", PAPER).amount == Decimal(270120)
    assert default.minimum_quotation_period == timedelta(days=2)
