"""A tender's bid log as events: its state, how each event changes it, and what each command
decides. Pure: no clock, no database, no randomness (bid ids are passed in).

The log follows its tender: the deadline, the lots and a cancellation come from the
tender's own events, the rest from the log's events (``<ocid>:bids``). A state may hold
only the part a decision needs (some bidders' entries, the leaves only when sealing): the
PostgreSQL edge keeps a snapshot row and an index of entries from the same events and loads
that part; the in-memory store replays everything. Either way the decisions are made here.
"""

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from bidding import committee_log, committee_sealing, keys, merkle, receipts, reconfirmation
from bidding.committee_log import Committee
from bidding.entries import BidLimits, Entry, Sent, bid_must_stay_within_the_limits, check_order
from bidding.log import BidLog, LogStatus, check_bid, check_withdrawal
from bidding.opening import Opened
from bidding.reconfirmation import Awaited
from procurement.errors import WrongState
from procurement.tender import Tender
from schemas.bids import BidWithdrawal, Receipt, SealedBid
from schemas.commands import Actor
from schemas.committee import (
    CommitteeConfirmation,
    CommitteeConfirmed,
    CommitteeMaterial,
    CommitteeMember,
    CommitteeNamed,
    OpeningSharesAccepted,
)
from schemas.documents import TenderDocumentPublished
from schemas.events import (
    BidLogSealed,
    BidOpened,
    BidRejected,
    BidsOpened,
    BidSubmitted,
    BidWithdrawn,
    Event,
    OpeningKeyIssued,
    OpeningShareAccepted,
    TenderCancelled,
    TenderDeadlineExtended,
    TenderRequirementsAmended,
)
from schemas.reconfirmations import BidReconfirmation, BidReconfirmed, ReconfirmationRequested
from schemas.values import Requirements

OPEN, SEALED, OPENED, CANCELLED = (
    LogStatus.OPEN,
    LogStatus.SEALED,
    LogStatus.OPENED,
    LogStatus.CANCELLED,
)

# Which event may happen in which state, and the state it leads to. The log's own events
# outside this table are a corrupt history; a tender event outside it changes no status.
LIFECYCLE: dict[tuple[LogStatus, str], LogStatus] = {
    (OPEN, "CommitteeConfirmed"): OPEN,
    (OPEN, "BidSubmitted"): OPEN,
    (OPEN, "BidWithdrawn"): OPEN,
    (OPEN, "ReconfirmationRequested"): OPEN,
    (OPEN, "BidReconfirmed"): OPEN,
    (OPEN, "BidLogSealed"): SEALED,
    (OPEN, "TenderCancelled"): CANCELLED,
    (SEALED, "OpeningSharesAccepted"): SEALED,
    (SEALED, "OpeningShareAccepted"): SEALED,  # legacy: version 1's share of the opening key
    (SEALED, "BidOpened"): SEALED,
    (SEALED, "BidRejected"): SEALED,
    (SEALED, "BidsOpened"): OPENED,
    (SEALED, "TenderCancelled"): CANCELLED,
}
TENDER_EVENTS = ("TenderDeadlineExtended", "TenderRequirementsAmended", "TenderCancelled")

# What an entry's event and envelope hold beside its base64 ciphertext and signature: the
# receipt, ids, times and field names.
ENTRY_BYTES = 1024


def _kind(event: Event) -> str:
    return type(event).__name__  # each event class is named as its ``type``


def stored_size(event: BidSubmitted | BidWithdrawn) -> int:
    """What an entry takes in the store, as the limits count it: its base64 payload and a
    fixed allowance, reckoned without serializing the entry again."""
    payload = len(event.signature)
    if isinstance(event, BidSubmitted):
        payload += len(event.ciphertext)
    return 4 * -(-payload // 3) + ENTRY_BYTES


@dataclass(frozen=True)
class Ledger:
    """The bid log of one tender, or the part of it a decision needs."""

    ocid: str
    buyer_id: str
    deadline: datetime
    lots: frozenset[str]
    committee: Committee
    status: LogStatus = OPEN
    version: int = 1  # the last sequence of the log's own events
    size: int = 0  # entries in the log
    root: bytes | None = None
    entries: Mapping[str, tuple[Entry, ...]] = field(default_factory=dict)  # per bidder
    receipts: Mapping[tuple[str, int], Receipt] = field(default_factory=dict)
    digests: frozenset[bytes] = frozenset()  # ciphertexts already in the log
    leaves: tuple[bytes, ...] = ()  # Merkle leaves, in log order
    frontier: merkle.Frontier = ()  # the log's compact range: its root at O(log n) per entry
    handed_in: frozenset[str] = frozenset()  # officers whose shares were accepted
    sealing_version: int = 2  # 1: sealed to an opening key, before committees (legacy)
    # Per bidder: its current bid, sent before a significant amendment and not reconfirmed.
    unconfirmed: Mapping[str, Awaited] = field(default_factory=dict)

    @property
    def threshold(self) -> int:
        return self.committee.material.threshold

    @property
    def members(self) -> list[str]:
        """The committee's officers, in the material's order."""
        return [member.officer_id for member in self.committee.material.members]

    @property
    def log(self) -> BidLog:
        """The header the bid and share rules of ``bidding.log`` read."""
        return BidLog(
            ocid=self.ocid,
            buyer_id=self.buyer_id,
            deadline=self.deadline,
            status=self.status,
            lots=self.lots,
            committee=self.committee,
        )


def start(tender: Tender, named: CommitteeNamed) -> Ledger:
    """The log as naming the committee makes it: empty, open, following its tender; it
    takes bids once k members confirmed."""
    return Ledger(
        ocid=tender.ocid,
        buyer_id=tender.buyer_id,
        deadline=tender.submission_deadline,
        lots=frozenset(lot.id for lot in tender.requirements.lots),
        committee=Committee(named.material),
    )


LEGACY_CODE = "sealed_before_committees"


def start_legacy(tender: Tender, issued: OpeningKeyIssued) -> Ledger:
    """A log that began with an opening key (version 1 sealing). Its committee is recorded
    as it was, members and threshold, without keys of its own: it can never be confirmed,
    take a bid or be opened now, but its receipts and seal stay readable."""
    officers = sorted({share.officer_id for share in issued.shares})
    return Ledger(
        ocid=tender.ocid,
        buyer_id=tender.buyer_id,
        deadline=tender.submission_deadline,
        lots=frozenset(lot.id for lot in tender.requirements.lots),
        committee=legacy_committee(tender.ocid, officers, issued.threshold),
        sealing_version=1,
    )


def legacy_committee(ocid: str, officers: Iterable[str], threshold: int) -> Committee:
    """A version 1 committee as recorded: who held shares of the opening key, and how many
    opened it. Its members have no keys (never checked, never sealed to): it stays unconfirmed."""
    members = [
        CommitteeMember.model_construct(officer_id=officer, encryption_key=b"", signing_key=b"")
        for officer in sorted(officers)
    ]
    return Committee(
        CommitteeMaterial.model_construct(
            ocid=ocid, suite="x25519", threshold=threshold, members=members
        )
    )


def refuse_legacy(state: Ledger) -> None:
    """A version 1 log has no key shares for a committee to hand in: its bids were sealed
    to an opening key this platform no longer makes, so it takes no bid and cannot open."""
    if state.sealing_version == 1:
        msg = (
            f"the bids of {state.ocid} were sealed to an opening key before committees"
            " existed: they cannot be taken or opened under the committee scheme"
        )
        raise WrongState(msg, code=LEGACY_CODE)


def evolve(state: Ledger, event: Event) -> Ledger:
    """The log after one of its own events or one of its tender's."""
    kind = _kind(event)
    if kind in TENDER_EVENTS:
        return _follow_tender(state, event)
    after = LIFECYCLE.get((state.status, kind))
    if after is None:
        raise ValueError(f"{kind} cannot happen to a {state.status} bid log of {state.ocid}")
    state = replace(state, status=after, version=state.version + 1)
    if isinstance(event, BidSubmitted | BidWithdrawn):
        return _add_entry(state, event)
    if isinstance(event, BidLogSealed):
        return replace(state, root=bytes.fromhex(event.root))
    if isinstance(event, CommitteeConfirmed):
        return replace(state, committee=state.committee.with_confirmation(event.confirmation))
    if isinstance(event, OpeningSharesAccepted | OpeningShareAccepted):
        return replace(state, handed_in=state.handed_in | {event.officer_id})
    if isinstance(event, ReconfirmationRequested):
        awaited = reconfirmation.awaiting(event)
        return replace(state, unconfirmed={**state.unconfirmed, event.bidder_id: awaited})
    if isinstance(event, BidReconfirmed):
        return replace(state, unconfirmed=_without(state.unconfirmed, event.bidder_id))
    return state


def _without(unconfirmed: Mapping[str, Awaited], bidder_id: str) -> Mapping[str, Awaited]:
    return {bidder: awaited for bidder, awaited in unconfirmed.items() if bidder != bidder_id}


def replay(
    tender: Tender | None, own: Iterable[Event], followed: Iterable[Event] = ()
) -> Ledger | None:
    """The log from its tender, its own events and the tender's events since the naming."""
    history = list(own)
    if tender is None or not history:
        return None
    first, *rest = history
    if isinstance(first, OpeningKeyIssued):
        state = start_legacy(tender, first)
    else:
        assert isinstance(first, CommitteeNamed), (
            f"the bid log of {tender.ocid} starts with {_kind(first)}"
        )
        state = start(tender, first)
    for event in rest:
        state = evolve(state, event)
    for event in followed:
        state = _follow_tender(state, event)
    return state


def _follow_tender(state: Ledger, event: Event) -> Ledger:
    if isinstance(event, TenderDeadlineExtended):
        return replace(state, deadline=event.submission_deadline)
    if isinstance(event, TenderRequirementsAmended):
        return replace(state, lots=frozenset(lot.id for lot in event.requirements.lots))
    if isinstance(event, TenderCancelled):
        return replace(state, status=LIFECYCLE.get((state.status, _kind(event)), state.status))
    return state


def _add_entry(state: Ledger, event: BidSubmitted | BidWithdrawn) -> Ledger:
    receipt = event.receipt
    digest = bytes.fromhex(receipt.ciphertext_sha256) if receipt.ciphertext_sha256 else None
    entry = Entry(receipt.version, receipt.kind, digest, stored_size(event))
    mine = (*state.entries.get(receipt.bidder_id, ()), entry)
    tracked = len(state.leaves) == state.size  # a part of the log loaded without them: skip
    leaf = leaf_of(receipt, state.sealing_version)
    grows = merkle.frontier_matches(state.frontier, state.size)  # likewise
    return replace(
        state,
        size=state.size + 1,
        entries={**state.entries, receipt.bidder_id: mine},
        unconfirmed=_without(state.unconfirmed, receipt.bidder_id),  # a new entry replaces it
        receipts={**state.receipts, (receipt.bidder_id, receipt.version): receipt},
        digests=(state.digests | {digest}) if digest is not None else state.digests,
        leaves=(*state.leaves, leaf) if tracked else state.leaves,
        frontier=merkle.frontier_append(state.frontier, state.size, leaf)
        if grows
        else state.frontier,
    )


def leaf_of(receipt: Receipt, sealing_version: int) -> bytes:
    """A receipt's Merkle leaf as the log's sealing version hashed it."""
    if sealing_version == 1:  # version 1 receipts had no committee fields: hashed as they were
        legacy = receipt.model_dump(mode="json", exclude={"material_sha256", "shares_sha256"})
        return merkle.leaf_hash(keys.canonical_json(legacy))
    return receipts.leaf_hash(receipt)


@dataclass(frozen=True)
class Receipted:
    """A bid or withdrawal taken into the log (``event``), or found there already (``None``:
    the same submission again gets its first receipt)."""

    receipt: Receipt
    event: BidSubmitted | BidWithdrawn | None


def take(
    state: Ledger | None,
    item: SealedBid | BidWithdrawal,
    actor: Actor,
    received_at: datetime,
    *,
    bid_id: str,
    limits: BidLimits,
    measure: Callable[[BidSubmitted | BidWithdrawn], int] = stored_size,
) -> Receipted:
    """Decide a bid or a withdrawal: refused with the reason, found again, or a new entry.
    ``measure`` tells what the new entry would take in the store."""
    if state is not None:
        refuse_legacy(state)
    is_bid = isinstance(item, SealedBid)
    if isinstance(item, SealedBid):
        check_bid(state.log if state else None, item, actor, received_at)
        digest: bytes | None = hashlib.sha256(item.ciphertext).digest()
    else:
        check_withdrawal(state.log if state else None, item, actor, received_at)
        digest = None
    assert state is not None  # the checks refuse a missing log
    sent = Sent(item.ocid, item.bidder_id, item.version, digest)
    mine = state.entries.get(item.bidder_id, ())
    if check_order(mine, sent) is not None:
        return Receipted(state.receipts[(item.bidder_id, item.version)], None)
    if digest is not None and digest in state.digests:
        msg = "this ciphertext was already submitted to this tender: each bid is sealed afresh"
        raise WrongState(msg, code="duplicate_ciphertext")
    receipt = Receipt(
        kind="bid" if is_bid else "withdrawal",
        bid_id=bid_id,
        ocid=item.ocid,
        bidder_id=item.bidder_id,
        lots=item.lots if isinstance(item, SealedBid) else (),
        version=item.version,
        ciphertext_sha256=digest.hex() if digest is not None else None,
        material_sha256=item.material_sha256 if isinstance(item, SealedBid) else None,
        shares_sha256=committee_sealing.shares_sha256(item.key_shares)
        if isinstance(item, SealedBid)
        else None,
        received_at=received_at,
    )
    # The position stays with the entry, out of the receipt: a bidder who knew it would know
    # how many entries came before its own (Directive 2014/24/EU Art. 22(3)).
    event: BidSubmitted | BidWithdrawn = (
        BidSubmitted(
            receipt=receipt,
            log_index=state.size,
            ciphertext=item.ciphertext,
            key_commitment=item.key_commitment,
            material_sha256=item.material_sha256,
            key_shares=item.key_shares,
            signature=item.signature,
        )
        if isinstance(item, SealedBid)
        else BidWithdrawn(receipt=receipt, log_index=state.size, signature=item.signature)
    )
    bid_must_stay_within_the_limits(mine, sent, measure(event), limits)
    return Receipted(receipt, event)


def request_reconfirmation(
    state: Ledger | None,
    amended: TenderRequirementsAmended | TenderDocumentPublished,
    requirements: Requirements | None = None,
) -> list[Event]:
    """After a significant amendment, every current bid waits for its bidder's reconfirmation.
    ``state`` must hold the entries of every bidder; a document that changes the
    requirements needs the tender's ``requirements`` to name the amendment."""
    if state is None or state.status is not OPEN:
        return []
    if isinstance(amended, TenderRequirementsAmended):
        digest, reason = reconfirmation.requirements_sha256(amended.requirements), amended.reason
    elif amended.changes_requirements and requirements is not None:
        digest = reconfirmation.document_change_sha256(
            requirements, amended.document_id, amended.version, amended.sha256
        )
        reason = amended.reason or f"{amended.title} (version {amended.version}) was published"
    else:
        return []
    latest = [state.receipts[(bidder, mine[-1].version)] for bidder, mine in state.entries.items()]
    return list(reconfirmation.request_reconfirmation(latest, digest, reason))


def reconfirm(
    state: Ledger | None,
    item: BidReconfirmation,
    actor: Actor,
    received_at: datetime,
    *,
    signature_valid: bool,
) -> list[Event]:
    """A bidder's signed reconfirmation of its current bid; ``state`` holds its entries."""
    if state is not None:
        refuse_legacy(state)
    awaited = state.unconfirmed.get(item.bidder_id) if state else None
    receipt = next(
        (r for r in (state.receipts.values() if state else ()) if r.bid_id == item.bid_id), None
    )
    log = state.log if state else None
    return list(
        reconfirmation.reconfirm(log, awaited, receipt, item, actor, received_at, signature_valid)
    )


def seal(state: Ledger | None) -> list[Event]:
    """Fix an open log under the Merkle root of its leaves: nothing joins or leaves it after.
    ``state.leaves`` must be all of them. A log already sealed, opened or cancelled, or no
    log at all, is left as it is."""
    if state is None or state.status is not OPEN:
        return []
    assert len(state.leaves) == state.size, "sealing needs every leaf of the log"
    return [BidLogSealed(tree_size=state.size, root=merkle.root(list(state.leaves)).hex())]


def confirm(
    state: Ledger | None, ocid: str, confirmation: CommitteeConfirmation, actor: Actor
) -> list[Event]:
    """A member's confirmation of the committee's key material, while bids may come."""
    if state is not None and state.status is not OPEN:
        raise WrongState(f"the bids of {ocid} are {state.status}", code=str(state.status))
    if state is not None:
        refuse_legacy(state)
    return list(
        committee_log.confirm_committee(
            state.committee if state else None, confirmation, actor, ocid
        )
    )


def accept_shares(state: Ledger, officer_id: str, shares: int, problems: int) -> list[Event]:
    """A committee member's shares were checked and are held, sealed, until the opening."""
    refuse_legacy(state)
    if state.status is not SEALED:
        raise WrongState(f"the bids of {state.ocid} are {state.status}", code=str(state.status))
    return [OpeningSharesAccepted(officer_id=officer_id, shares=shares, problems=problems)]


def record_opening(
    state: Ledger, results: list[Opened], participants: list[str], log_matches_root: bool
) -> list[Event]:
    """Each current bid opened or rejected, and the opening itself, once the key was rebuilt."""
    refuse_legacy(state)
    if state.status is not SEALED or state.root is None:
        raise WrongState(f"the bids of {state.ocid} are {state.status}", code=str(state.status))
    events: list[Event] = [result.event() for result in results]
    opened = sum(1 for result in results if result.content is not None)
    events.append(
        BidsOpened(
            participants=participants,
            opened=opened,
            rejected=len(results) - opened,
            tree_size=state.size,
            root=state.root.hex(),
            log_matches_root=log_matches_root,
        )
    )
    return events


def opened_bids(events: Iterable[Event]) -> list[BidOpened]:
    return [event for event in events if isinstance(event, BidOpened)]


def rejected_bids(events: Iterable[Event]) -> list[BidRejected]:
    return [event for event in events if isinstance(event, BidRejected)]
