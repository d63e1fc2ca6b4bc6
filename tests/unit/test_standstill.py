"""The standstill by the Remedies Directive: at least 10 calendar days, ending at the end of
the last day in the buyer's time zone, shorter only on a ground of Article 2b that holds."""

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from procurement.errors import Rejected
from procurement.evaluation import contract_may_be_signed
from procurement.rules import ProcedureRules
from procurement.standstill import standstill_ends, standstill_must_last_the_legal_minimum
from procurement.tender import amend, publish
from schemas.commands import AmendTender
from schemas.evaluation import AwardDecided
from schemas.values import StandstillGround
from tests.unit.evaluation_examples import HOUR, LOT, NOW, awarded, bid, facts
from tests.unit.examples import NOW as PUBLISHED_AT
from tests.unit.examples import OCID, OFFICER, RULES, publish_command, published, requirements

BUCHAREST = "Europe/Bucharest"


@pytest.mark.parametrize(
    ("sent_at", "ends"),
    [
        # 13:00 on 4 May in Bucharest (summer time, UTC+3): the 10th day after is 14 May.
        (datetime(2030, 5, 4, 10, 0, tzinfo=UTC), datetime(2030, 5, 14, 21, 0, tzinfo=UTC)),
        # 23:30 on 4 May in Bucharest, still 4 May there.
        (datetime(2030, 5, 4, 20, 30, tzinfo=UTC), datetime(2030, 5, 14, 21, 0, tzinfo=UTC)),
        # 00:30 on 5 May in Bucharest, though 4 May in UTC: a day later.
        (datetime(2030, 5, 4, 21, 30, tzinfo=UTC), datetime(2030, 5, 15, 21, 0, tzinfo=UTC)),
        # Winter time, UTC+2.
        (datetime(2030, 1, 10, 10, 0, tzinfo=UTC), datetime(2030, 1, 20, 22, 0, tzinfo=UTC)),
        # Across the change to summer time on 31 March 2030.
        (datetime(2030, 3, 25, 10, 0, tzinfo=UTC), datetime(2030, 4, 4, 21, 0, tzinfo=UTC)),
    ],
)
def test_ten_days_end_at_the_end_of_the_tenth_day_after_the_day_sent(
    sent_at: datetime, ends: datetime
) -> None:
    """Article 2a(2): the day the award is sent does not count; the 10th day counts whole."""
    assert standstill_ends(sent_at, 10, BUCHAREST) == ends


def test_the_days_are_the_buyers_own() -> None:
    """The same instant, sent from Lisbon, ends at Lisbon's midnight."""
    sent_at = datetime(2030, 5, 4, 10, 0, tzinfo=UTC)
    assert standstill_ends(sent_at, 10, "Europe/Lisbon") == datetime(2030, 5, 14, 23, tzinfo=UTC)


def test_a_time_zone_must_exist() -> None:
    """Facts naming no real time zone are refused."""
    with pytest.raises(ValidationError, match="IANA"):
        type(facts()).model_validate({**facts().model_dump(), "time_zone": "Mars/Olympus"})


def test_a_standstill_shorter_than_ten_days_is_refused_at_publication() -> None:
    """A buyer cannot lower the legal minimum without a ground of Article 2b."""
    short = publish_command().model_copy(
        update={"requirements": requirements().model_copy(update={"standstill_days": 5})}
    )
    with pytest.raises(Rejected) as refused:
        publish(short, OFFICER, PUBLISHED_AT, RULES, tender_id="t-1", ocid=OCID)
    assert refused.value.code == "standstill_too_short"
    assert "Article 2a(2)" in refused.value.detail


def test_an_amendment_cannot_shorten_the_standstill_either() -> None:
    """The same floor holds for amended requirements."""
    shorter = requirements().model_copy(update={"standstill_days": 0})
    command = AmendTender(ocid=OCID, reason="Faster.", requirements=shorter)
    with pytest.raises(Rejected, match="Article 2a"):
        amend(published(), command, OFFICER, PUBLISHED_AT, RULES)


def test_the_sole_tenderer_ground_may_be_stated_for_no_standstill() -> None:
    """Article 2b(b) is accepted at publication; it is checked when the award relies on it."""
    none = requirements().model_copy(
        update={"standstill_days": 0, "standstill_ground": StandstillGround.SOLE_TENDERER}
    )
    standstill_must_last_the_legal_minimum(none, RULES)


@pytest.mark.parametrize(
    "ground", [StandstillGround.NO_PRIOR_PUBLICATION, StandstillGround.CALL_OFF]
)
def test_grounds_that_cannot_hold_for_a_published_tender_are_refused(
    ground: StandstillGround,
) -> None:
    """A published tender has a contract notice and is no call-off: 2b(a) and 2b(c) never hold."""
    stated = requirements().model_copy(update={"standstill_days": 0, "standstill_ground": ground})
    with pytest.raises(Rejected) as refused:
        standstill_must_last_the_legal_minimum(stated, RULES)
    assert refused.value.code == "standstill_ground_not_available"


def test_a_deployment_may_lower_the_floor_for_tests_and_demonstrations() -> None:
    """The floor is the deployment's rule; production keeps 10 days."""
    assert ProcedureRules().minimum_standstill_days == 10
    none = requirements().model_copy(update={"standstill_days": 0})
    standstill_must_last_the_legal_minimum(none, ProcedureRules(minimum_standstill_days=0))


def test_a_sole_tenderer_award_may_be_contracted_at_once() -> None:
    """With one tenderer for the lot, the stated ground holds: no standstill."""
    sole = facts(standstill_days=0).model_copy(
        update={"standstill_ground": StandstillGround.SOLE_TENDERER}
    )
    procedure = awarded(sole, bid("a", "900.00"))
    [award] = [e for e in procedure.events if isinstance(e, AwardDecided)]
    assert (award.standstill_ends, award.standstill_ground) == (NOW, StandstillGround.SOLE_TENDERER)
    assert contract_may_be_signed(procedure.evaluation, LOT, NOW)


def test_the_sole_tenderer_ground_fails_with_two_tenderers_and_the_full_standstill_applies() -> (
    None
):
    """Two bids for the lot: the ground does not hold, so the award waits the legal 10 days."""
    sole = facts(standstill_days=0).model_copy(
        update={"standstill_ground": StandstillGround.SOLE_TENDERER}
    )
    procedure = awarded(sole, bid("a", "900.00"), bid("b", "950.00"))
    [award] = [e for e in procedure.events if isinstance(e, AwardDecided)]
    ends = datetime(2030, 5, 14, 21, 0, tzinfo=UTC)
    assert (award.standstill_ends, award.standstill_ground) == (ends, None)
    assert not contract_may_be_signed(procedure.evaluation, LOT, ends - HOUR)
    assert contract_may_be_signed(procedure.evaluation, LOT, ends)
