"""Value objects that tenders are made of, in the vocabulary of OCDS 1.1."""

import csv
import re
from decimal import Decimal
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Annotated, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, Field, field_validator, model_validator

from schemas.base import Message
from schemas.bounds import MAX_REQUIREMENTS_BYTES, MaxJsonBytes
from schemas.text import LaidOut, OneLine

CODELISTS = Path(__file__).parent / "ocds" / "codelists"

# The 45 divisions of the Common Procurement Vocabulary 2008 (Regulation (EC) No 213/2008).
# The CPV's own check digits are known to be inconsistent, so the division is what we verify.
CPV_DIVISIONS = frozenset(
    "03 09 14 15 16 18 19 22 24 30 31 32 33 34 35 37 38 39 41 42 43 44 45 48 50 51 55 60 63 "  # noqa: SIM905
    "64 65 66 70 71 72 73 75 76 77 79 80 85 90 92 98".split()
)
CPV_PATTERN = re.compile(r"^\d{8}-\d$")
MAX_DIGITS = 18  # of a monetary amount, cents included
CENT = Decimal("0.01")


@cache
def codelist(name: str) -> frozenset[str]:
    """The codes of one vendored OCDS codelist, such as ``currency``."""
    with (CODELISTS / f"{name}.csv").open(encoding="utf-8") as rows:
        return frozenset(row["Code"] for row in csv.DictReader(rows))


def check_cpv(code: str) -> str:
    if not CPV_PATTERN.match(code):
        msg = f"CPV code {code!r} must be 8 digits, a hyphen and a check digit, like 45000000-7"
        raise ValueError(msg)
    if code[:2] not in CPV_DIVISIONS:
        msg = f"CPV code {code!r} names division {code[:2]}, which the CPV does not have"
        raise ValueError(msg)
    return code


def check_currency(code: str) -> str:
    if code not in codelist("currency"):
        msg = f"currency {code!r} is not an ISO 4217 code (for example EUR or RON)"
        raise ValueError(msg)
    return code


def check_time_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        msg = f"time zone {name!r} is not in the IANA time zone database (for example Europe/Bucharest)"
        raise ValueError(msg) from None
    return name


# The lengths bound the JSON (see schemas.bounds); the checks say what is wrong first.
CpvCode = Annotated[str, AfterValidator(check_cpv), Field(max_length=10)]
Currency = Annotated[str, AfterValidator(check_currency), Field(max_length=3)]
MAX_TEXT_CHARS = 10_000
Text = Annotated[str, Field(min_length=1, max_length=MAX_TEXT_CHARS), LaidOut]
Title = Annotated[str, Field(min_length=3, max_length=500), OneLine]
Email = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=320), OneLine]
Identifier = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][\w.:-]*$")]
TimeZoneName = Annotated[str, Field(max_length=64), OneLine, AfterValidator(check_time_zone)]


class ProcedureType(StrEnum):
    OPEN = "open"
    OPEN_WITH_AUCTION = "open_with_auction"  # open tender followed by an electronic reverse auction
    DIRECT_PURCHASE = "direct_purchase"  # from the electronic catalogue, under a threshold
    PRICE_QUOTATION = "price_quotation"  # sealed quotes from catalogue suppliers


class AwardCriteria(StrEnum):
    """OCDS ``awardCriteria``: lowest price, or best price-quality ratio (MEAT)."""

    PRICE_ONLY = "priceOnly"
    RATED_CRITERIA = "ratedCriteria"


class Value(Message):
    amount: Annotated[
        Decimal, Field(gt=0, max_digits=MAX_DIGITS, decimal_places=2, allow_inf_nan=False)
    ]
    currency: Currency


class Item(Message):
    id: Identifier
    description: Text
    cpv: CpvCode
    quantity: Annotated[Decimal, Field(gt=0, max_digits=18, decimal_places=4, allow_inf_nan=False)]
    unit: Annotated[str, Field(min_length=1, max_length=50), OneLine]


class Lot(Message):
    id: Identifier
    title: Title
    description: Text | None = None
    value: Value
    items: Annotated[list[Item], Field(min_length=1, max_length=500)]


Percent = Annotated[Decimal, Field(gt=0, le=100, max_digits=5, decimal_places=2)]


class QualityCriterion(Message):
    """A quality criterion of a best price-quality ratio award, scored 0..100 by the committee."""

    id: Identifier
    name: Title
    weight: Percent  # points of 100; with the price weight they add up to 100


class AuctionEnd(StrEnum):
    FIXED_TIME = "fixed_time"  # closes ``duration_seconds`` after it starts
    INACTIVITY = "inactivity"  # closes when no valid price arrives for ``inactivity_seconds``
    ROUNDS = "rounds"  # closes after ``rounds`` rounds of ``round_seconds`` each


class AuctionRules(Message):
    """How the electronic reverse auction runs (Directive 2014/24/EU, Article 35)."""

    minimum_decrement: Percent = Decimal("0.50")  # each new price this far below one's last
    ends: AuctionEnd = AuctionEnd.INACTIVITY
    duration_seconds: Annotated[int, Field(ge=10, le=86_400)] = 1800
    inactivity_seconds: Annotated[int, Field(ge=5, le=3600)] = 180
    rounds: Annotated[int, Field(ge=1, le=20)] = 3
    round_seconds: Annotated[int, Field(ge=10, le=3600)] = 300


class StandstillGround(StrEnum):
    """Where Directive 89/665/EEC, Article 2b, lets a contract follow its award without the
    full standstill; the buyer states one when it publishes a shorter standstill."""

    NO_PRIOR_PUBLICATION = "no_prior_publication"  # 2b(a): no contract notice was required
    SOLE_TENDERER = "sole_tenderer"  # 2b(b): the one tenderer concerned is the one awarded
    CALL_OFF = "call_off"  # 2b(c): a contract under a framework agreement or a DPS


class Requirements(Message):
    """What is being bought and how the winner is chosen: changing any of it is significant."""

    # Each lot and item is bounded, but 100 lots of 500 items are not, so together they
    # have a budget that leaves a tender's event room in schemas.bounds.MAX_EVENT_BYTES.
    json_budget: ClassVar[MaxJsonBytes] = MaxJsonBytes(
        MAX_REQUIREMENTS_BYTES,
        "the lots and items",
        "put long specifications in the tender's documents",
    )

    cpv: CpvCode
    additional_cpv: Annotated[tuple[CpvCode, ...], Field(max_length=100)] = ()
    lots: Annotated[list[Lot], Field(min_length=1, max_length=100)]
    award_criteria: AwardCriteria = AwardCriteria.PRICE_ONLY
    # The published formula: score = price_weight * lowest price / bid price
    #                                + sum(weight * committee score / 100) over quality_criteria.
    # Ties go to the tender received first.
    price_weight: Percent = Decimal(100)
    quality_criteria: Annotated[tuple[QualityCriterion, ...], Field(max_length=20)] = ()
    auction: AuctionRules | None = None  # required when the procedure has an auction
    abnormally_low_share: Percent = Decimal(80)  # % of the others' average or the estimate
    # Calendar days from the award notice (Directive 89/665/EEC, Article 2a(2)): at least the
    # deployment's minimum (10 days), shorter only on a ground of Article 2b.
    standstill_days: Annotated[int, Field(ge=0, le=60)] = 10
    standstill_ground: StandstillGround | None = None
    # Whether the lots' estimates include VAT (ProZorro's valueAddedTaxIncluded). Estimates
    # are net of VAT (Directive 2014/24/EU Article 5(1)): so are tenders recorded before.
    value_added_tax_included: bool = False

    @model_validator(mode="after")
    def _criteria_match_the_award_criteria(self) -> "Requirements":
        total = self.price_weight + sum((c.weight for c in self.quality_criteria), Decimal(0))
        if self.award_criteria is AwardCriteria.PRICE_ONLY and (
            self.quality_criteria or self.price_weight != 100
        ):
            raise ValueError("a priceOnly award has no quality criteria and a price weight of 100")
        if self.award_criteria is AwardCriteria.RATED_CRITERIA:
            if not self.quality_criteria:
                raise ValueError("a ratedCriteria award needs at least one quality criterion")
            if total != 100:
                raise ValueError(
                    f"the price weight and the criteria weights add up to {total}, not 100"
                )
        return self

    @field_validator("lots")
    @classmethod
    def _lots_share_one_currency(cls, lots: list[Lot]) -> list[Lot]:
        currencies = {lot.value.currency for lot in lots}
        if len(currencies) > 1:
            msg = f"all lots must be valued in one currency, got {sorted(currencies)}"
            raise ValueError(msg)
        return lots

    @model_validator(mode="after")
    def _total_fits_a_value(self) -> "Requirements":
        total = sum((lot.value.amount for lot in self.lots), Decimal(0))
        if len(total.as_tuple().digits) > MAX_DIGITS:
            msg = f"the lots add up to {total}, more than a value can hold ({MAX_DIGITS} digits)"
            raise ValueError(msg)
        return self

    @model_validator(mode="after")
    def _fit_the_budget(self) -> "Requirements":
        return self.json_budget.check(self)

    @model_validator(mode="after")
    def _ids_are_unique(self) -> "Requirements":
        lot_ids = [lot.id for lot in self.lots]
        item_ids = [item.id for lot in self.lots for item in lot.items]
        for kind, ids in (("lot", lot_ids), ("item", item_ids)):
            if len(ids) != len(set(ids)):
                dupes = sorted({i for i in ids if ids.count(i) > 1})
                msg = f"{kind} ids must be unique within a tender, repeated: {dupes}"
                raise ValueError(msg)
        return self

    @property
    def estimated_value(self) -> Value:
        return Value(
            amount=sum((lot.value.amount for lot in self.lots), Decimal(0)).quantize(CENT),
            currency=self.lots[0].value.currency,
        )
