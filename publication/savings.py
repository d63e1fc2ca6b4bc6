"""Savings against the estimated value, as the Romanian public procurement system (SEAP/SICAP)
publishes them: per lot, and summed per buyer, CPV division, procedure type and month.

Per contracted lot (an award counts once its contract is concluded), all amounts in the
lot's currency::

    saving           = estimated - awarded             negative when awarded above the estimate
    relative saving  = saving / estimated
    auction saving   = best initial - final after the auction     0 when there was no auction
    auction share    = auction saving / saving         the part of the saving the auction added

``best initial`` is the lowest price opened among the admissible bids, ``final after the
auction`` the lowest price when the auction closed. The auction share is defined only when
something was saved: it is None when saving <= 0 (also without an auction), 0 when there was
no auction and saving > 0. It is not clipped: above 1 when the best initial price was above
the estimate and the auction brought it below, negative if the auction raised the price.

A group (a buyer, a CPV division, a procedure type, a month, or everything) sums the
estimated, awarded, saving and auction saving of its lots. Its relative saving is Σ saving /
Σ estimated, weighted by value, not an average of the lots' ratios, and its auction share is
Σ auction saving / Σ saving, None unless Σ saving > 0. So the groups of one grouping add up
to the overall totals, to the cent.

Rounding: amounts are in cents, so sums and differences are exact and are written with two
decimals. A ratio is computed to 28 significant digits and rounded once, half up, to 0.0001
(12.34 % is 0.1234); ``average_bidders`` is a ratio too. A ratio that rounds to zero is 0,
never -0.

The inputs must be in one currency: convert beforehand (for example at the National Bank of
Romania's rate of the award date).

Like is compared with like: a lot whose award includes VAT and whose estimate does not (or
the other way round) is not summed at all, since its "saving" would be the tax. It is listed
apart, in ``not_comparable``, with the reason; the estimate is net of VAT unless the tender
says otherwise (Directive 2014/24/EU Article 5(1)), and a bid on the tender's basis unless
it says otherwise.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from typing import Annotated

from pydantic import Field, field_validator, model_validator

from procurement.evaluation import Evaluation, LotStatus, admissible_bids
from procurement.procedures import PROCEDURES
from procurement.tender import Tender
from schemas.base import Message
from schemas.values import CPV_DIVISIONS, Currency, Identifier, ProcedureType

CENT = Decimal("0.01")
RATIO = Decimal("0.0001")
_ARITHMETIC = Context(prec=28, rounding=ROUND_HALF_UP)

# An amount given: positive, in cents, as Value holds it.
Money = Annotated[Decimal, Field(gt=0, max_digits=18, decimal_places=2, allow_inf_nan=False)]
Month = Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]  # YYYY-MM


class AwardedLot(Message):
    """One awarded lot, with what the aggregates group it by."""

    ocid: Identifier
    lot_id: Identifier
    buyer_id: Identifier
    cpv_division: str  # the first two digits of the tender's main CPV code
    procedure_type: ProcedureType
    award_month: Month
    bidders: int = Field(ge=1, le=100_000)  # bidders in the tender
    winner_is_sme: bool
    currency: Currency
    estimated: Money
    best_initial: Money  # the lowest opened price among the admissible bids
    final_after_auction: Money | None = None  # the lowest price at the auction's close
    awarded: Money
    # Whether the estimate and the award include VAT; rows recorded before say neither: both
    # were on the estimate's basis then.
    estimate_includes_vat: bool = False
    award_includes_vat: bool = False

    @property
    def comparable(self) -> bool:
        return self.estimate_includes_vat == self.award_includes_vat

    @field_validator("cpv_division")
    @classmethod
    def _is_a_cpv_division(cls, division: str) -> str:
        if division not in CPV_DIVISIONS:
            raise ValueError(f"{division!r} is not a CPV division (two digits, such as 45)")
        return division

    @model_validator(mode="after")
    def _auction_only_in_a_procedure_with_one(self) -> "AwardedLot":
        if self.final_after_auction is not None and not PROCEDURES[self.procedure_type].has_auction:
            raise ValueError("a procedure without auction has no price after an auction")
        return self


class LotSavings(Message):
    ocid: Identifier
    lot_id: Identifier
    currency: Currency
    estimated: Decimal
    best_initial: Decimal
    final_after_auction: Decimal | None
    awarded: Decimal
    saving: Decimal
    relative_saving: Decimal
    auction_saving: Decimal
    auction_share: Decimal | None


class NotComparable(Message):
    """An awarded lot left out of the sums, and why."""

    ocid: Identifier
    lot_id: Identifier
    reason: str


def _vat(included: bool) -> str:
    return "includes VAT" if included else "is net of VAT"


def not_comparable(lot: AwardedLot) -> NotComparable:
    reason = (
        f"the estimate {_vat(lot.estimate_includes_vat)} and the award "
        f"{_vat(lot.award_includes_vat)}: the difference would count the tax as a saving"
    )
    return NotComparable(ocid=lot.ocid, lot_id=lot.lot_id, reason=reason)


class GroupTotals(Message):
    key: str  # the buyer id, the CPV division, the procedure type, the month, or "all"
    lots: int
    tenders: int
    estimated: Decimal
    awarded: Decimal
    saving: Decimal
    relative_saving: Decimal | None  # None for no lots
    auction_saving: Decimal
    auction_share: Decimal | None


class Summary(Message):
    currency: Currency | None  # None for no lots
    lots: tuple[LotSavings, ...]
    total: GroupTotals
    by_buyer: tuple[GroupTotals, ...]  # each grouping ordered by key
    by_cpv_division: tuple[GroupTotals, ...]
    by_procedure_type: tuple[GroupTotals, ...]
    by_month: tuple[GroupTotals, ...]
    tenders: int
    average_bidders: Decimal | None  # bidders per tender
    sme_contract_share: Decimal | None  # of the lots awarded, the share won by SMEs
    sme_value_share: Decimal | None  # of the value awarded, the share won by SMEs
    not_comparable: tuple[NotComparable, ...] = ()  # awarded lots left out, with the reason

    def to_json(self) -> str:
        """Amounts and ratios as strings, so that nothing passes through a float."""
        return self.model_dump_json(indent=2)

    def to_text(self) -> list[str]:
        """The summary as lines a CLI prints."""
        lines = [f"Savings against the estimated value ({self.currency or 'no lots'})", _HEADER]
        lines.append(_row(self.total))
        for title, groups in (
            ("by buyer", self.by_buyer),
            ("by CPV division", self.by_cpv_division),
            ("by procedure type", self.by_procedure_type),
            ("by month", self.by_month),
        ):
            lines.append(title)
            lines += [_row(group, indent="  ") for group in groups]
        lines.append(f"tenders {self.tenders}, bidders per tender {_show(self.average_bidders)}")
        lines.append(
            f"won by SMEs: {_percent(self.sme_contract_share)} of the lots, "
            f"{_percent(self.sme_value_share)} of the value"
        )
        return lines


_HEADER = f"{'':<28}{'lots':>6}{'estimated':>20}{'awarded':>20}{'saving':>20}{'saving %':>10}{'auction %':>10}"


def _row(group: GroupTotals, indent: str = "") -> str:
    return (
        f"{indent + group.key:<28}{group.lots:>6}{group.estimated:>20}{group.awarded:>20}"
        f"{group.saving:>20}{_percent(group.relative_saving):>10}{_percent(group.auction_share):>10}"
    )


def _percent(ratio: Decimal | None) -> str:
    return "-" if ratio is None else f"{ratio * 100:.2f}%"


def _show(value: Decimal | None) -> str:
    return "-" if value is None else str(value)


# Arithmetic


def ratio(numerator: Decimal, denominator: Decimal) -> Decimal | None:
    """numerator / denominator rounded half up to 0.0001; None when the denominator is 0."""
    if denominator == 0:
        return None
    with localcontext(_ARITHMETIC):
        result = (numerator / denominator).quantize(RATIO)
    return result.copy_abs() if result == 0 else result


def money(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def lot_savings(lot: AwardedLot) -> LotSavings:
    saving = lot.estimated - lot.awarded
    final = lot.final_after_auction
    auction_saving = Decimal(0) if final is None else lot.best_initial - final
    share = ratio(auction_saving, saving) if saving > 0 else None
    relative = ratio(saving, lot.estimated)
    assert relative is not None, "an estimated value is positive"
    return LotSavings(
        ocid=lot.ocid,
        lot_id=lot.lot_id,
        currency=lot.currency,
        estimated=money(lot.estimated),
        best_initial=money(lot.best_initial),
        final_after_auction=None if final is None else money(final),
        awarded=money(lot.awarded),
        saving=money(saving),
        relative_saving=relative,
        auction_saving=money(auction_saving),
        auction_share=share,
    )


def totals(key: str, lots: Sequence[LotSavings]) -> GroupTotals:
    """The sums and ratios of a group of lots; see the module's docstring."""
    estimated = sum((lot.estimated for lot in lots), Decimal(0))
    saving = sum((lot.saving for lot in lots), Decimal(0))
    auction_saving = sum((lot.auction_saving for lot in lots), Decimal(0))
    return GroupTotals(
        key=key,
        lots=len(lots),
        tenders=len({lot.ocid for lot in lots}),
        estimated=money(estimated),
        awarded=money(sum((lot.awarded for lot in lots), Decimal(0))),
        saving=money(saving),
        relative_saving=ratio(saving, estimated),
        auction_saving=money(auction_saving),
        auction_share=ratio(auction_saving, saving) if saving > 0 else None,
    )


# The summary


def summarise(lots: Iterable[AwardedLot]) -> Summary:
    """Every lot's savings and the totals per buyer, CPV division, procedure type and month.

    Raises ValueError when the lots are in more than one currency, a lot appears twice, or
    the lots of one tender disagree on its buyer, CPV division, procedure type or bidders."""
    given = list(lots)
    lots_must_share_one_currency(given)
    lots_must_appear_once(given)
    awarded = [lot for lot in given if lot.comparable]
    tenders = tenders_must_be_consistent(awarded)
    saved = [lot_savings(lot) for lot in awarded]
    pairs = list(zip(awarded, saved, strict=True))

    def by(key: Callable[[AwardedLot], str]) -> tuple[GroupTotals, ...]:
        groups: dict[str, list[LotSavings]] = defaultdict(list)
        for lot, savings in pairs:
            groups[key(lot)].append(savings)
        return tuple(totals(name, groups[name]) for name in sorted(groups))

    total = totals("all", saved)
    sme = [savings for lot, savings in pairs if lot.winner_is_sme]
    bidders = sum((Decimal(count) for count in tenders.values()), Decimal(0))
    return Summary(
        currency=awarded[0].currency if awarded else None,
        lots=tuple(saved),
        total=total,
        by_buyer=by(lambda lot: lot.buyer_id),
        by_cpv_division=by(lambda lot: lot.cpv_division),
        by_procedure_type=by(lambda lot: str(lot.procedure_type)),
        by_month=by(lambda lot: lot.award_month),
        tenders=len(tenders),
        average_bidders=ratio(bidders, Decimal(len(tenders))),
        sme_contract_share=ratio(Decimal(len(sme)), Decimal(len(saved))),
        sme_value_share=ratio(sum((s.awarded for s in sme), Decimal(0)), total.awarded),
        not_comparable=tuple(not_comparable(lot) for lot in given if not lot.comparable),
    )


def lots_must_share_one_currency(lots: Sequence[AwardedLot]) -> None:
    currencies = sorted({lot.currency for lot in lots})
    if len(currencies) > 1:
        msg = (
            f"savings add up in one currency, but the lots are in {currencies}: convert them first"
        )
        raise ValueError(msg)


def lots_must_appear_once(lots: Sequence[AwardedLot]) -> None:
    keys = [(lot.ocid, lot.lot_id) for lot in lots]
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        raise ValueError(f"each lot counts once, but these repeat: {repeated}")


def tenders_must_be_consistent(lots: Sequence[AwardedLot]) -> dict[str, int]:
    """The number of bidders of each tender, once its lots agree on what belongs to it."""
    seen: dict[str, tuple[str, str, ProcedureType, int]] = {}
    for lot in lots:
        facts = (lot.buyer_id, lot.cpv_division, lot.procedure_type, lot.bidders)
        first = seen.setdefault(lot.ocid, facts)
        if first != facts:
            msg = (
                f"the lots of tender {lot.ocid} disagree on its buyer, CPV division, procedure "
                f"type or bidders: {first} and {facts} (lot {lot.lot_id})"
            )
            raise ValueError(msg)
    return {ocid: facts[3] for ocid, facts in seen.items()}


# From the rest of the platform


def awarded_lots(tender: Tender, evaluation: Evaluation) -> list[AwardedLot]:
    """The tender's lots whose contract is concluded, as savings inputs. An award counts only
    then: not during its standstill or under a complaint, when it may still fall, and never
    once annulled or cancelled.

    Bidders are the tender's opened bids; the award month is that of ``decided_at``, in the
    time zone it was recorded in (UTC on this platform)."""
    found = []
    for lot in tender.requirements.lots:
        state = evaluation.lots.get(lot.id)
        if state is None or state.status is not LotStatus.CONTRACTED or state.award is None:
            continue
        offers = [bid.offer(lot.id) for bid in admissible_bids(evaluation, lot.id)]
        initial = min(offer.price.amount for offer in offers if offer is not None)
        estimate_vat = tender.requirements.value_added_tax_included
        won = evaluation.bids[state.award.bid_id].offer(lot.id)
        award_vat = won.value_added_tax_included if won is not None else None
        final = min(state.final_prices.values()) if state.final_prices else None
        found.append(
            AwardedLot(
                ocid=tender.ocid,
                lot_id=lot.id,
                buyer_id=tender.buyer_id,
                cpv_division=tender.requirements.cpv[:2],
                procedure_type=tender.procedure_type,
                award_month=state.award.decided_at.strftime("%Y-%m"),
                bidders=len(evaluation.bids),
                winner_is_sme=evaluation.bids[state.award.bid_id].is_sme,
                currency=lot.value.currency,
                estimated=lot.value.amount,
                best_initial=initial,
                final_after_auction=final,
                awarded=state.award.value.amount,
                estimate_includes_vat=estimate_vat,
                award_includes_vat=estimate_vat if award_vat is None else award_vat,
            )
        )
    return found
