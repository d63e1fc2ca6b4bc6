"""A bid is sealed to one tender, lots, bidder and version under its own content key, opens
only there with that key, and is signed with everything that makes it."""

import hashlib
import json
import random
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bidding import committee_material, committee_sealing, keys, sealing, shamir, suites
from bidding.committee_sealing import BID_SIGNATURE
from bidding.sealing import Unsealable
from schemas.bids import BidContent, SealedBid
from schemas.committee import CommitteeMaterial, CommitteeMember
from tests.strategies import identifiers, texts

OCID = "ocds-000000-0001"
BIDDER = "supplier-RO-CUI-14399840"
OTHER_BIDDER = "supplier-RO-CUI-2"
PRICE = "870.00"

MEMBER_KEYS = [suites.MemberPrivateKeys.generate() for _ in range(3)]
BIDDER_KEY = Ed25519PrivateKey.generate()
OTHER_BIDDER_KEY = Ed25519PrivateKey.generate()

PURPOSES = (
    keys.SUPPLIER_REGISTRATION,
    keys.COMMITTEE_KEYS,
    committee_sealing.BID,
    committee_sealing.BID_SIGNATURE,
    committee_sealing.SHARE,
    keys.WITHDRAWAL,
    keys.RECEIPT,
    committee_material.MATERIAL,
    committee_material.CONFIRMATION,
    committee_material.OPENING_SHARES,
)


def bid_content(
    ocid: str = OCID, bidder: str = BIDDER, amount: str = PRICE, lot: str = "lot-1", note: str = ""
) -> BidContent:
    """A one-lot bid for office paper, as a bidder's client builds it."""
    return BidContent.model_validate(
        {
            "ocid": ocid,
            "bidder_id": bidder,
            "offers": [
                {
                    "lot_id": lot,
                    "price": {"amount": amount, "currency": "RON"},
                    "items": [{"item_id": "paper-1", "unit_price": str(Decimal(amount) / 100)}],
                }
            ],
            "valid_until": "2030-06-01",
            "declaration": {
                "no_exclusion_grounds": True,
                "meets_selection_criteria": True,
                "is_sme": True,
                "statement": note or None,
            },
            "documents": [{"title": "Technical offer", "sha256": "ab" * 32}],
        }
    )


@st.composite
def bid_contents(draw: st.DrawFn) -> BidContent:
    """Bids for one to three lots, with line prices, a statement and document digests."""
    lots = draw(st.lists(identifiers(), min_size=1, max_size=3, unique=True))
    amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1e9"), places=2)
    unit_prices = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("1e9"), places=4)
    return BidContent.model_validate(
        {
            "ocid": draw(identifiers()),
            "bidder_id": draw(identifiers()),
            "offers": [
                {
                    "lot_id": lot,
                    "price": {"amount": draw(amounts), "currency": "RON"},
                    "items": [
                        {"item_id": item, "unit_price": draw(unit_prices)}
                        for item in draw(st.lists(identifiers(), max_size=2))
                    ],
                }
                for lot in lots
            ],
            "valid_until": draw(st.dates(min_value=date(2030, 1, 1), max_value=date(2040, 1, 1))),
            "declaration": {
                "no_exclusion_grounds": draw(st.booleans()),
                "meets_selection_criteria": draw(st.booleans()),
                "is_sme": draw(st.booleans()),
                "subcontracting_share": draw(
                    st.decimals(min_value=Decimal(0), max_value=Decimal(100), places=2)
                ),
                "statement": draw(st.none() | texts()),
            },
            "documents": [
                {"title": draw(texts()), "sha256": draw(st.binary(min_size=32, max_size=32)).hex()}
                for _ in range(draw(st.integers(0, 2)))
            ],
        }
    )


def committee(ocid: str = OCID) -> CommitteeMaterial:
    return CommitteeMaterial(
        ocid=ocid,
        suite="x25519",
        threshold=2,
        members=[
            CommitteeMember(
                officer_id=f"officer-{n}",
                encryption_key=member.public("x25519"),
                signing_key=keys.raw_public(BIDDER_KEY),
            )
            for n, member in enumerate(MEMBER_KEYS, start=1)
        ],
    )


def seal(content: BidContent, version: int = 1) -> SealedBid:
    return committee_sealing.seal_bid(content, version, committee(content.ocid), BIDDER_KEY)


def content_key(sealed: SealedBid) -> bytes:
    """The bid's key as two members rebuild it from their shares."""
    pieces = [
        shamir.Share.from_bytes(
            committee_sealing.open_member_share(
                "x25519",
                sealed.ocid,
                sealed.lots,
                sealed.bidder_id,
                sealed.version,
                share.officer_id,
                share.x,
                share.sealed_share,
                MEMBER_KEYS[share.x - 1],
            )
        )
        for share in sealed.key_shares[:2]
    ]
    return committee_sealing.rebuild_content_key(pieces, sealed.key_commitment)


def open_sealed(sealed: SealedBid, key: bytes | None = None, **place: Any) -> BidContent:
    """Open ``sealed`` with its rebuilt key (or ``key``), for its own place unless ``place``
    says otherwise."""
    where: dict[str, Any] = {
        "ocid": sealed.ocid,
        "lots": sealed.lots,
        "bidder_id": sealed.bidder_id,
        "version": sealed.version,
    }
    return committee_sealing.decrypt_bid(
        ciphertext=sealed.ciphertext,
        content_key=key if key is not None else content_key(SEALED),
        **(where | place),
    )


CONTENT = bid_content(note="Delivery within five days")
SEALED = seal(CONTENT)


def assert_unsealable(sealed: SealedBid, code: str, **place: Any) -> None:
    with pytest.raises(Unsealable) as caught:
        open_sealed(sealed, **place)
    assert caught.value.code == code


# Sealing and opening


@given(bid_contents(), st.integers(1, 1_000_000))
@settings(max_examples=40, deadline=None)
def test_seal_then_open_round_trips_the_content_exactly(content: BidContent, version: int) -> None:
    """Whatever a bidder seals, k members' shares give back the same content, field for field."""
    sealed = seal(content, version)
    assert (sealed.ocid, sealed.lots, sealed.bidder_id) == (
        content.ocid,
        content.lots,
        content.bidder_id,
    )
    opened = open_sealed(sealed, content_key(sealed))
    assert opened == content
    assert keys.canonical_json(opened.model_dump(mode="json")) == keys.canonical_json(
        content.model_dump(mode="json")
    )


def test_the_ciphertext_reveals_neither_the_bid_nor_its_prices() -> None:
    """Neither the canonical plaintext nor any price, raw or as sent on the wire, is readable."""
    plaintext = keys.canonical_json(CONTENT.model_dump(mode="json"))
    prices = [PRICE, "8.7", "Delivery within five days"]
    wire = SEALED.model_dump_json().encode()
    assert plaintext not in SEALED.ciphertext
    for secret in prices:
        assert secret.encode() not in SEALED.ciphertext
        assert secret.encode() not in wire
    assert len(SEALED.ciphertext) > len(plaintext)  # the whole bid is in there, encrypted


def test_another_bids_key_cannot_open_the_bid() -> None:
    """Each bid has its own key: another bid's key, even of the same bidder, opens nothing."""
    with pytest.raises(Unsealable) as caught:
        open_sealed(SEALED, content_key(seal(CONTENT)))
    assert caught.value.code == "wrong_tender_or_lot"


@pytest.mark.parametrize(
    "place",
    [
        {"ocid": "ocds-000000-0002"},
        {"lots": ("lot-2",)},
        {"lots": ("lot-1", "lot-2")},
        {"lots": ()},
        {"bidder_id": OTHER_BIDDER},
        {"version": 2},
    ],
    ids=["ocid", "other lot", "more lots", "no lots", "bidder", "version"],
)
def test_the_bid_opens_only_in_the_place_it_was_sealed_for(place: dict[str, Any]) -> None:
    """Changing any one of tender, lots, bidder or version makes the ciphertext unopenable."""
    assert_unsealable(SEALED, "wrong_tender_or_lot", **place)


@given(st.integers(0, len(SEALED.ciphertext) * 8 - 1))
@example(0)
@example(len(SEALED.ciphertext) * 8 - 1)
@settings(max_examples=200, deadline=None)
def test_any_flipped_bit_makes_the_ciphertext_unopenable(bit: int) -> None:
    """One flipped bit anywhere, in the nonce, the body or the tag, is detected."""
    altered = bytearray(SEALED.ciphertext)
    altered[bit // 8] ^= 1 << (bit % 8)
    assert_unsealable(
        SEALED.model_copy(update={"ciphertext": bytes(altered)}), "wrong_tender_or_lot"
    )


@given(st.integers(0, len(SEALED.ciphertext) - 1))
@example(0)
@example(12)
@settings(max_examples=50, deadline=None)
def test_a_truncated_ciphertext_does_not_open(length: int) -> None:
    """Cutting the ciphertext short anywhere, down to nothing, is detected."""
    truncated = SEALED.model_copy(update={"ciphertext": SEALED.ciphertext[:length]})
    assert_unsealable(truncated, "wrong_tender_or_lot")


def _encrypt(plaintext: bytes, context: bytes) -> tuple[bytes, bytes]:
    key, nonce = AESGCM.generate_key(bit_length=256), b"\x07" * 12
    return key, nonce + AESGCM(key).encrypt(nonce, plaintext, context)


def test_a_bid_naming_another_place_inside_its_envelope_is_refused() -> None:
    """Content sealed under the right context but naming another bidder is not accepted."""
    inside = bid_content(bidder=OTHER_BIDDER)
    context = committee_sealing.bid_context(OCID, inside.lots, BIDDER, 1)
    key, ciphertext = _encrypt(keys.canonical_json(inside.model_dump(mode="json")), context)
    with pytest.raises(Unsealable) as caught:
        committee_sealing.decrypt_bid(OCID, inside.lots, BIDDER, 1, ciphertext, key)
    assert caught.value.code == "wrong_tender_or_lot"


def test_a_ciphertext_of_something_other_than_a_bid_is_unreadable() -> None:
    """A well-sealed plaintext that is not a valid bid opens as ``unreadable``."""
    context = committee_sealing.bid_context(OCID, ("lot-1",), BIDDER, 1)
    key, ciphertext = _encrypt(b'{"not":"a bid"}', context)
    with pytest.raises(Unsealable) as caught:
        committee_sealing.decrypt_bid(OCID, ("lot-1",), BIDDER, 1, ciphertext, key)
    assert caught.value.code == "unreadable"


def test_two_seals_of_one_bid_differ_in_everything_but_both_open() -> None:
    """Each seal has a fresh key and nonce: equal bids give unrelated ciphertexts and shares."""
    first, second = seal(CONTENT), seal(CONTENT)
    assert first.ciphertext != second.ciphertext
    assert first.key_commitment != second.key_commitment
    assert first.key_shares[0].share_sha256 != second.key_shares[0].share_sha256
    assert open_sealed(first, content_key(first)) == open_sealed(second, content_key(second))


# The bidder's signature


def test_the_bidder_signature_verifies_with_the_bidder_key_only() -> None:
    """The signature is the bidder's, and no other bidder's key accepts it."""
    assert committee_sealing.bid_signature_valid(SEALED, keys.raw_public(BIDDER_KEY))
    assert not committee_sealing.bid_signature_valid(SEALED, keys.raw_public(OTHER_BIDDER_KEY))
    assert not committee_sealing.bid_signature_valid(SEALED, b"\x00" * 31)


@pytest.mark.parametrize(
    "change",
    [
        {"ocid": "ocds-000000-0002"},
        {"lots": ("lot-2",)},
        {"bidder_id": OTHER_BIDDER},
        {"version": 2},
        {"ciphertext": SEALED.ciphertext[:-1]},
        {"ciphertext": seal(CONTENT).ciphertext},
        {"key_commitment": "00" * 32},
        {"material_sha256": "00" * 32},
        {"key_shares": list(reversed(SEALED.key_shares))},
        {"key_shares": seal(CONTENT).key_shares},
        {"signature": bytes(64)},
    ],
    ids=[
        "ocid",
        "lots",
        "bidder",
        "version",
        "truncated",
        "resealed",
        "commitment",
        "material",
        "shares order",
        "other shares",
        "signature",
    ],
)
def test_the_bidder_signature_fails_for_any_changed_field(change: dict[str, Any]) -> None:
    """The signature covers the place, the ciphertext's digest, the key commitment, the
    committee material and the shares: change one, it fails."""
    altered = SEALED.model_copy(update=change)
    assert not committee_sealing.bid_signature_valid(altered, keys.raw_public(BIDDER_KEY))


def test_the_bidder_signs_the_documented_fields() -> None:
    """The signed fields are the documented ones, so anyone can check the signature."""
    listed = [
        {
            "officer_id": share.officer_id,
            "x": share.x,
            "sealed_share_sha256": hashlib.sha256(share.sealed_share).hexdigest(),
            "share_sha256": share.share_sha256,
        }
        for share in SEALED.key_shares
    ]
    fields = {
        "ocid": OCID,
        "lots": ["lot-1"],
        "bidder_id": BIDDER,
        "version": 1,
        "ciphertext_sha256": hashlib.sha256(SEALED.ciphertext).hexdigest(),
        "key_commitment": SEALED.key_commitment,
        "material_sha256": committee_material.material_sha256(committee()),
        "shares_sha256": hashlib.sha256(keys.canonical_json(listed)).hexdigest(),
    }
    assert keys.verify(keys.raw_public(BIDDER_KEY), SEALED.signature, BID_SIGNATURE, fields)
    assert (
        SEALED.key_commitment
        == hashlib.sha256(b"procurement-content-key/1" + content_key(SEALED)).hexdigest()
    )


def test_a_withdrawal_is_signed_by_its_bidder() -> None:
    """A withdrawal verifies with its bidder's key, not with another's."""
    withdrawal = sealing.withdraw_bid(OCID, BIDDER, 2, BIDDER_KEY)
    assert sealing.withdrawal_signature_valid(withdrawal, keys.raw_public(BIDDER_KEY))
    assert not sealing.withdrawal_signature_valid(withdrawal, keys.raw_public(OTHER_BIDDER_KEY))


@pytest.mark.parametrize(
    "change",
    [{"ocid": "ocds-000000-0002"}, {"bidder_id": OTHER_BIDDER}, {"version": 3}],
    ids=["ocid", "bidder", "version"],
)
def test_a_withdrawal_signature_fails_for_any_changed_field(change: dict[str, Any]) -> None:
    """A withdrawal cannot be replayed for another tender, bidder or version."""
    withdrawal = sealing.withdraw_bid(OCID, BIDDER, 2, BIDDER_KEY)
    altered = withdrawal.model_copy(update=change)
    assert not sealing.withdrawal_signature_valid(altered, keys.raw_public(BIDDER_KEY))


# Canonical JSON and purposes


def test_canonical_json_sorts_keys_and_has_no_spaces() -> None:
    """Keys sorted at every level, no whitespace, UTF-8 as it stands."""
    value = {"b": [1, {"z": None, "a": True}], "a": "Hârtia Nouă", "c": {"y": 1.5, "x": "s t"}}
    expected = '{"a":"Hârtia Nouă","b":[1,{"a":true,"z":null}],"c":{"x":"s t","y":1.5}}'
    assert keys.canonical_json(value) == expected.encode()


json_objects = st.dictionaries(
    st.text(max_size=8),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=8),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
        max_leaves=8,
    ),
    max_size=6,
)


@given(json_objects, st.randoms(use_true_random=False))
@settings(max_examples=100, deadline=None)
def test_canonical_json_does_not_depend_on_key_order(
    value: dict[str, Any], rng: random.Random
) -> None:
    """The same object gives the same bytes however its keys were inserted, and reads back."""
    items = list(value.items())
    rng.shuffle(items)
    assert keys.canonical_json(dict(items)) == keys.canonical_json(value)
    assert json.loads(keys.canonical_json(value)) == value
    assert keys.canonical_json(json.loads(keys.canonical_json(value))) == keys.canonical_json(value)


def test_canonical_json_refuses_nan() -> None:
    """NaN has no JSON form, so it cannot be signed."""
    with pytest.raises(ValueError, match="JSON compliant"):
        keys.canonical_json({"price": float("nan")})


@given(
    st.sampled_from(PURPOSES),
    st.sampled_from(PURPOSES),
    st.dictionaries(st.sampled_from(["ocid", "bidder_id", "x"]), st.integers() | st.text()),
)
@settings(max_examples=60, deadline=None)
def test_a_signature_for_one_purpose_does_not_pass_for_another(
    signed_for: str, checked_for: str, fields: dict[str, Any]
) -> None:
    """The purpose is part of what is signed: a signature counts only for its own purpose."""
    signature = keys.sign(BIDDER_KEY, signed_for, fields)
    valid = keys.verify(keys.raw_public(BIDDER_KEY), signature, checked_for, fields)
    assert valid is (signed_for == checked_for)


def test_a_bid_signature_does_not_pass_as_a_withdrawal() -> None:
    """A bidder's signature over a bid cannot be presented as its withdrawal."""
    fields = committee_sealing.bid_signature_fields(SEALED)
    assert keys.verify(keys.raw_public(BIDDER_KEY), SEALED.signature, BID_SIGNATURE, fields)
    assert not keys.verify(keys.raw_public(BIDDER_KEY), SEALED.signature, keys.WITHDRAWAL, fields)
