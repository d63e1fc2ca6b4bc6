"""The standstill between an award and its contract, by the Remedies Directive.

Directive 89/665/EEC as amended by 2007/66/EC, Article 2a(2): the contract may not be
concluded before 10 calendar days from the day after the award decision is sent by
electronic means. The period therefore ends at the end of the last of those days, in the
buyer's time zone, not a fixed number of hours after the decision. A buyer may publish a
shorter standstill (or none) only on a ground of Article 2b, and the ground is checked when
the award relies on it: where it does not hold, the full legal standstill applies.
"""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from procurement.errors import Rejected
from procurement.rules import ProcedureRules
from schemas.evaluation import EvaluationFacts
from schemas.values import Requirements, StandstillGround

LEGAL_STANDSTILL_DAYS = 10  # Article 2a(2), the award decision sent electronically
DEFAULT_TIME_ZONE = "Europe/Bucharest"  # the buyers' time zone unless an agency says otherwise

# Grounds that depend on how the contract was procured: every tender run on this platform is
# published with a contract notice and is not a call-off, so neither holds for it.
_NOT_FOR_A_PUBLISHED_TENDER = {
    StandstillGround.NO_PRIOR_PUBLICATION: "the tender is published with a contract notice",
    StandstillGround.CALL_OFF: "the tender is not a call-off under a framework agreement or DPS",
}


def standstill_ends(sent_at: datetime, days: int, time_zone: str) -> datetime:
    """The end of the ``days``-th calendar day after the day the award was sent, in
    ``time_zone``, as an instant in UTC; with no standstill, the moment it was sent."""
    if days == 0:
        return sent_at
    zone = ZoneInfo(time_zone)
    last_day = sent_at.astimezone(zone).date() + timedelta(days=days)
    return datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)


def standstill_must_last_the_legal_minimum(
    requirements: Requirements, rules: ProcedureRules
) -> None:
    """A standstill shorter than the minimum needs a ground of Article 2b that can hold."""
    ground = requirements.standstill_ground
    if ground in _NOT_FOR_A_PUBLISHED_TENDER:
        msg = (
            f"the standstill ground {ground} (Directive 89/665/EEC, Article 2b) does not apply: "
            f"{_NOT_FOR_A_PUBLISHED_TENDER[ground]}; remove it or use sole_tenderer"
        )
        raise Rejected(msg, code="standstill_ground_not_available")
    if requirements.standstill_days < rules.minimum_standstill_days and ground is None:
        msg = (
            f"a standstill of {requirements.standstill_days} days is shorter than the minimum of "
            f"{rules.minimum_standstill_days} calendar days (Directive 89/665/EEC, Article 2a(2)): "
            "set at least that, or state the ground of Article 2b that allows a shorter one"
        )
        raise Rejected(msg, code="standstill_too_short")


def sole_tenderer_holds(tenderers: set[str], awarded: str) -> bool:
    """Article 2b(b): the only tenderer concerned is the one awarded (an open procedure has
    no candidates)."""
    return tenderers == {awarded}


def award_standstill(
    facts: EvaluationFacts, tenderers: set[str], awarded: str, sent_at: datetime
) -> tuple[datetime, StandstillGround | None]:
    """When the standstill of an award sent at ``sent_at`` ends, and the ground of Article 2b
    it relies on, if any; ``tenderers`` are the bidders of the awarded lot. A stated ground
    that does not hold gives way to the full legal standstill."""
    days, ground = facts.standstill_days, facts.standstill_ground
    if days >= LEGAL_STANDSTILL_DAYS:
        ground = None  # the full standstill relies on no exception
    elif ground is not None and not sole_tenderer_holds(tenderers, awarded):
        days, ground = LEGAL_STANDSTILL_DAYS, None
    return standstill_ends(sent_at, days, facts.time_zone), ground
