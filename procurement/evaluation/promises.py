"""What a bid promises about itself, checked before the committee admits it.

A bid holds until its ``valid_until`` (Directive 2014/24/EU, Article 58 and the procurement
documents; on ProZorro and SICAP the bidder extends it on the buyer's request), and its
self-declaration (the ESPD, Article 59) says that no exclusion ground applies (Article 57)
and that the selection criteria are met (Article 58). When one of them fails, the committee
may still admit the bid, but only by recording why: self-cleaning measures (Article 57(6)),
validity extended on request, a criterion met by other means (Article 63, reliance on other
entities). Rejecting such a bid needs nothing more than its reason.
"""

from dataclasses import dataclass
from datetime import datetime

from procurement.errors import WrongState
from schemas.evaluation import OpenedBid


@dataclass(frozen=True)
class BrokenPromise:
    code: str
    what: str


def broken_promises(bid: OpenedBid, now: datetime) -> list[BrokenPromise]:
    """What the bid promised about itself that does not hold at ``now``, in words."""
    broken = []
    if bid.valid_until is not None and bid.valid_until < now.date():
        broken.append(
            BrokenPromise("validity_expired", f"the bid was valid until {bid.valid_until}")
        )
    if not bid.no_exclusion_grounds:
        broken.append(
            BrokenPromise("exclusion_ground_declared", "the bidder declared an exclusion ground")
        )
    if not bid.meets_selection_criteria:
        broken.append(
            BrokenPromise(
                "selection_criteria_not_met", "the bidder declared it fails a selection criterion"
            )
        )
    return broken


def bid_whose_promises_fail_is_admitted_only_with_a_reason(
    bid: OpenedBid, reason: str | None, now: datetime
) -> None:
    broken = broken_promises(bid, now)
    if broken and reason is None:
        what = "; ".join(promise.what for promise in broken)
        msg = (
            f"bid {bid.bid_id} cannot be qualified as it stands: {what}. Reject it, or admit it "
            "with a reason the committee records (self-cleaning under Article 57(6), validity "
            "extended by the bidder on request, a criterion met by other means)"
        )
        raise WrongState(msg, code=broken[0].code)
