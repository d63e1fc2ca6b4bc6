"""What bidders are told about the evaluation."""

from schemas.evaluation import AwardDecided, ClarificationRequested, JustificationRequested
from schemas.events import Event


def notices(event: Event) -> list[tuple[str, str]]:
    """What each bidder is told, as (bidder id, message): the award with the reasons, and
    the questions put to them."""
    match event:
        case AwardDecided():
            return _award_notices(event)
        case ClarificationRequested():
            return [
                (
                    event.bidder_id,
                    f"The evaluation committee asks about bid {event.bid_id} "
                    f"({event.request_id}), to answer by {event.respond_by.isoformat()}: {event.question}",
                )
            ]
        case JustificationRequested():
            return [
                (
                    event.bidder_id,
                    f"The price of bid {event.bid_id} for lot {event.lot_id} appears abnormally low. "
                    f"Justify it by {event.respond_by.isoformat()}: {event.question}",
                )
            ]
    return []


def _award_notices(award: AwardDecided) -> list[tuple[str, str]]:
    winner = award.ranking[0]
    ends = award.standstill_ends.isoformat()
    told = [
        (
            award.bidder_id,
            f"Bid {award.bid_id} won lot {award.lot_id} with {winner.total} points, for "
            f"{award.value.amount} {award.value.currency}. The contract may be signed once the "
            f"standstill ends, {ends}, if no complaint is upheld.",
        )
    ]
    for loser in award.unsuccessful:
        told.append(
            (
                loser.bidder_id,
                f"Bid {loser.bid_id} did not win lot {award.lot_id}: {loser.reason}. "
                f"Lot {award.lot_id} was awarded to bid {award.bid_id} with {winner.total} points. "
                f"You may complain until {ends}.",
            )
        )
    return told
