"""Every Kafka topic of the platform, its partition count, and which events go where.

This is the one place to read or change the topology. Events are keyed by aggregate id,
so all events of one tender land on one partition and stay in order.
"""

from dataclasses import dataclass

from schemas.auction import AUCTION_EVENTS
from schemas.claims import CLAIM_EVENTS
from schemas.contracts import CONTRACT_EVENTS
from schemas.evaluation import EVALUATION_EVENTS
from schemas.events import EVENT_TYPES

# The largest record the platform writes: an EvaluationStarted carries every opened bid of
# a tender (1.7 MB for 10,000 bids), over Kafka's 1 MB default. Topics are created with
# this limit and the relay's producer allows it.
MAX_MESSAGE_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class Topic:
    name: str
    partitions: int
    event_types: frozenset[str]
    # How long a projection gathers events into one transaction: longer batches under load
    # against a little delay for each event.
    batch_seconds: float = 0.015


TENDERS = Topic(
    name="procurement.tenders",
    partitions=6,
    event_types=frozenset(
        {
            "TenderPublished",
            "TenderDetailsAmended",
            "TenderRequirementsAmended",
            "TenderDeadlineExtended",
            "TenderCancelled",
            "TenderClosed",
        }
    ),
)
PARTIES = Topic(
    name="procurement.parties",
    partitions=3,
    event_types=frozenset(
        {"AgencyRegistered", "OfficerRegistered", "SupplierRegistered", "CommitteeKeysRegistered"}
        | {cls.__name__ for cls in CLAIM_EVENTS}
    ),
)
# Sealed bids and their opening, keyed by "<ocid>:bids". Before the opening, records here
# carry only ciphertexts and digests.
BIDS = Topic(
    name="procurement.bids",
    partitions=6,
    event_types=frozenset(
        {
            "OpeningKeyIssued",
            "BidSubmitted",
            "BidWithdrawn",
            "BidLogSealed",
            "OpeningShareAccepted",
            "BidOpened",
            "BidRejected",
            "BidsOpened",
        }
    ),
)

# Evaluation, award, standstill and complaints, keyed by "<ocid>:evaluation".
EVALUATIONS = Topic(
    name="procurement.evaluations",
    partitions=6,
    event_types=frozenset(cls.__name__ for cls in EVALUATION_EVENTS),
)

# Electronic reverse auctions, keyed by "<ocid>:auction:<lot_id>". Each price is a bidder's
# rank changing live, so its projection waits for no batch.
AUCTIONS = Topic(
    name="procurement.auctions",
    partitions=6,
    event_types=frozenset(cls.__name__ for cls in AUCTION_EVENTS),
    batch_seconds=0.002,
)

# Contracts, keyed by their contract id.
CONTRACTS = Topic(
    name="procurement.contracts",
    partitions=3,
    event_types=frozenset(cls.__name__ for cls in CONTRACT_EVENTS),
)

TOPICS: tuple[Topic, ...] = (TENDERS, PARTIES, BIDS, EVALUATIONS, AUCTIONS, CONTRACTS)

TOPIC_OF_EVENT: dict[str, str] = {
    event_type: topic.name for topic in TOPICS for event_type in topic.event_types
}

_unrouted = set(EVENT_TYPES) - set(TOPIC_OF_EVENT)
assert not _unrouted, f"events with no topic: {sorted(_unrouted)}"
