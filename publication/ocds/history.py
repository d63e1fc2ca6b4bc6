"""A procedure's history folded into its releases: which events write one, with which tags.

**Snapshots.** Each release carries everything public at its moment (tender, awards,
contracts, parties), and its ``tag`` names what the event changed. A release thus reads on
its own, and merging any prefix of them by the OCDS rules gives the state at that point.
``date`` is when the event was recorded.
"""

from collections.abc import Mapping, Sequence

from procurement import enquiries
from publication.ocds import (
    awarding,
    bidders,
    clarifying,
    conditions,
    contracting,
    remedies,
    tendering,
)
from publication.ocds.json_text import copied
from publication.ocds.parties import parties_of, reference
from publication.ocds.procedure import Handler, Procedure, release_id
from publication.ocds.registrations import PartyInfo
from publication.ocds.standard import LANGUAGE, Release, iso
from schemas.conditions_complaints import (
    ConditionsComplaintDismissed,
    ConditionsComplaintFiled,
    ConditionsComplaintUpheld,
)
from schemas.contracts import (
    ContractActivated,
    ContractAmended,
    ContractCompleted,
    ContractDrawn,
    ContractSigned,
    ContractTerminated,
    MilestoneRecorded,
    PaymentRecorded,
)
from schemas.documents import TenderDocumentPublished
from schemas.enquiries import EnquiryAnswered, EnquiryAsked
from schemas.evaluation import (
    AbnormallyLowFlagged,
    AuctionResultRecorded,
    AwardAnnulled,
    AwardDecided,
    BidDisqualified,
    BidQualified,
    ComplaintDismissed,
    ComplaintFiled,
    ComplaintUpheld,
    EvaluationStarted,
    JustificationAccepted,
    JustificationRejected,
    LotCancelled,
    LotUnsuccessful,
    ProcedureCancelled,
)
from schemas.events import (
    BidOpened,
    BidRejected,
    BidsOpened,
    Envelope,
    Event,
    TenderCancelled,
    TenderClosed,
    TenderDeadlineExtended,
    TenderDetailsAmended,
    TenderPublished,
    TenderRequirementsAmended,
    TenderUnsuccessful,
)


def releases(history: Sequence[Envelope], parties: Mapping[str, PartyInfo]) -> list[Release]:
    """One release per event of the procedure that changes public information, in order."""
    if not history:
        return []
    procedure = Procedure(ocid=history[0].aggregate_id.partition(":")[0], parties=parties)
    written: list[Release] = []
    newest: Release | None = None  # it shares the procedure's state until copied
    for envelope in history:
        if newest is not None:  # the events to come must not change a release written
            written.append(copied(newest))
            newest = None
        tags = _apply(procedure, envelope)
        if tags:
            newest = _release(procedure, envelope, tags)
            procedure.last_release = newest["id"]
    if newest is not None:  # no event comes after it: nothing can change it, no copy
        written.append(newest)
    return written


def _apply(procedure: Procedure, envelope: Envelope) -> list[str]:
    """Apply the event and say which tags its release has; none: no release."""
    handler = _HANDLERS.get(type(envelope.event))
    procedure.clarifications = enquiries.evolve(
        procedure.clarifications, envelope.event, envelope.occurred_at
    )
    if handler is None:  # bid log internals, evaluation steps, auctions, parties
        return []
    status = tendering.tender_status(procedure) if procedure.tender else None
    tags = handler(procedure, envelope)
    tender_tagged = any(tag.startswith("tender") for tag in tags)
    if tags and status and status != tendering.tender_status(procedure) and not tender_tagged:
        tags.append("tenderUpdate")  # an award or a lot's cancellation moved the tender too
    return tags


def _release(procedure: Procedure, envelope: Envelope, tags: list[str]) -> Release:
    tender = procedure.published
    release: Release = {
        "ocid": procedure.ocid,
        "id": release_id(procedure, envelope),
        "date": iso(envelope.occurred_at),
        "tag": tags,
        "initiationType": "tender",
        "language": LANGUAGE,
        "parties": parties_of(procedure),
        "buyer": reference(procedure, tender.buyer_id),
        "tender": tendering.tender_section(procedure)
        | remedies.award_period(procedure)
        | conditions.complaints_section(procedure),
    }
    if procedure.tenderers_public:
        release["bids"] = {"details": bidders.bid_details(procedure)}
    if procedure.awards:
        release["awards"] = list(procedure.awards.values())
    if procedure.contracts:
        release["contracts"] = [
            contracting.contract_of(procedure, key) for key in procedure.contracts
        ]
    return release


_HANDLERS: dict[type[Event], Handler] = {
    TenderPublished: tendering.published,
    TenderDetailsAmended: tendering.amended,
    TenderRequirementsAmended: tendering.amended,
    TenderDeadlineExtended: tendering.amended,
    TenderCancelled: conditions.tender_cancelled(tendering.tender_moved("tenderCancellation")),
    TenderClosed: tendering.tender_moved("tenderUpdate"),
    TenderUnsuccessful: awarding.tender_unsuccessful,
    TenderDocumentPublished: clarifying.document_published,
    EnquiryAsked: clarifying.enquired,
    EnquiryAnswered: clarifying.enquired,
    BidOpened: bidders.bidder,
    BidRejected: bidders.bidder,
    BidQualified: bidders.bid_judged,
    BidDisqualified: bidders.bid_judged,
    JustificationRejected: bidders.bid_judged,
    EvaluationStarted: bidders.evaluation_started,
    AbnormallyLowFlagged: bidders.abnormally_low_flagged,
    JustificationAccepted: bidders.bid_judged,
    AuctionResultRecorded: bidders.auction_result,
    BidsOpened: bidders.opened,
    AwardDecided: awarding.awarded,
    AwardAnnulled: awarding.award_annulled,
    LotUnsuccessful: awarding.lot_unsuccessful,
    ComplaintFiled: remedies.complaint_filed,
    ComplaintUpheld: remedies.complaint_upheld,
    ComplaintDismissed: remedies.complaint_dismissed,
    ConditionsComplaintFiled: conditions.filed,
    ConditionsComplaintUpheld: conditions.decided,
    ConditionsComplaintDismissed: conditions.decided,
    LotCancelled: remedies.cancelled(awarding.lot_cancelled),
    ProcedureCancelled: remedies.cancelled(awarding.procedure_cancelled),
    ContractDrawn: contracting.contract_drawn,
    ContractSigned: contracting.contract_signed,
    ContractActivated: contracting.contract_event("contract"),
    ContractAmended: contracting.contract_amended,
    MilestoneRecorded: contracting.milestone_recorded,
    PaymentRecorded: contracting.contract_event("implementation"),
    ContractCompleted: contracting.contract_event("contractTermination"),
    ContractTerminated: contracting.contract_event("contractTermination"),
}


# What the mapping reads of a procedure's history, by event type: everything else (the sealed
# bids above all) never reaches it. The quiet ones only feed a later release.
READS = tuple(event_type.__name__ for event_type in _HANDLERS)
QUIET = frozenset(
    {
        "BidOpened",
        "BidRejected",
        "BidQualified",
        "BidDisqualified",
        "JustificationRejected",
        "EvaluationStarted",
        "AbnormallyLowFlagged",
        "JustificationAccepted",
        "AuctionResultRecorded",
        "ContractSigned",
    }
)
