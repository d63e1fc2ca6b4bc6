"""What bidders are told about their own bids: a reconfirmation asked for after a
significant amendment, and a bid rejected at the opening, with the reason."""

from schemas.events import BidRejected, Event
from schemas.reconfirmations import ReconfirmationRequested


def notices(event: Event) -> list[tuple[str, str]]:
    """What each bidder is told, as (bidder id, message)."""
    match event:
        case ReconfirmationRequested():
            return [
                (
                    event.bidder_id,
                    f"The tender's requirements were amended ({event.reason}). Your bid "
                    f"{event.bid_id} (version {event.version}) will not be opened unless you "
                    "reconfirm it (procurement bid reconfirm) or send a new version before the "
                    f"deadline. The amended requirements' digest: {event.requirements_sha256}.",
                )
            ]
        case BidRejected():
            return [
                (
                    event.bidder_id,
                    f"Your bid {event.bid_id} (version {event.version}) was rejected at the "
                    f"opening ({event.reason_code}): {event.reason}. The other bids go on to "
                    "the evaluation without it.",
                )
            ]
    return []
