"""The procedural rules a tender is held to, as data the deployment can set.

The defaults follow Directive 2014/24/EU for an open procedure with electronic submission:
at least 30 days to submit (Article 27), and, when the procurement documents change
significantly, a deadline extended so that bidders can take the change into account
(Article 47(3)); and an electronic reverse auction that starts no sooner than two working
days after its invitations are sent (Article 35(5); two days here). The standstill between
an award and its contract lasts at least 10 calendar days (Directive 89/665/EEC, Article
2a(2), the award notice being sent electronically); test and demonstration stacks shorten it.
Questions close ``enquiry_period_before_deadline`` before the submission deadline, so that
their answers can reach every bidder at least six days before it (Article 47(3)(a), Article
53(2)); an answer later than ``answer_before_deadline`` extends the deadline to leave that
much after it.
"""

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class ProcedureRules:
    minimum_tender_period: timedelta = timedelta(days=30)
    minimum_period_after_significant_amendment: timedelta = timedelta(days=10)
    minimum_auction_notice: timedelta = timedelta(days=2)
    minimum_standstill_days: int = 10
    enquiry_period_before_deadline: timedelta = timedelta(days=10)
    answer_before_deadline: timedelta = timedelta(days=6)
    questions_per_supplier: int = 20  # per tender: more is flooding the buyer, not asking


def describe(period: timedelta) -> str:
    """A period as people say it: ``30 days``, ``12 hours``, ``90 seconds``."""
    seconds = int(period.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"
