"""When a tender's questions close: at the end of its enquiry period, which the buyer may
set at publication and which otherwise ends ``enquiry_period_before_deadline`` before the
submission deadline (``procurement.rules``)."""

from datetime import datetime

from procurement.errors import Rejected
from procurement.rules import ProcedureRules, describe


def enquiry_period_must_end_in_time(
    deadline: datetime, asked: datetime | None, now: datetime, rules: ProcedureRules
) -> datetime:
    """The enquiry period's end for a tender published now, ``asked`` or the default."""
    latest = deadline - rules.enquiry_period_before_deadline
    if asked is None:
        return latest
    if asked <= now:
        msg = (
            f"the enquiry period must end after now ({now.isoformat()}), not at {asked.isoformat()}"
        )
        raise Rejected(msg, code="enquiry_period_in_past")
    if asked > latest:
        msg = (
            f"the enquiry period must end at least {describe(rules.enquiry_period_before_deadline)} "
            f"before the submission deadline, by {latest.isoformat()}, so that answers reach "
            f"every bidder in time; {asked.isoformat()} is too late"
        )
        raise Rejected(msg, code="enquiry_period_too_late")
    return asked
