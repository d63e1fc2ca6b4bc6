"""Every Kafka topic of the platform and its partition count.

Which events go where is read from the event classes: each derives from its topic's base
class in ``schemas.base`` (whose docstring says the key). Events are keyed by aggregate
id, so all events of one tender land on one partition and stay in order.
"""

from dataclasses import dataclass

from schemas.base import (
    AuctionEvent,
    BidEvent,
    ContractEvent,
    EvaluationEvent,
    Event,
    PartyEvent,
    TenderEvent,
)
from schemas.catalogue import CatalogueEvent
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


def _topic(
    family: type[Event], partitions: int, batch_seconds: float = Topic.batch_seconds
) -> Topic:
    """The topic that carries every event derived from ``family``, as its classes say."""
    carried = frozenset(name for name, cls in EVENT_TYPES.items() if cls.topic == family.topic)
    return Topic(family.topic, partitions, carried, batch_seconds)


TENDERS = _topic(TenderEvent, partitions=6)
PARTIES = _topic(PartyEvent, partitions=3)
BIDS = _topic(BidEvent, partitions=6)
EVALUATIONS = _topic(EvaluationEvent, partitions=6)
# Each auction price is a bidder's rank changing live, so its projection waits for no batch.
AUCTIONS = _topic(AuctionEvent, partitions=6, batch_seconds=0.002)
CONTRACTS = _topic(ContractEvent, partitions=3)
CATALOGUE = _topic(CatalogueEvent, partitions=3)  # offers by offer id, procedures by ocid

TOPICS: tuple[Topic, ...] = (TENDERS, PARTIES, BIDS, EVALUATIONS, AUCTIONS, CONTRACTS, CATALOGUE)

TOPIC_OF_EVENT: dict[str, str] = {
    event_type: topic.name for topic in TOPICS for event_type in topic.event_types
}

# An event whose topic is missing here would be recorded and never published: refuse to start.
_unrouted = {name: cls.topic for name, cls in EVENT_TYPES.items() if name not in TOPIC_OF_EVENT}
if _unrouted:
    msg = f"events on a topic that TOPICS does not list: {_unrouted}"
    raise RuntimeError(msg)
