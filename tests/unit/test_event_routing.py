"""Which topic carries each event, what the public may see and what the savings follow are
read from the event classes; these sets, written out once, are the routing and visibility
the platform has today, so reading them from the classes changed none of them."""

from adapters.kafka.topology import TOPIC_OF_EVENT, TOPICS
from entrypoints.portal.reads import PUBLIC_EVENTS
from readmodels import savings_view
from schemas.events import EVENT_TYPES

ROUTING = {
    "procurement.tenders": {
        "TenderPublished",
        "TenderDetailsAmended",
        "TenderRequirementsAmended",
        "TenderDeadlineExtended",
        "TenderCancelled",
        "TenderClosed",
        "TenderUnsuccessful",
        "TenderDocumentPublished",
        "EnquiryAsked",
        "EnquiryAnswered",
    },
    "procurement.parties": {
        "AgencyRegistered",
        "OfficerRegistered",
        "SupplierRegistered",
        "CommitteeKeysRegistered",
        "RegistrationClaimed",
        "RegistrationClaimDecided",
    },
    "procurement.bids": {
        "CommitteeNamed",
        "CommitteeConfirmed",
        "BidSubmitted",
        "BidWithdrawn",
        "BidLogSealed",
        "OpeningSharesAccepted",
        "OpeningKeyIssued",  # legacy: read from stores sealed before committees
        "OpeningShareAccepted",
        "BidOpened",
        "BidRejected",
        "BidsOpened",
        "ReconfirmationRequested",
        "BidReconfirmed",
    },
    "procurement.evaluations": {
        "EvaluationStarted",
        "ClarificationRequested",
        "ClarificationAnswered",
        "BidQualified",
        "BidDisqualified",
        "QualityScored",
        "LotEvaluated",
        "LotReadyForAuction",
        "AuctionResultRecorded",
        "AbnormallyLowFlagged",
        "JustificationRequested",
        "JustificationSubmitted",
        "JustificationAccepted",
        "JustificationRejected",
        "AwardDecided",
        "ComplaintFiled",
        "ComplaintUpheld",
        "ComplaintDismissed",
        "LotCancelled",
        "ProcedureCancelled",
        "AwardAnnulled",
        "LotUnsuccessful",
        "ContractConcluded",
        "ConditionsComplaintFiled",
        "ConditionsComplaintUpheld",
        "ConditionsComplaintDismissed",
    },
    "procurement.auctions": {
        "AuctionScheduled",
        "AuctionOpened",
        "AuctionPriceAccepted",
        "AuctionPriceRejected",
        "AuctionClosed",
        "AuctionCancelled",
    },
    "procurement.contracts": {
        "ContractDrawn",
        "ContractSigned",
        "ContractActivated",
        "ContractAmended",
        "MilestoneRecorded",
        "PaymentRecorded",
        "ContractCompleted",
        "ContractTerminated",
    },
    "procurement.catalogue": {
        "CatalogueOfferPublished",
        "CatalogueOfferUpdated",
        "CatalogueOfferWithdrawn",
        "DirectPurchaseOrdered",
        "DirectPurchaseAccepted",
        "DirectPurchaseDeclined",
        "QuotesRequested",
        "QuoteSubmitted",
        "QuotesOpened",
    },
}

# Bids, their opening one by one, the committee's work, auction prices, signatures and
# payments stay out of a tender's public timeline: counts and outcomes say enough.
PUBLIC = {
    "TenderPublished",
    "TenderDetailsAmended",
    "TenderRequirementsAmended",
    "TenderDeadlineExtended",
    "TenderCancelled",
    "TenderDocumentPublished",  # the document's digest and name; its bytes are public too
    "EnquiryAnswered",  # the question and its answer, never who asked
    "TenderClosed",
    "TenderUnsuccessful",
    "CommitteeNamed",
    "CommitteeConfirmed",
    "BidLogSealed",
    "OpeningSharesAccepted",
    "OpeningKeyIssued",  # legacy, public as it was
    "BidsOpened",
    "AuctionScheduled",
    "AuctionOpened",
    "AuctionClosed",
    "AuctionCancelled",
    "AwardDecided",
    "ComplaintFiled",
    "ComplaintUpheld",
    "ComplaintDismissed",
    "LotCancelled",
    "ProcedureCancelled",
    "AwardAnnulled",
    "LotUnsuccessful",
    "ContractConcluded",
    "ConditionsComplaintFiled",
    "ConditionsComplaintUpheld",
    "ConditionsComplaintDismissed",
    "ContractDrawn",
    "ContractActivated",
    "ContractAmended",
    "ContractCompleted",
    "ContractTerminated",
    # The catalogue is public, and so is what is bought from it; a quote, until the opening.
    "CatalogueOfferPublished",
    "CatalogueOfferUpdated",
    "CatalogueOfferWithdrawn",
    "DirectPurchaseOrdered",
    "DirectPurchaseAccepted",
    "DirectPurchaseDeclined",
    "QuotesRequested",
    "QuotesOpened",
}

# The evaluation events after which a tender's awarded lots may differ.
CHANGES_AWARDED_LOTS = {
    "AwardDecided",
    "ComplaintFiled",
    "ComplaintUpheld",
    "ComplaintDismissed",
    "LotCancelled",
    "ProcedureCancelled",
    "AwardAnnulled",  # the annulled award no longer counts
    "LotUnsuccessful",
    "ContractConcluded",
}


def test_each_topic_carries_the_events_it_carries_today() -> None:
    """Routing read from the classes is the routing that was written out by hand."""
    carried = {topic.name: set(topic.event_types) for topic in TOPICS if topic.event_types}
    assert carried == ROUTING


def test_every_event_class_names_a_topic_that_exists() -> None:
    """An event on a topic no worker creates or reads would be recorded and never projected."""
    names = {topic.name for topic in TOPICS}
    assert {name: cls.topic for name, cls in EVENT_TYPES.items() if cls.topic not in names} == {}
    assert {name: cls.topic for name, cls in EVENT_TYPES.items()} == TOPIC_OF_EVENT


def test_the_public_timeline_shows_what_it_shows_today() -> None:
    """Visibility read from the classes: nothing sealed or internal became public."""
    assert len(PUBLIC_EVENTS) == len(set(PUBLIC_EVENTS))
    assert set(PUBLIC_EVENTS) == PUBLIC


def test_the_savings_follow_the_events_they_follow_today() -> None:
    """The savings rows are computed again after the same evaluation events as before."""
    assert savings_view.CHANGES == CHANGES_AWARDED_LOTS
