"""Bids after a significant amendment, in the pure bid log: the request to reconfirm, the
bidder's signed reconfirmation and what it must name, and what a new version does. No
database."""

import hashlib
from datetime import timedelta
from decimal import Decimal
from uuid import uuid4

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app import policies
from bidding import keys, ledger, messages, reconfirmation
from bidding.ledger import Ledger
from procurement.errors import NotAllowed, Rejected, WrongState
from schemas.commands import Actor, Role
from schemas.documents import DocumentType, TenderDocumentPublished
from schemas.events import BidRejected, TenderRequirementsAmended, envelope
from schemas.reconfirmations import BidReconfirmed, ReconfirmationRequested
from tests.unit.examples import NOW, OCID, published
from tests.unit.test_bid_ledger import BIDDER, SUPPLIER, bid, opened_log, taken, withdrawal

KEY = Ed25519PrivateKey.from_private_bytes(b"\x07" * 32)
OTHER = "supplier-RO-CUI-31415926"


def amendment(quantity: str = "200", lots: int = 1) -> TenderRequirementsAmended:
    requirements = published().requirements
    lot = requirements.lots[0]
    item = lot.items[0].model_copy(update={"quantity": Decimal(quantity)})
    kept = [lot.model_copy(update={"items": [item]})][:lots]
    changed = requirements.model_copy(update={"lots": kept})
    return TenderRequirementsAmended(requirements=changed, reason="Twice the paper")


def amended(state: Ledger, change: TenderRequirementsAmended | None = None) -> Ledger:
    """The log after the amendment and the request the policy records with it."""
    change = change or amendment()
    state = ledger.evolve(state, change)
    for event in ledger.request_reconfirmation(state, change):
        state = ledger.evolve(state, event)
    return state


def signed(
    state: Ledger, bidder: str = BIDDER, bid_id: str | None = None, digest: str = ""
) -> object:
    awaited = state.unconfirmed[bidder]
    return reconfirmation.reconfirm_bid(
        OCID, bidder, bid_id or awaited.bid_id, digest or awaited.requirements_sha256, KEY
    )


def decide(
    state: Ledger, item: object, actor: Actor = SUPPLIER, valid: bool = True
) -> list[object]:
    return list(ledger.reconfirm(state, item, actor, NOW, signature_valid=valid))  # type: ignore[arg-type]


def test_an_amendment_asks_every_current_bid_for_its_reconfirmation() -> None:
    """Two bidders' current bids (the latest version of each) are asked, with the digest of
    the requirements as amended; a bidder who withdrew is not."""
    state = taken(taken(opened_log(), bid(), 1), bid(2, b"v2"), 2)
    state = taken(state, bid(1, b"other", bidder=OTHER), 3)
    state = taken(state, bid(1, b"gone", bidder="supplier-gone"), 4)
    state = taken(
        state, withdrawal(1).model_copy(update={"bidder_id": "supplier-gone", "version": 2}), 5
    )
    change = amendment()
    requested = ledger.request_reconfirmation(ledger.evolve(state, change), change)
    assert all(isinstance(event, ReconfirmationRequested) for event in requested)
    assert [(e.bidder_id, e.bid_id, e.version) for e in requested] == [  # type: ignore[attr-defined]
        (BIDDER, "bid-2", 2),
        (OTHER, "bid-3", 1),
    ]
    digest = reconfirmation.requirements_sha256(change.requirements)
    assert {e.requirements_sha256 for e in requested} == {digest}  # type: ignore[attr-defined]


def test_no_bid_no_request() -> None:
    """An amendment before any bid asks nobody."""
    assert ledger.request_reconfirmation(opened_log(), amendment()) == []


def test_a_reconfirmation_lets_the_bid_stand() -> None:
    """The bidder's signed reconfirmation naming its bid and the amendment is recorded, and
    its bid no longer waits."""
    state = amended(taken(opened_log(), bid(), 1))
    [event] = decide(state, signed(state))
    assert isinstance(event, BidReconfirmed)
    assert (event.bid_id, event.version) == ("bid-1", 1)
    assert BIDDER not in ledger.evolve(state, event).unconfirmed


def test_a_new_version_replaces_the_bid_that_waited() -> None:
    """A bid sent after the amendment stands: nothing is left to reconfirm."""
    state = taken(amended(taken(opened_log(), bid(), 1)), bid(2, b"new"), 2)
    assert state.unconfirmed == {}
    with pytest.raises(WrongState) as refused:
        decide(state, reconfirmation.reconfirm_bid(OCID, BIDDER, "bid-2", "ab" * 32, KEY))
    assert refused.value.code == "nothing_to_reconfirm"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"bid_id": "bid-other"}, "not_the_current_bid"),
        ({"digest": "ab" * 32}, "not_the_latest_amendment"),
    ],
)
def test_a_reconfirmation_names_the_current_bid_and_the_latest_amendment(
    change: dict[str, str], code: str
) -> None:
    """Another bid id, or the digest of other requirements, is refused with its code."""
    state = amended(taken(opened_log(), bid(), 1))
    with pytest.raises(WrongState) as refused:
        decide(state, signed(state, **change))
    assert refused.value.code == code


def test_a_second_amendment_needs_a_second_reconfirmation() -> None:
    """A reconfirmation of the first amendment does not stand for the second."""
    state = amended(taken(opened_log(), bid(), 1))
    first = signed(state)
    state = ledger.evolve(state, decide(state, first)[0])  # type: ignore[arg-type]
    state = amended(state, amendment("300"))
    with pytest.raises(WrongState) as refused:
        decide(state, first)
    assert refused.value.code == "not_the_latest_amendment"
    assert decide(state, signed(state))


def test_only_the_bidder_reconfirms_with_its_own_signature() -> None:
    """Another supplier, or a bad signature, is refused."""
    state = amended(taken(opened_log(), bid(), 1))
    with pytest.raises(NotAllowed):
        decide(state, signed(state), Actor(id=OTHER, role=Role.SUPPLIER))
    with pytest.raises(Rejected) as refused:
        decide(state, signed(state), valid=False)
    assert refused.value.code == "invalid_signature"


def test_a_bid_on_a_lot_the_amendment_removed_cannot_be_reconfirmed() -> None:
    """A bid for a lot the tender no longer has must be replaced, not reconfirmed."""
    two_lots = published().requirements
    second = two_lots.lots[0].model_copy(
        update={
            "id": "lot-2",
            "items": [two_lots.lots[0].items[0].model_copy(update={"id": "paper-2"})],
        }
    )
    state = ledger.evolve(
        opened_log(),
        TenderRequirementsAmended(
            requirements=two_lots.model_copy(update={"lots": [*two_lots.lots, second]}),
            reason="A second lot",
        ),
    )
    state = amended(taken(state, bid().model_copy(update={"lots": ("lot-2",)}), 1), amendment())
    with pytest.raises(Rejected) as refused:
        decide(state, signed(state))
    assert refused.value.code == "unknown_lot"


def test_no_reconfirmation_after_the_deadline() -> None:
    """The deadline closes reconfirmations as it closes bids."""
    state = amended(taken(opened_log(), bid(), 1))
    late = NOW + timedelta(days=400)
    with pytest.raises(WrongState) as refused:
        ledger.reconfirm(state, signed(state), SUPPLIER, late, signature_valid=True)  # type: ignore[arg-type]
    assert refused.value.code == "late"


def test_the_signature_binds_the_bid_and_the_amendment() -> None:
    """A reconfirmation verifies with the bidder's key, and not once any field changes."""
    item = reconfirmation.reconfirm_bid(OCID, BIDDER, "bid-1", "cd" * 32, KEY)
    public = keys.raw_public(KEY)
    assert reconfirmation.reconfirmation_signature_valid(item, public)
    moved = item.model_copy(update={"bid_id": "bid-2"})
    assert not reconfirmation.reconfirmation_signature_valid(moved, public)


def test_bidders_are_told_to_reconfirm_and_why_a_bid_was_rejected() -> None:
    """Each bidder asked to reconfirm gets a notice naming its bid; a rejected bid's bidder
    gets the reason."""
    state = taken(taken(opened_log(), bid(), 1), bid(1, b"o", bidder=OTHER), 2)
    change = amendment()
    requested = ledger.request_reconfirmation(ledger.evolve(state, change), change)
    told = [notice for event in requested for notice in messages.notices(event)]
    assert [party for party, _ in told] == [BIDDER, OTHER]
    assert "bid-1" in told[0][1]
    assert "reconfirm" in told[0][1]
    rejected = BidRejected(
        bid_id="bid-1", bidder_id=BIDDER, version=1, reason_code="wrong_currency", reason="EUR"
    )
    assert messages.notices(rejected) == [(BIDDER, messages.notices(rejected)[0][1])]
    assert "wrong_currency" in messages.notices(rejected)[0][1]


def test_the_policy_asks_on_the_bid_log_after_its_last_event() -> None:
    """The amendment's reaction is the request, appended to the tender's bid log."""
    state = taken(opened_log(), bid(), 1)
    change = amendment()
    amended_at = envelope(
        change,
        event_id=uuid4(),
        aggregate_id=OCID,
        sequence=2,
        actor="officer-ana",
        occurred_at=NOW,
    )
    [changes] = policies.ask_for_reconfirmation(amended_at, (ledger.evolve(state, change), None))
    assert (changes.aggregate_id, changes.version) == (f"{OCID}:bids", state.version)
    assert [type(event) for event in changes.events] == [ReconfirmationRequested]
    assert policies.ask_for_reconfirmation(amended_at, (None, None)) == []


def document(changes_requirements: bool = True, content: bytes = b"new") -> TenderDocumentPublished:
    return TenderDocumentPublished(
        document_id="doc-1",
        version=2,
        title="Caiet de sarcini",
        document_type=DocumentType.TECHNICAL_SPECIFICATIONS,
        file_name="caiet.pdf",
        media_type="application/pdf",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        changes_requirements=changes_requirements,
        reason="Paper of 80 g/m2" if changes_requirements else None,
    )


def test_a_document_that_changes_the_requirements_asks_for_reconfirmation_of_its_bytes() -> None:
    """A significant change made by a document is an amendment: the current bids are asked
    to be reconfirmed against the requirements and that document's digest, which a
    reconfirmation of the requirements alone does not satisfy; a document that changes
    nothing significant asks nobody."""
    state = taken(opened_log(), bid(), 1)
    requirements = published().requirements
    changed = document()
    at = envelope(
        changed,
        event_id=uuid4(),
        aggregate_id=OCID,
        sequence=2,
        actor="officer-ana",
        occurred_at=NOW,
    )
    [changes] = policies.ask_for_reconfirmation(at, (state, requirements))
    [requested] = changes.events
    assert isinstance(requested, ReconfirmationRequested)
    digest = reconfirmation.document_change_sha256(requirements, "doc-1", 2, changed.sha256)
    assert requested.requirements_sha256 == digest
    assert digest != reconfirmation.requirements_sha256(requirements)
    assert requested.reason == "Paper of 80 g/m2"
    state = ledger.evolve(state, requested)
    stale = signed(state, digest=reconfirmation.requirements_sha256(requirements))
    with pytest.raises(WrongState) as refused:
        decide(state, stale)
    assert refused.value.code == "not_the_latest_amendment"
    [reconfirmed] = decide(state, signed(state))
    assert isinstance(reconfirmed, BidReconfirmed)
    assert (
        ledger.request_reconfirmation(state, document(changes_requirements=False), requirements)
        == []
    )
