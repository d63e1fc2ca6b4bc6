"""Hypothesis strategies shared by the unit and integration tests.

The valid strategies build domain values that pass validation as they are; the garbage
strategies build what a careless or hostile client sends instead.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from procurement.procedures import PROCEDURES, Engine
from schemas.commands import Actor, AmendTender, PublishTender, Role
from schemas.events import (
    AgencyRegistered,
    Event,
    OfficerRegistered,
    TenderCancelled,
    TenderClosed,
    TenderDeadlineExtended,
    TenderDetailsAmended,
    TenderPublished,
    TenderRequirementsAmended,
)
from schemas.values import (
    CPV_DIVISIONS,
    AwardCriteria,
    Item,
    Lot,
    QualityCriterion,
    Requirements,
    Value,
)

CURRENCIES = ("RON", "EUR", "USD", "GBP")
UNITS = ("piece", "kg", "hour", "m2", "litre")

# Letters and digits only: the models strip surrounding whitespace, so generated text has
# none to strip and a value reads back exactly as it was written.
_word = st.text(st.characters(categories=["L", "N"]), min_size=3, max_size=12)

# The procedure types published as tenders; the catalogue's have their own commands.
TENDERED = [t for t, entry in PROCEDURES.items() if entry.engine is Engine.TENDER]


def identifiers() -> st.SearchStrategy[str]:
    """Ids as the platform writes them: a letter or digit, then word characters, . : or -."""
    return st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,15}", fullmatch=True)


def titles() -> st.SearchStrategy[str]:
    return st.lists(_word, min_size=1, max_size=6).map(" ".join)


def texts() -> st.SearchStrategy[str]:
    return st.lists(_word, min_size=1, max_size=8).map(" ".join)


def aware_datetimes(
    min_value: datetime = datetime(2000, 1, 1), max_value: datetime = datetime(2100, 1, 1)
) -> st.SearchStrategy[datetime]:
    """Aware UTC datetimes; the bounds are naive, as hypothesis wants them."""
    return st.datetimes(min_value=min_value, max_value=max_value, timezones=st.just(UTC))


def cpv_codes() -> st.SearchStrategy[str]:
    """Eight digits starting with a real CPV division, a hyphen and a check digit."""
    return st.builds(
        lambda division, rest, check: f"{division}{rest:06d}-{check}",
        st.sampled_from(sorted(CPV_DIVISIONS)),
        st.integers(0, 999_999),
        st.integers(0, 9),
    )


def currencies() -> st.SearchStrategy[str]:
    return st.sampled_from(CURRENCIES)


def amounts() -> st.SearchStrategy[Decimal]:
    """Positive amounts with two decimals, from one cent to ten billion."""
    return st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1e10"), places=2)


def values(currency: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[Value]:
    return st.builds(
        Value, amount=amounts(), currency=currencies() if currency is None else currency
    )


def items(item_id: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[Item]:
    return st.builds(
        Item,
        id=identifiers() if item_id is None else item_id,
        description=texts(),
        cpv=cpv_codes(),
        quantity=st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("1e6"), places=4),
        unit=st.sampled_from(UNITS),
    )


@st.composite
def lots(
    draw: st.DrawFn,
    *,
    lot_id: str | None = None,
    item_ids: list[str] | None = None,
    currency: str | None = None,
) -> Lot:
    """One lot; pass ``item_ids`` to fix how many items it has and what they are called."""
    ids = item_ids or draw(st.lists(identifiers(), min_size=1, max_size=2, unique=True))
    return Lot(
        id=lot_id or draw(identifiers()),
        title=draw(titles()),
        description=draw(st.none() | texts()),
        value=draw(values(st.just(currency) if currency else None)),
        items=[draw(items(st.just(item_id))) for item_id in ids],
    )


@st.composite
def requirements(draw: st.DrawFn, *, max_lots: int = 2) -> Requirements:
    """Requirements in one currency, with lot ids and item ids unique across the tender."""
    lot_ids = draw(st.lists(identifiers(), min_size=1, max_size=max_lots, unique=True))
    sizes = [draw(st.integers(1, 2)) for _ in lot_ids]
    item_ids = draw(st.lists(identifiers(), min_size=sum(sizes), max_size=sum(sizes), unique=True))
    currency = draw(currencies())
    chosen: list[Lot] = []
    for lot_id, size in zip(lot_ids, sizes, strict=True):
        mine, item_ids = item_ids[:size], item_ids[size:]
        chosen.append(draw(lots(lot_id=lot_id, item_ids=mine, currency=currency)))
    award = draw(st.sampled_from(AwardCriteria))
    quality: tuple[QualityCriterion, ...] = ()
    if award is AwardCriteria.RATED_CRITERIA:
        weight = Decimal(draw(st.integers(1, 60)))
        quality = (QualityCriterion(id="quality", name="Technical merit", weight=weight),)
    return Requirements(
        cpv=draw(cpv_codes()),
        additional_cpv=tuple(draw(st.lists(cpv_codes(), max_size=2))),
        lots=chosen,
        award_criteria=award,
        price_weight=Decimal(100) - sum((c.weight for c in quality), Decimal(0)),
        quality_criteria=quality,
    )


def publish_commands(
    deadlines: st.SearchStrategy[datetime] | None = None,
) -> st.SearchStrategy[PublishTender]:
    """Valid PublishTender commands; ``deadlines`` defaults to aware UTC times in 2030-2040."""
    if deadlines is None:
        deadlines = aware_datetimes(datetime(2030, 1, 1), datetime(2040, 1, 1))
    return st.builds(
        PublishTender,
        title=titles(),
        description=texts(),
        procedure_type=st.sampled_from(TENDERED),
        requirements=requirements(),
        submission_deadline=deadlines,
    )


@st.composite
def amend_commands(
    draw: st.DrawFn, ocid: str, deadlines: st.SearchStrategy[datetime] | None = None
) -> AmendTender:
    """Amendments that change at least one thing, chosen at random, of the tender ``ocid``."""
    changes: dict[str, Any] = {
        "title": draw(st.none() | titles()),
        "description": draw(st.none() | texts()),
        "requirements": draw(st.none() | requirements(max_lots=2)),
        "submission_deadline": draw(
            st.none() | (aware_datetimes() if deadlines is None else deadlines)
        ),
    }
    if all(change is None for change in changes.values()):
        changes["title"] = draw(titles())
    return AmendTender(ocid=ocid, reason=draw(texts()), **changes)


def officers(agency_id: str) -> st.SearchStrategy[Actor]:
    """Procurement officers of the agency ``agency_id``."""
    return st.builds(
        Actor, id=identifiers(), role=st.just(Role.OFFICER), agency_id=st.just(agency_id)
    )


def events() -> st.SearchStrategy[Event]:
    """An event of any type the platform records, with valid content."""
    return st.one_of(
        st.builds(
            AgencyRegistered, agency_id=identifiers(), name=titles(), identifier=identifiers()
        ),
        st.builds(
            OfficerRegistered,
            officer_id=identifiers(),
            agency_id=identifiers(),
            name=titles(),
            email=st.emails(),
        ),
        st.builds(
            TenderPublished,
            tender_id=identifiers(),
            ocid=identifiers(),
            buyer_id=identifiers(),
            title=titles(),
            description=texts(),
            procedure_type=st.sampled_from(TENDERED),
            requirements=requirements(max_lots=2),
            submission_deadline=aware_datetimes(),
        ),
        st.builds(TenderDetailsAmended, title=titles(), description=texts(), reason=texts()),
        st.builds(TenderRequirementsAmended, requirements=requirements(max_lots=2), reason=texts()),
        st.builds(
            TenderDeadlineExtended,
            previous_deadline=aware_datetimes(),
            submission_deadline=aware_datetimes(),
            reason=texts(),
            required_by_rules=st.booleans(),
        ),
        st.builds(TenderCancelled, reason=texts()),
        st.builds(TenderClosed, submission_deadline=aware_datetimes()),
    )


# Garbage


_HUGE = (10**18, 10**30, -(10**30), 2**63, -(2**63) - 1, 10**400)

json_scalars: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from(_HUGE),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
)

_keys = st.sampled_from(sorted(PublishTender.model_fields)) | st.text(max_size=12)

json_values: st.SearchStrategy[Any] = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_keys, inner, max_size=5),
    max_leaves=12,
)


Corruption = Callable[[dict[str, Any]], None]


def _first_lot(body: dict[str, Any]) -> dict[str, Any]:
    lot: dict[str, Any] = body["requirements"]["lots"][0]
    return lot


def _set_amount(value: Any) -> Corruption:
    def corrupt(body: dict[str, Any]) -> None:
        _first_lot(body)["value"]["amount"] = value

    return corrupt


def _set_item_cpv(value: str) -> Corruption:
    def corrupt(body: dict[str, Any]) -> None:
        _first_lot(body)["items"][0]["cpv"] = value

    return corrupt


def _set_currency(body: dict[str, Any]) -> None:
    _first_lot(body)["value"]["currency"] = "XYZ"


def _set_tender_cpv(body: dict[str, Any]) -> None:
    body["requirements"]["cpv"] = "1234"


def _naive_deadline(body: dict[str, Any]) -> None:
    body["submission_deadline"] = "2031-06-30T12:00:00"


def _drop_title(body: dict[str, Any]) -> None:
    del body["title"]


def _empty_lots(body: dict[str, Any]) -> None:
    body["requirements"]["lots"] = []


def _extra_field(body: dict[str, Any]) -> None:
    body["is_admin"] = True


# Each breaks a valid PublishTender the way a careless client would, in exactly one place.
CORRUPTIONS: dict[str, Corruption] = {
    "negative amount": _set_amount("-10.00"),
    "negative numeric amount": _set_amount(-10),
    "zero amount": _set_amount("0.00"),
    "non-numeric amount": _set_amount("ten thousand"),
    "amount with three decimals": _set_amount("10.001"),
    "overflowing amount": _set_amount("1e400"),
    "huge integer amount": _set_amount(10**30),
    "bad CPV format": _set_item_cpv("1234"),
    "unknown CPV division": _set_item_cpv("99000000-1"),
    "bad tender CPV": _set_tender_cpv,
    "unknown currency": _set_currency,
    "naive deadline": _naive_deadline,
    "missing title": _drop_title,
    "no lots": _empty_lots,
    "unknown field": _extra_field,
}


@st.composite
def corrupted_publish_payloads(draw: st.DrawFn) -> dict[str, Any]:
    """A valid PublishTender as JSON-ready data, with exactly one field broken."""
    body: dict[str, Any] = draw(publish_commands()).model_dump(mode="json")
    CORRUPTIONS[draw(st.sampled_from(sorted(CORRUPTIONS)))](body)
    return body


def garbage_payloads() -> st.SearchStrategy[Any]:
    """JSON-like values of any shape, and near-valid PublishTender bodies with one field broken."""
    return json_values | corrupted_publish_payloads()
