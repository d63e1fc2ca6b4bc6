"""What describes a procedure type, and the value thresholds that choose one."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from schemas.values import Value


class Engine(StrEnum):
    TENDER = "tender"  # published as a tender, sealed bids, evaluation (procurement.tender)
    CATALOGUE = "catalogue"  # bought from the electronic catalogue's offers


class ValueBand(StrEnum):
    """Which thresholds bound the estimated value, without VAT."""

    ANY = "any"  # an open procedure may be used at any value
    BELOW_DIRECT_PURCHASE = "below_direct_purchase"
    DIRECT_PURCHASE_TO_OPEN = "direct_purchase_to_open"


@dataclass(frozen=True)
class Procedure:
    method: str  # OCDS procurementMethod (the closed ``method`` codelist)
    method_details: str  # OCDS procurementMethodDetails
    engine: Engine
    value_band: ValueBand
    has_auction: bool = False
    minimum_period: timedelta | None = None  # None: the deployment's ProcedureRules


WORKS_DIVISION = "45"
QUOTATION_PERIOD = timedelta(
    days=2
)  # ProZorro's price quotation: two days at least  # CPV division 45: construction work


@dataclass(frozen=True)
class Thresholds:
    """The estimated values, without VAT, that choose the procedure, in ``currency``.

    Defaults: Law 98/2016, Article 7(5), as updated: direct purchase below 270,120 lei for
    supplies and services and 900,400 lei for works. The open procedure is required from
    the EU threshold for supplies and services of sub-central authorities (1,099,463 lei by
    default: set the current one). ``overrides`` sets the direct-purchase limit for one
    contracting authority (or ``*``, any) and a CPV prefix; the longest prefix of the
    authority's own wins over ``*``'s.
    """

    currency: str = "RON"
    direct_purchase_goods: Decimal = Decimal("270120")
    direct_purchase_works: Decimal = Decimal("900400")
    open_procedure_from: Decimal = Decimal("1099463")
    overrides: Mapping[tuple[str, str], Decimal] = field(default_factory=dict)

    def direct_purchase_limit(self, agency_id: str, cpv: str) -> Value:
        """The limit a direct purchase of this CPV code by this authority stays under."""
        for owner in (agency_id, "*"):
            prefixes = [p for a, p in self.overrides if a == owner and cpv.startswith(p)]
            if prefixes:
                return self._value(self.overrides[owner, max(prefixes, key=len)])
        works = cpv.startswith(WORKS_DIVISION)
        return self._value(self.direct_purchase_works if works else self.direct_purchase_goods)

    def open_procedure_limit(self) -> Value:
        return self._value(self.open_procedure_from)

    def _value(self, amount: Decimal) -> Value:
        return Value(amount=amount, currency=self.currency)

    @classmethod
    def parse_overrides(cls, text: str) -> dict[tuple[str, str], Decimal]:
        """``agency-X:30=100000,*:45=500000``: authority (``*`` any), CPV prefix, limit."""
        overrides = {}
        for entry in filter(None, (part.strip() for part in text.split(","))):
            try:
                who, rest = entry.split(":", 1)
                prefix, amount = rest.split("=", 1)
                limit = Decimal(amount)
            except (ValueError, InvalidOperation) as error:
                msg = f"{entry!r} is not AGENCY:CPV_PREFIX=LIMIT, such as agency-X:30=100000"
                raise ValueError(msg) from error
            if not prefix.isdigit() or limit <= 0:
                msg = f"{entry!r}: the CPV prefix is digits and the limit is positive"
                raise ValueError(msg)
            overrides[who, prefix] = limit
        return overrides


@dataclass(frozen=True)
class CatalogueRules:
    """The deployment's settings for the catalogue's procedures."""

    thresholds: Thresholds = field(default_factory=Thresholds)
    minimum_quotation_period: timedelta = QUOTATION_PERIOD

    @classmethod
    def from_env(
        cls, env: Mapping[str, str], duration: Callable[[str, timedelta], timedelta]
    ) -> "CatalogueRules":
        """``PROCUREMENT_DIRECT_PURCHASE_LIMIT`` (supplies and services),
        ``PROCUREMENT_DIRECT_PURCHASE_LIMIT_WORKS``, ``PROCUREMENT_OPEN_PROCEDURE_FROM``,
        ``PROCUREMENT_DIRECT_PURCHASE_OVERRIDES`` (``agency-X:30=100000,*:45=500000``),
        ``PROCUREMENT_THRESHOLD_CURRENCY`` and ``PROCUREMENT_MIN_QUOTATION_PERIOD``."""
        default = Thresholds()
        thresholds = Thresholds(
            currency=env.get("PROCUREMENT_THRESHOLD_CURRENCY", default.currency),
            direct_purchase_goods=Decimal(
                env.get("PROCUREMENT_DIRECT_PURCHASE_LIMIT", default.direct_purchase_goods)
            ),
            direct_purchase_works=Decimal(
                env.get("PROCUREMENT_DIRECT_PURCHASE_LIMIT_WORKS", default.direct_purchase_works)
            ),
            open_procedure_from=Decimal(
                env.get("PROCUREMENT_OPEN_PROCEDURE_FROM", default.open_procedure_from)
            ),
            overrides=Thresholds.parse_overrides(
                env.get("PROCUREMENT_DIRECT_PURCHASE_OVERRIDES", "")
            ),
        )
        period = duration("PROCUREMENT_MIN_QUOTATION_PERIOD", QUOTATION_PERIOD)
        return cls(thresholds=thresholds, minimum_quotation_period=period)
