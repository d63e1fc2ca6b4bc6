"""The transparency log of the procurement history: its formats and rules, with no I/O.

One append-only Merkle log (RFC 9162 hashing, ``bidding.merkle``) of the platform's events.
Each leaf is an **entry**, a commitment to one **event document**; the platform signs a
**tree head** after each batch it appends. The document of an entry is served when it may
be public; until then the entry alone shows that the event exists and cannot change.

- entry: ``{"aggregate_id", "event_id", "event_sha256", "leaf_index", "recorded_at",
  "sequence", "type"}``; its leaf data is its canonical JSON (``bidding.keys``);
- event document: ``{"aggregate_id", "event_id", "payload", "recorded_at", "sequence",
  "type"}``, ``payload`` the event's envelope as stored; ``event_sha256`` is the SHA-256 of
  its canonical JSON;
- tree head: ``{"purpose": HEAD_PURPOSE, "root", "timestamp", "tree_size"}`` signed with
  Ed25519 by the platform key.

It is also the key log: every event recording a committee member's keys, and each
committee's naming and confirmations, are entries (``records_committee_keys``).

docs/transparency.md is the full description, with a worked example.
"""

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bidding import keys, merkle
from procurement.evaluation import evolve as evolve_evaluation
from procurement.evaluation.state import Evaluation
from schemas.base import Event
from schemas.events import EVENT_TYPES

HEAD_PURPOSE = "procurement-transparency-head/1"

# Never logged: who registered (parties and their credentials), and what would show how
# many bids or quotes a procedure has before its deadline. A bid log is logged from its
# seal on; the sealed root commits to every bid, and the opening's events show them all.
PRIVATE_TOPICS = frozenset({"procurement.parties"})
BID_LOG_FROM_THE_SEAL = frozenset(
    {
        "BidLogSealed",
        "OpeningShareAccepted",
        "OpeningSharesAccepted",
        "BidOpened",
        "BidRejected",
        "BidsOpened",
    }
)
NEVER_LOGGED = frozenset({"QuoteSubmitted"})  # QuotesOpened carries every quote at once

# The key log. A party event that records a committee member's keys is logged, the one
# exception to PRIVATE_TOPICS: a client seals shares only to keys the log holds, and a
# member checks the log for keys it does not hold. The committee's naming and confirmations
# are logged at once, before the seal: they tell nothing of the bids.
COMMITTEE_KEY_EVENTS = frozenset({"CommitteeKeysRegistered"})
COMMITTEE_EVENTS = frozenset({"CommitteeNamed", "CommitteeConfirmed"})

# Why a logged event's document is not served yet.
EVALUATION_DECIDED = "evaluation_decided"  # every lot awarded, unsuccessful or cancelled
AUCTION_CLOSED = "auction_closed"  # the auction closed or was cancelled
NEVER = "never"  # it names who asked a question, which stays private; the entry is public
DECIDED_LOT_STATUSES = frozenset({"awarded", "suspended", "unsuccessful", "cancelled"})


def rfc3339(moment: datetime) -> str:
    """UTC with microseconds and a ``Z``: ``2026-12-07T05:11:01.123456Z``, one text per instant."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def is_logged(event_type: str) -> bool:
    """Whether events of this type enter the log (the others never do, at any time)."""
    if event_type in COMMITTEE_EVENTS or records_committee_keys(event_type):
        return True
    cls = EVENT_TYPES.get(event_type)
    if cls is None or cls.topic in PRIVATE_TOPICS or event_type in NEVER_LOGGED:
        return False
    if cls.topic == "procurement.bids":
        return event_type in BID_LOG_FROM_THE_SEAL
    return True


def held_until_the_close(event_type: str, taking_bids: bool) -> bool:
    """A confirmation recorded once the log takes bids (k members had confirmed before it)
    is logged at the log's seal, or its tender's cancellation, instead of at once: its
    sequence number would count the bid entries before it, and logging it at once or not
    would tell whether there are any (Directive 2014/24/EU Art. 22(3)). Before k
    confirmations no bid can be taken, so everything logged at once precedes every bid."""
    return event_type == "CommitteeConfirmed" and taking_bids


def bid_log_closed_by(aggregate_id: str, event_type: str) -> str | None:
    """The bid log whose held committee events this event releases: the log's seal, or the
    cancellation of its tender (after which no bid is taken or counted)."""
    if event_type == "BidLogSealed":
        return aggregate_id
    if event_type == "TenderCancelled":
        return f"{aggregate_id}:bids"
    return None


def records_committee_keys(event_type: str) -> bool:
    """A key log entry: a party event recording a committee member's encryption key (named,
    or any later party event with such a key, so that a change of keys is never missed)."""
    if event_type in COMMITTEE_KEY_EVENTS:
        return True
    cls = EVENT_TYPES.get(event_type)
    return (
        cls is not None
        and cls.topic in PRIVATE_TOPICS
        and any(name.endswith("encryption_key") for name in cls.model_fields)
    )


def event_document(
    aggregate_id: str,
    event_id: str,
    sequence: int,
    event_type: str,
    recorded_at: str,
    envelope: Mapping[str, Any],
) -> dict[str, Any]:
    """The event as the public may read it: its envelope as stored, and where it stands."""
    return {
        "aggregate_id": aggregate_id,
        "event_id": event_id,
        "payload": dict(envelope),
        "recorded_at": recorded_at,
        "sequence": sequence,
        "type": event_type,
    }


def document_sha256(document: Mapping[str, Any]) -> str:
    return hashlib.sha256(keys.canonical_json(document)).hexdigest()


@dataclass(frozen=True)
class Entry:
    """One leaf of the log: which event, where in its aggregate, and its document's digest."""

    leaf_index: int
    aggregate_id: str
    event_id: str
    sequence: int
    type: str
    recorded_at: str
    event_sha256: str

    def as_json(self) -> dict[str, Any]:
        return {
            "aggregate_id": self.aggregate_id,
            "event_id": self.event_id,
            "event_sha256": self.event_sha256,
            "leaf_index": self.leaf_index,
            "recorded_at": self.recorded_at,
            "sequence": self.sequence,
            "type": self.type,
        }

    def leaf_data(self) -> bytes:
        return keys.canonical_json(self.as_json())

    def leaf_hash(self) -> bytes:
        return merkle.leaf_hash(self.leaf_data())


def entry_for(leaf_index: int, document: Mapping[str, Any]) -> Entry:
    """The entry that commits to ``document`` at ``leaf_index``."""
    return Entry(
        leaf_index=leaf_index,
        aggregate_id=document["aggregate_id"],
        event_id=document["event_id"],
        sequence=document["sequence"],
        type=document["type"],
        recorded_at=document["recorded_at"],
        event_sha256=document_sha256(document),
    )


def entry_from_json(value: Mapping[str, Any]) -> Entry:
    """An entry as served (extra fields, such as ``leaf_hash``, are not part of it)."""
    return Entry(
        leaf_index=int(value["leaf_index"]),
        aggregate_id=str(value["aggregate_id"]),
        event_id=str(value["event_id"]),
        sequence=int(value["sequence"]),
        type=str(value["type"]),
        recorded_at=str(value["recorded_at"]),
        event_sha256=str(value["event_sha256"]),
    )


# Signed tree heads


@dataclass(frozen=True)
class SignedHead:
    tree_size: int
    root: str  # hex
    timestamp: str  # RFC 3339, UTC, "Z"
    key_id: str
    signature: bytes

    def fields(self) -> dict[str, Any]:
        return head_fields(self.tree_size, self.root, self.timestamp)


def head_fields(tree_size: int, root: str, timestamp: str) -> dict[str, Any]:
    """What a head's signature covers, with ``purpose`` added by ``bidding.keys.sign``."""
    return {"root": root, "timestamp": timestamp, "tree_size": tree_size}


def sign_head(
    key: Ed25519PrivateKey, tree_size: int, root: bytes, timestamp: datetime
) -> SignedHead:
    text = rfc3339(timestamp)
    return SignedHead(
        tree_size=tree_size,
        root=root.hex(),
        timestamp=text,
        key_id=keys.key_id(keys.raw_public(key)),
        signature=keys.sign(key, HEAD_PURPOSE, head_fields(tree_size, root.hex(), text)),
    )


def head_valid(head: SignedHead, public_key: bytes) -> bool:
    return head.key_id == keys.key_id(public_key) and keys.verify(
        public_key, head.signature, HEAD_PURPOSE, head.fields()
    )


class Frontier:
    """The roots of the perfect subtrees a log of ``size`` leaves splits into, largest
    first: enough to append leaves and compute the root without the older leaves."""

    def __init__(self) -> None:
        self.size = 0
        self._subtrees: list[tuple[int, bytes]] = []  # (leaves, root)

    def extend(self, leaves: Iterable[bytes]) -> None:
        for leaf in leaves:
            count, node = 1, leaf
            while self._subtrees and self._subtrees[-1][0] == count:
                left_count, left = self._subtrees.pop()
                count, node = left_count + count, merkle.node_hash(left, node)
            self._subtrees.append((count, node))
            self.size += 1

    def root(self) -> bytes:
        if not self._subtrees:
            return merkle.EMPTY_ROOT
        node = self._subtrees[-1][1]
        for _count, left in reversed(self._subtrees[:-1]):
            node = merkle.node_hash(left, node)
        return node


# When a logged event's document may be served


@dataclass(frozen=True)
class Logged:
    """One logged event of an aggregate, as the rules see it (None: its stored JSON no
    longer reads as an event, so nothing can be decided from it)."""

    sequence: int
    type: str
    event: Event | None


def withheld(topic: str, events: Sequence[Logged]) -> dict[int, str]:
    """For the logged events of one aggregate (in sequence order), the sequence of each
    whose document is withheld, and until what: everything else is served."""
    if topic == "procurement.evaluations":
        decided = _last_fully_decided(events)
        return {
            e.sequence: EVALUATION_DECIDED
            for e in events
            if not _public(e.type) and (decided is None or e.sequence > decided)
        }
    if topic == "procurement.auctions":
        closed = any(e.type in {"AuctionClosed", "AuctionCancelled"} for e in events)
        return {} if closed else {e.sequence: AUCTION_CLOSED for e in events if not _public(e.type)}
    if topic == "procurement.tenders":  # the questions, published by their answers, asker-free
        return {e.sequence: NEVER for e in events if not _public(e.type)}
    return {}


def topic_of(event_type: str) -> str | None:
    cls = EVENT_TYPES.get(event_type)
    return None if cls is None else cls.topic


def _public(event_type: str) -> bool:
    cls = EVENT_TYPES.get(event_type)
    return cls is not None and bool(cls.public)


def _last_fully_decided(events: Sequence[Logged]) -> int | None:
    """The last sequence after which every lot of the evaluation was decided; events after
    an upheld complaint sent a lot back wait for the next decision."""
    state: Evaluation | None = None
    last = None
    for logged in events:
        if logged.event is None:
            break  # an unreadable event: what follows cannot be judged
        try:
            state = evolve_evaluation(state, logged.event)
        except Exception:  # an event the rules refuse: judge nothing after it
            break
        if state.lots and all(
            lot.status.value in DECIDED_LOT_STATUSES for lot in state.lots.values()
        ):
            last = logged.sequence
    return last


# The aggregates of one procedure


def belongs_to(ocid: str, aggregate_id: str) -> bool:
    """A tender's own aggregate is its ocid; the others are ``<ocid>:bids``,
    ``<ocid>:evaluation``, ``<ocid>:auction:<lot>``, ``<ocid>:contract:<lot>``,
    ``<ocid>:purchase`` and ``<ocid>:quotation``."""
    return aggregate_id == ocid or aggregate_id.startswith(f"{ocid}:")
