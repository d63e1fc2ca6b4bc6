"""What bidders, and the buyer, are told about the evaluation."""

from procurement.evaluation.endings import annulment_grounds
from procurement.evaluation.state import Evaluation
from schemas.evaluation import (
    AwardAnnulled,
    AwardDecided,
    ClarificationRequested,
    ComplaintDismissed,
    ComplaintUpheld,
    JustificationRequested,
)
from schemas.events import Event


def notices(event: Event, state: Evaluation | None = None) -> list[tuple[str, str]]:
    """What each party is told, as (party id, message): the award with the reasons, its
    annulment, the questions put to bidders, and, given the evaluation's ``state`` before the
    event, the review body's decision on a complaint (to the complainant, the buyer and the
    winner). A lot that ends unsuccessful is told to its bidders by ``publication.notices``,
    which knows who they are."""
    match event:
        case AwardDecided():
            return _award_notices(event)
        case AwardAnnulled():
            return [
                (
                    event.bidder_id,
                    f"The award of lot {event.lot_id} to bid {event.bid_id} was annulled: "
                    f"{annulment_grounds(event.reason_code)}. {event.reason} "
                    "Your bid no longer takes part in the lot's ranking.",
                )
            ]
        case ComplaintUpheld() | ComplaintDismissed() if state is not None:
            return _decision_notices(event, state)
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


def _decision_notices(
    event: ComplaintUpheld | ComplaintDismissed, state: Evaluation
) -> list[tuple[str, str]]:
    complaint = state.complaints.get(event.complaint_id)
    if complaint is None:
        return []
    about = f"the {complaint.subject} of lot {event.lot_id}"
    if isinstance(event, ComplaintUpheld):
        outcome = f"upheld it ({event.remedy.value.replace('_', ' ')})"
    else:
        outcome = "dismissed it"
    message = (
        f"The review body decided on complaint {complaint.complaint_id} about {about}, "
        f"filed by {complaint.bidder_id}: it {outcome}. Its reasons: {event.reason}"
    )
    award = state.lots[event.lot_id].award
    told = [complaint.bidder_id, state.facts.buyer_id, *([award.bidder_id] if award else [])]
    return [(party, message) for party in dict.fromkeys(told)]
