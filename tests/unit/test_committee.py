"""The opening key is split among the committee: each member holds one sealed share, and any
threshold of them, no fewer, rebuild the key that opens the bids."""

import hashlib
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from bidding import committee, keys, sealing, shamir
from bidding.committee import KeyMismatch
from schemas.bids import BidContent
from schemas.commands import OpeningKeySetup

OCID = "ocds-000000-0001"


@dataclass(frozen=True)
class Member:
    officer_id: str
    encryption_key: X25519PrivateKey
    signing_key: Ed25519PrivateKey


def committee_of(size: int) -> list[Member]:
    return [
        Member(f"officer-{n}", X25519PrivateKey.generate(), Ed25519PrivateKey.generate())
        for n in range(1, size + 1)
    ]


def make_key(members: list[Member], threshold: int) -> OpeningKeySetup:
    roster = [(m.officer_id, keys.raw_public(m.encryption_key)) for m in members]
    return committee.make_opening_key(OCID, roster, threshold)


def open_own_share(setup: OpeningKeySetup, members: list[Member], i: int) -> shamir.Share:
    sealed = setup.shares[i]
    member = members[i]
    return sealing.open_share(
        sealed.encrypted_share, member.encryption_key, OCID, member.officer_id, sealed.x
    )


@st.composite
def committees(draw: st.DrawFn) -> tuple[int, int]:
    """A committee size n and a threshold k, with 2 <= k <= n <= 7."""
    size = draw(st.integers(2, 7))
    return size, draw(st.integers(2, size))


MEMBERS = committee_of(3)
SETUP = make_key(MEMBERS, 2)


# Making the key


@given(committees())
@settings(max_examples=25, deadline=None)
def test_every_member_opens_its_own_share_and_no_other(committee_size: tuple[int, int]) -> None:
    """A share opens with its own member's key only, and matches its published digest."""
    size, threshold = committee_size
    members = committee_of(size)
    setup = make_key(members, threshold)
    assert [s.officer_id for s in setup.shares] == [m.officer_id for m in members]
    assert [s.x for s in setup.shares] == list(range(1, size + 1))
    for i, sealed in enumerate(setup.shares):
        share = open_own_share(setup, members, i)
        assert share.x == sealed.x
        assert hashlib.sha256(share.to_bytes()).hexdigest() == sealed.share_sha256
        for j, other in enumerate(members):
            if j == i:
                continue
            for officer_id in (sealed.officer_id, other.officer_id):
                with pytest.raises(sealing.Unsealable) as caught:
                    sealing.open_share(
                        sealed.encrypted_share, other.encryption_key, OCID, officer_id, sealed.x
                    )
                assert caught.value.code == "wrong_key"


def test_a_share_opens_only_for_its_tender_officer_and_x() -> None:
    """The share's seal binds the tender, the officer and x, not only the member's key."""
    sealed, member = SETUP.shares[0], MEMBERS[0]
    for ocid, officer_id, x in [
        ("ocds-000000-0002", member.officer_id, sealed.x),
        (OCID, "officer-9", sealed.x),
        (OCID, member.officer_id, sealed.x + 1),
    ]:
        with pytest.raises(sealing.Unsealable):
            sealing.open_share(sealed.encrypted_share, member.encryption_key, ocid, officer_id, x)


@given(committees(), st.data())
@settings(max_examples=25, deadline=None)
def test_any_threshold_of_shares_rebuild_the_opening_key(
    committee_size: tuple[int, int], data: st.DataObject
) -> None:
    """Any k of the n shares, in any order, rebuild the key whose public half was published."""
    size, threshold = committee_size
    members = committee_of(size)
    setup = make_key(members, threshold)
    chosen = data.draw(
        st.lists(st.integers(0, size - 1), min_size=threshold, max_size=threshold, unique=True)
    )
    private = committee.rebuild_opening_key(
        [open_own_share(setup, members, i) for i in chosen], setup.public_key
    )
    assert keys.raw_public(private) == setup.public_key


@given(committees(), st.data())
@settings(max_examples=25, deadline=None)
def test_one_share_too_few_does_not_rebuild_the_key(
    committee_size: tuple[int, int], data: st.DataObject
) -> None:
    """k - 1 shares give nothing: rebuilding refuses with KeyMismatch."""
    size, threshold = committee_size
    members = committee_of(size)
    setup = make_key(members, threshold)
    chosen = data.draw(
        st.lists(
            st.integers(0, size - 1), min_size=threshold - 1, max_size=threshold - 1, unique=True
        )
    )
    with pytest.raises(KeyMismatch):
        committee.rebuild_opening_key(
            [open_own_share(setup, members, i) for i in chosen], setup.public_key
        )


def test_a_share_of_another_key_does_not_rebuild_this_one() -> None:
    """Mixing in a share of another tender's key, with the right x, is refused."""
    other = make_key(MEMBERS, 2)
    mixed = [open_own_share(SETUP, MEMBERS, 0), open_own_share(other, MEMBERS, 1)]
    with pytest.raises(KeyMismatch):
        committee.rebuild_opening_key(mixed, SETUP.public_key)


def test_the_rebuilt_key_must_match_the_published_public_key() -> None:
    """Valid shares of another key are refused against this tender's public key."""
    other = make_key(MEMBERS, 2)
    shares = [open_own_share(other, MEMBERS, i) for i in (0, 2)]
    with pytest.raises(KeyMismatch, match="other than the tender's"):
        committee.rebuild_opening_key(shares, SETUP.public_key)


def test_the_rebuilt_key_opens_a_bid_sealed_to_the_published_key() -> None:
    """End to end: a bid sealed to setup.public_key opens with the key rebuilt from shares."""
    content = BidContent.model_validate(
        {
            "ocid": OCID,
            "bidder_id": "supplier-1",
            "offers": [{"lot_id": "lot-1", "price": {"amount": "870.00", "currency": "RON"}}],
            "valid_until": "2030-06-01",
            "declaration": {
                "no_exclusion_grounds": True,
                "meets_selection_criteria": True,
                "is_sme": True,
            },
        }
    )
    sealed = sealing.seal_bid(content, 1, SETUP.public_key, Ed25519PrivateKey.generate())
    private = committee.rebuild_opening_key(
        [open_own_share(SETUP, MEMBERS, i) for i in (2, 1)], SETUP.public_key
    )
    opened = sealing.open_bid(OCID, sealed.lots, "supplier-1", 1, sealed.ciphertext, private)
    assert opened == content


# Handing in a share


def test_a_handed_in_share_is_signed_by_its_member() -> None:
    """The member's signature covers tender, officer, x and the share's digest."""
    for i, member in enumerate(MEMBERS):
        sealed = SETUP.shares[i]
        handed = committee.hand_in_share(
            OCID, member.officer_id, sealed, member.encryption_key, member.signing_key
        )
        assert handed.x == sealed.x
        assert hashlib.sha256(handed.share).hexdigest() == sealed.share_sha256
        fields = committee.share_fields(OCID, member.officer_id, handed.x, sealed.share_sha256)
        signer = keys.raw_public(member.signing_key)
        assert keys.verify(signer, handed.signature, keys.OPENING_SHARE, fields)
        other = keys.raw_public(MEMBERS[(i + 1) % len(MEMBERS)].signing_key)
        assert not keys.verify(other, handed.signature, keys.OPENING_SHARE, fields)
        for change in (
            {"ocid": "ocds-000000-0002"},
            {"officer_id": "officer-9"},
            {"x": handed.x + 1},
            {"digest": "00" * 32},
        ):
            args: dict[str, Any] = {
                "ocid": OCID,
                "officer_id": member.officer_id,
                "x": handed.x,
                "digest": sealed.share_sha256,
            }
            changed = committee.share_fields(**(args | change))
            assert not keys.verify(signer, handed.signature, keys.OPENING_SHARE, changed)


def test_a_member_cannot_hand_in_another_members_share() -> None:
    """Decrypting someone else's sealed share with one's own key fails before any signing."""
    member = MEMBERS[0]
    with pytest.raises(sealing.Unsealable):
        committee.hand_in_share(
            OCID, member.officer_id, SETUP.shares[1], member.encryption_key, member.signing_key
        )


# The setup as sent to the platform


def setup_with(**changes: Any) -> OpeningKeySetup:
    body = SETUP.model_dump(mode="json") | changes
    return OpeningKeySetup.model_validate(body)


def share_body(i: int, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = SETUP.shares[i].model_dump(mode="json")
    return body | changes


def test_the_setup_survives_the_wire() -> None:
    """A valid setup reads back from its JSON unchanged."""
    assert OpeningKeySetup.model_validate_json(SETUP.model_dump_json()) == SETUP
    assert setup_with() == SETUP


@pytest.mark.parametrize(
    "changes",
    [
        {"threshold": 4},
        {"threshold": 1},
        {"threshold": 0},
        {"shares": [share_body(0)]},
        {"shares": [share_body(0), share_body(1, officer_id="officer-1"), share_body(2)]},
        {"shares": [share_body(0), share_body(1, x=1), share_body(2)]},
        {"public_key": "AAAA"},
    ],
    ids=[
        "threshold above shares",
        "threshold of one",
        "threshold of zero",
        "a single share",
        "repeated officer",
        "repeated x",
        "short public key",
    ],
)
def test_an_unusable_setup_is_refused(changes: dict[str, Any]) -> None:
    """A threshold nobody can meet or a lone keyholder, and repeated members or x, are refused."""
    with pytest.raises(ValidationError):
        setup_with(**changes)
