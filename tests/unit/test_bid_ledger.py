"""The bid log as events: what a bid, a withdrawal, the seal, a share and the opening decide,
how each event changes the log, and which events may happen in which state. No database."""

import hashlib
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bidding import committee_material, ledger, merkle
from bidding.entries import BidLimits
from bidding.ledger import CANCELLED, LIFECYCLE, OPEN, OPENED, SEALED, Ledger, Receipted, take
from bidding.log import LogStatus
from bidding.opening import Opened
from procurement.errors import Rejected, WrongState
from schemas.bids import BidWithdrawal, SealedBid
from schemas.commands import Actor, Role
from schemas.committee import CommitteeConfirmed, CommitteeNamed, OpeningSharesAccepted
from schemas.events import (
    BidLogSealed,
    BidRejected,
    BidsOpened,
    BidSubmitted,
    Event,
    TenderCancelled,
    TenderDeadlineExtended,
)
from tests.unit.examples import (
    CONFIRMATIONS,
    DEADLINE,
    KEY_SHARES,
    MATERIAL,
    NOW,
    OCID,
    published,
)

BIDDER = "supplier-RO-CUI-14399840"
SUPPLIER = Actor(id=BIDDER, role=Role.SUPPLIER)
LIMITS = BidLimits()
ISSUED = CommitteeNamed(material=MATERIAL, named_by="officer-ana")
CONFIRMED = [CommitteeConfirmed(confirmation=c) for c in CONFIRMATIONS[:2]]


def opened_log() -> Ledger:
    """A fresh log for the example tender, as naming the committee and k confirmations make it."""
    state = ledger.start(published(), ISSUED)
    for event in CONFIRMED:
        state = ledger.evolve(state, event)
    return state


def bid(version: int = 1, ciphertext: bytes = b"sealed", bidder: str = BIDDER) -> SealedBid:
    return SealedBid(
        ocid=OCID,
        lots=("lot-1",),
        bidder_id=bidder,
        version=version,
        ciphertext=ciphertext,
        key_commitment="c0" * 32,
        material_sha256=committee_material.material_sha256(MATERIAL),
        key_shares=KEY_SHARES,
        signature=b"\x04" * 64,
    )


def withdrawal(version: int) -> BidWithdrawal:
    return BidWithdrawal(ocid=OCID, bidder_id=BIDDER, version=version, signature=b"\x05" * 64)


def taken(state: Ledger, item: SealedBid | BidWithdrawal, number: int = 0) -> Ledger:
    """The log after ``item`` was decided and its event, if any, applied."""
    decided = take(
        state,
        item,
        Actor(id=item.bidder_id, role=Role.SUPPLIER),
        NOW,
        bid_id=f"bid-{number}",
        limits=LIMITS,
    )
    return ledger.evolve(state, decided.event) if decided.event else state


def code(error: pytest.ExceptionInfo[Rejected]) -> str:
    return error.value.code


# Bids and withdrawals


def test_a_first_bid_gets_the_first_place_in_the_log() -> None:
    """A bid to an open log is taken at index 0 with a receipt naming its ciphertext, and
    not its index: a receipt tells nothing of how many entries came before it."""
    decided = take(opened_log(), bid(), SUPPLIER, NOW, bid_id="bid-1", limits=LIMITS)
    assert isinstance(decided.event, BidSubmitted)
    assert decided.event.position == 0
    assert decided.receipt.log_index is None
    assert "log_index" not in decided.receipt.model_dump(mode="json")
    assert decided.receipt.ciphertext_sha256 == hashlib.sha256(b"sealed").hexdigest()
    assert decided.receipt.received_at == NOW


def test_the_same_bid_sent_again_gets_its_first_receipt() -> None:
    """Resending a bid already in the log adds nothing and answers with the first receipt."""
    state = taken(opened_log(), bid(), 1)
    again = take(state, bid(), SUPPLIER, NOW, bid_id="bid-2", limits=LIMITS)
    assert again == Receipted(state.receipts[(BIDDER, 1)], None)


def test_a_used_version_with_other_contents_is_refused() -> None:
    """Version 1 taken by one ciphertext cannot be reused for another."""
    state = taken(opened_log(), bid(), 1)
    with pytest.raises(WrongState) as caught:
        take(state, bid(ciphertext=b"other"), SUPPLIER, NOW, bid_id="bid-2", limits=LIMITS)
    assert code(caught) == "version_used"


def test_an_older_version_than_the_latest_is_stale() -> None:
    """After versions 1 and 2, a new version 1 is refused as stale, not as used."""
    state = taken(taken(opened_log(), bid(1), 1), bid(2, b"two"), 2)
    with pytest.raises(WrongState) as caught:
        take(state, withdrawal(1), SUPPLIER, NOW, bid_id="bid-3", limits=LIMITS)
    assert code(caught) in {"version_used", "stale_version"}


def test_versions_must_follow_one_another() -> None:
    """Skipping a version is refused with the version expected."""
    with pytest.raises(WrongState) as caught:
        take(opened_log(), bid(3), SUPPLIER, NOW, bid_id="bid-1", limits=LIMITS)
    assert code(caught) == "version_not_next"


def test_nothing_to_withdraw_without_a_bid() -> None:
    """A withdrawal needs a current bid to withdraw."""
    with pytest.raises(WrongState) as caught:
        take(opened_log(), withdrawal(1), SUPPLIER, NOW, bid_id="bid-1", limits=LIMITS)
    assert code(caught) == "nothing_to_withdraw"


def test_a_bid_may_be_withdrawn_once() -> None:
    """A withdrawal follows a bid; a second withdrawal has nothing left to withdraw."""
    state = taken(taken(opened_log(), bid(), 1), withdrawal(2), 2)
    assert [entry.kind for entry in state.entries[BIDDER]] == ["bid", "withdrawal"]
    with pytest.raises(WrongState) as caught:
        take(state, withdrawal(3), SUPPLIER, NOW, bid_id="bid-3", limits=LIMITS)
    assert code(caught) == "nothing_to_withdraw"


def test_a_ciphertext_already_in_the_log_is_refused_even_from_another_bidder() -> None:
    """Each bid is sealed afresh: a copied ciphertext is a duplicate."""
    state = taken(opened_log(), bid(), 1)
    other = Actor(id="supplier-2", role=Role.SUPPLIER)
    with pytest.raises(WrongState) as caught:
        take(state, bid(bidder="supplier-2"), other, NOW, bid_id="bid-2", limits=LIMITS)
    assert code(caught) == "duplicate_ciphertext"


def test_past_the_version_limit_a_bid_is_refused_but_a_withdrawal_is_not() -> None:
    """A bidder at its last version may still withdraw."""
    limits = BidLimits(versions=1)
    state = ledger.evolve(
        opened_log(),
        take(opened_log(), bid(), SUPPLIER, NOW, bid_id="b1", limits=limits).event,  # type: ignore[arg-type]
    )
    with pytest.raises(WrongState) as caught:
        take(state, bid(2, b"two"), SUPPLIER, NOW, bid_id="b2", limits=limits)
    assert code(caught) == "too_many_versions"
    assert take(state, withdrawal(2), SUPPLIER, NOW, bid_id="b3", limits=limits).event


def test_past_the_storage_limit_a_bid_is_refused() -> None:
    """What a bidder's entries take is counted with the new one, as ``measure`` tells."""
    limits = BidLimits(stored_bytes=1000)
    with pytest.raises(Rejected) as caught:
        take(opened_log(), bid(), SUPPLIER, NOW, bid_id="b", limits=limits, measure=lambda _: 1001)
    assert (caught.value.status, code(caught)) == (413, "bid_storage_full")


def test_a_bid_at_the_deadline_is_late_and_one_to_a_missing_log_is_not_found() -> None:
    """The log's timing rules apply to the decision."""
    with pytest.raises(WrongState) as caught:
        take(opened_log(), bid(), SUPPLIER, DEADLINE, bid_id="b", limits=LIMITS)
    assert code(caught) == "late"
    with pytest.raises(Rejected) as missing:
        take(None, bid(), SUPPLIER, NOW, bid_id="b", limits=LIMITS)
    assert code(missing) == "no_such_bid_log"


def test_the_log_follows_its_tenders_deadline() -> None:
    """An extended deadline lets a bid in that the first deadline would have refused."""
    later = DEADLINE + timedelta(days=5)
    extended = TenderDeadlineExtended(
        previous_deadline=DEADLINE,
        submission_deadline=later,
        reason="More time",
        required_by_rules=False,
    )
    state = ledger.evolve(opened_log(), extended)
    assert take(state, bid(), SUPPLIER, DEADLINE, bid_id="b", limits=LIMITS).event


# Sealing, shares and the opening


def test_sealing_fixes_the_merkle_root_of_every_entry() -> None:
    """The seal's root is the Merkle root of the entries' leaves, in log order."""
    state = taken(taken(opened_log(), bid(), 1), bid(1, b"x", "supplier-2"), 2)
    [sealed] = ledger.seal(state)
    assert isinstance(sealed, BidLogSealed)
    assert (sealed.tree_size, sealed.root) == (2, merkle.root(list(state.leaves)).hex())
    after = ledger.evolve(state, sealed)
    assert after.status is SEALED
    with pytest.raises(WrongState) as caught:
        take(after, bid(2, b"late"), SUPPLIER, NOW, bid_id="b", limits=LIMITS)
    assert code(caught) == "tender_closed"


@pytest.mark.parametrize("status", [SEALED, OPENED, CANCELLED])
def test_only_an_open_log_is_sealed(status: LogStatus) -> None:
    """Sealing twice, or a cancelled or opened log, or no log, decides nothing."""
    from dataclasses import replace

    assert ledger.seal(replace(opened_log(), status=status)) == []
    assert ledger.seal(None) == []


def test_a_share_is_accepted_only_once_sealed() -> None:
    """Shares count only after the seal."""
    with pytest.raises(WrongState):
        ledger.accept_shares(opened_log(), "officer-1", 1, 0)
    sealed = ledger.evolve(opened_log(), *ledger.seal(opened_log()))
    [accepted] = ledger.accept_shares(sealed, "officer-1", 1, 0)
    assert isinstance(accepted, OpeningSharesAccepted)
    assert ledger.evolve(sealed, accepted).handed_in == {"officer-1"}


def test_the_opening_records_each_bid_then_the_opening() -> None:
    """Every current bid is opened or rejected, then ``BidsOpened`` counts them and the
    log is opened for good."""
    state = taken(opened_log(), bid(), 1)
    state = ledger.evolve(state, *ledger.seal(state))
    rejected = Opened("bid-1", BIDDER, 1, None, "unreadable", "not HPKE")
    events = ledger.record_opening(state, [rejected], ["officer-1", "officer-2"], True)
    assert [type(e) for e in events] == [BidRejected, BidsOpened]
    assert isinstance(events[-1], BidsOpened)
    assert events[-1].rejected == 1
    final = state
    for event in events:
        final = ledger.evolve(final, event)
    assert final.status is OPENED
    with pytest.raises(WrongState):
        ledger.record_opening(final, [], [], True)


def test_a_cancelled_tender_cancels_its_log_but_not_an_opened_one() -> None:
    """Cancelling the tender closes an open or sealed log; an opened log stays opened."""
    cancelled = TenderCancelled(reason="No longer needed")
    assert ledger.evolve(opened_log(), cancelled).status is CANCELLED
    from dataclasses import replace

    assert ledger.evolve(replace(opened_log(), status=OPENED), cancelled).status is OPENED


# The lifecycle as data

OWN_EVENTS: list[Event] = [
    OpeningSharesAccepted(officer_id="officer-1", shares=1, problems=0),
    CONFIRMED[0],
    BidLogSealed(tree_size=0, root="00" * 32),
    BidsOpened(
        participants=[], opened=0, rejected=0, tree_size=0, root="00" * 32, log_matches_root=True
    ),
]


@given(st.sampled_from(list(LogStatus)), st.sampled_from(OWN_EVENTS))
@settings(max_examples=60, deadline=None)
def test_no_event_outside_the_lifecycle_is_applied(status: LogStatus, event: Event) -> None:
    """The log's own events are applied exactly where the transition table allows them."""
    from dataclasses import replace

    state = replace(opened_log(), status=status)
    allowed = LIFECYCLE.get((status, type(event).__name__))
    if allowed is None:
        with pytest.raises(ValueError, match="cannot happen"):
            ledger.evolve(state, event)
    else:
        assert ledger.evolve(state, event).status is allowed


def test_replaying_the_events_gives_the_state_the_decisions_built() -> None:
    """A log replayed from its events equals the one evolved decision by decision."""
    state = taken(taken(opened_log(), bid(), 1), withdrawal(2), 2)
    events: list[Event] = [ISSUED, *CONFIRMED]
    step = opened_log()
    for item, number in ((bid(), 1), (withdrawal(2), 2)):
        decided = take(step, item, SUPPLIER, NOW, bid_id=f"bid-{number}", limits=LIMITS)
        assert decided.event is not None
        events.append(decided.event)
        step = ledger.evolve(step, decided.event)
    assert ledger.replay(published(), events) == state
    assert (state.status, state.version, state.size) == (OPEN, 5, 2)


def test_bids_wait_for_k_confirmations_and_must_be_sealed_to_the_committee() -> None:
    """A log named but confirmed by fewer than k members takes no bid; a bid sealed to
    other keys, or with shares out of the committee's order, is refused."""
    unconfirmed = ledger.evolve(ledger.start(published(), ISSUED), CONFIRMED[0])
    with pytest.raises(WrongState) as caught:
        take(unconfirmed, bid(), SUPPLIER, NOW, bid_id="bid-1", limits=LIMITS)
    assert code(caught) == "committee_not_confirmed"
    other = bid().model_copy(update={"material_sha256": "00" * 32})
    shuffled = bid().model_copy(update={"key_shares": list(reversed(KEY_SHARES))})
    for wrong in (other, shuffled):
        with pytest.raises(Rejected) as refused:
            take(opened_log(), wrong, SUPPLIER, NOW, bid_id="bid-1", limits=LIMITS)
        assert code(refused) == "wrong_committee"
