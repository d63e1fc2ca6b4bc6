"""The procedural rules a tender is held to, as data the deployment can set.

The defaults follow Directive 2014/24/EU for an open procedure with electronic submission:
at least 30 days to submit (Article 27), and, when the procurement documents change
significantly, a deadline extended so that bidders can take the change into account
(Article 47(3)).
"""

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class ProcedureRules:
    minimum_tender_period: timedelta = timedelta(days=30)
    minimum_period_after_significant_amendment: timedelta = timedelta(days=10)
