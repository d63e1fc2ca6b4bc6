"""A bid is sealed to one tender, lots, bidder and version, opens only there, and is signed."""

import hashlib
import json
import random
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bidding import keys, sealing
from bidding.sealing import Unsealable
from schemas.bids import BidContent, SealedBid
from tests.strategies import identifiers, texts

OCID = "ocds-000000-0001"
BIDDER = "supplier-RO-CUI-14399840"
OTHER_BIDDER = "supplier-RO-CUI-2"
PRICE = "870.00"

TENDER_KEY = X25519PrivateKey.generate()
OTHER_TENDER_KEY = X25519PrivateKey.generate()
BIDDER_KEY = Ed25519PrivateKey.generate()
OTHER_BIDDER_KEY = Ed25519PrivateKey.generate()

PURPOSES = (
    keys.SUPPLIER_REGISTRATION,
    keys.COMMITTEE_KEYS,
    keys.BID,
    keys.BID_SIGNATURE,
    keys.WITHDRAWAL,
    keys.RECEIPT,
    keys.OPENING_SHARE,
    keys.SHARE_SEAL,
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


def public(key: X25519PrivateKey) -> bytes:
    return keys.raw_public(key)


def seal(content: BidContent, version: int = 1, key: X25519PrivateKey = TENDER_KEY) -> SealedBid:
    return sealing.seal_bid(content, version, public(key), BIDDER_KEY)


def open_sealed(sealed: SealedBid, key: X25519PrivateKey = TENDER_KEY, **place: Any) -> BidContent:
    """Open ``sealed`` with ``key``, for its own place unless ``place`` says otherwise."""
    where: dict[str, Any] = {
        "ocid": sealed.ocid,
        "lots": sealed.lots,
        "bidder_id": sealed.bidder_id,
        "version": sealed.version,
    }
    return sealing.open_bid(ciphertext=sealed.ciphertext, opening_key=key, **(where | place))


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
    """Whatever a bidder seals, the opening key gives back the same content, field for field."""
    sealed = seal(content, version)
    assert (sealed.ocid, sealed.lots, sealed.bidder_id) == (
        content.ocid,
        content.lots,
        content.bidder_id,
    )
    opened = open_sealed(sealed)
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


def test_another_tender_key_cannot_open_the_bid() -> None:
    """A bid sealed to one tender's key does not open with another tender's key."""
    with pytest.raises(Unsealable) as caught:
        open_sealed(SEALED, OTHER_TENDER_KEY)
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
@example(31 * 8 + 7)  # the top bit of X25519's u-coordinate, which X25519 itself ignores
@example(0)
@example(len(SEALED.ciphertext) * 8 - 1)
@settings(max_examples=200, deadline=None)
def test_any_flipped_bit_makes_the_ciphertext_unopenable(bit: int) -> None:
    """One flipped bit anywhere, in the ephemeral key, the body or the tag, is detected."""
    altered = bytearray(SEALED.ciphertext)
    altered[bit // 8] ^= 1 << (bit % 8)
    assert_unsealable(
        SEALED.model_copy(update={"ciphertext": bytes(altered)}), "wrong_tender_or_lot"
    )


@given(st.integers(0, len(SEALED.ciphertext) - 1))
@example(0)
@example(32)
@settings(max_examples=50, deadline=None)
def test_a_truncated_ciphertext_does_not_open(length: int) -> None:
    """Cutting the ciphertext short anywhere, down to nothing, is detected."""
    truncated = SEALED.model_copy(update={"ciphertext": SEALED.ciphertext[:length]})
    assert_unsealable(truncated, "wrong_tender_or_lot")


def test_a_bid_naming_another_place_inside_its_envelope_is_refused() -> None:
    """Content sealed under the right context but naming another bidder is not accepted."""
    inside = bid_content(bidder=OTHER_BIDDER)
    context = sealing.bid_context(OCID, inside.lots, BIDDER, 1)
    plaintext = keys.canonical_json(inside.model_dump(mode="json"))
    ciphertext = sealing.SUITE.encrypt(
        plaintext, X25519PublicKey.from_public_bytes(public(TENDER_KEY)), context
    )
    with pytest.raises(Unsealable) as caught:
        sealing.open_bid(OCID, inside.lots, BIDDER, 1, ciphertext, TENDER_KEY)
    assert caught.value.code == "wrong_tender_or_lot"


def test_a_ciphertext_of_something_other_than_a_bid_is_unreadable() -> None:
    """A well-sealed plaintext that is not a valid bid opens as ``unreadable``."""
    context = sealing.bid_context(OCID, ("lot-1",), BIDDER, 1)
    recipient = X25519PublicKey.from_public_bytes(public(TENDER_KEY))
    ciphertext = sealing.SUITE.encrypt(b'{"not":"a bid"}', recipient, context)
    with pytest.raises(Unsealable) as caught:
        sealing.open_bid(OCID, ("lot-1",), BIDDER, 1, ciphertext, TENDER_KEY)
    assert caught.value.code == "unreadable"


def test_two_seals_of_one_bid_differ_but_both_open() -> None:
    """Each seal uses a fresh ephemeral key, so equal bids do not give equal ciphertexts."""
    first, second = seal(CONTENT), seal(CONTENT)
    assert first.ciphertext != second.ciphertext
    assert first.ciphertext[:32] != second.ciphertext[:32]  # the encapsulated ephemeral keys
    assert open_sealed(first) == open_sealed(second) == CONTENT


# The bidder's signature


def test_the_bidder_signature_verifies_with_the_bidder_key_only() -> None:
    """The signature is the bidder's, and no other bidder's key accepts it."""
    assert sealing.bid_signature_valid(SEALED, keys.raw_public(BIDDER_KEY))
    assert not sealing.bid_signature_valid(SEALED, keys.raw_public(OTHER_BIDDER_KEY))
    assert not sealing.bid_signature_valid(SEALED, b"\x00" * 31)


@pytest.mark.parametrize(
    "change",
    [
        {"ocid": "ocds-000000-0002"},
        {"lots": ("lot-2",)},
        {"bidder_id": OTHER_BIDDER},
        {"version": 2},
        {"ciphertext": SEALED.ciphertext[:-1]},
        {"ciphertext": seal(CONTENT).ciphertext},
        {"signature": bytes(64)},
    ],
    ids=["ocid", "lots", "bidder", "version", "truncated", "resealed", "signature"],
)
def test_the_bidder_signature_fails_for_any_changed_field(change: dict[str, Any]) -> None:
    """The signature covers the place and the ciphertext's digest: change one, it fails."""
    altered = SEALED.model_copy(update=change)
    assert not sealing.bid_signature_valid(altered, keys.raw_public(BIDDER_KEY))


def test_the_bidder_signs_the_place_and_the_ciphertext_digest() -> None:
    """The signed fields are the documented ones, so anyone can check the signature."""
    fields = {
        "ocid": OCID,
        "lots": ["lot-1"],
        "bidder_id": BIDDER,
        "version": 1,
        "ciphertext_sha256": hashlib.sha256(SEALED.ciphertext).hexdigest(),
    }
    assert keys.verify(keys.raw_public(BIDDER_KEY), SEALED.signature, keys.BID_SIGNATURE, fields)


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
    fields = sealing.bid_signature_fields(OCID, ("lot-1",), BIDDER, 1, SEALED.ciphertext)
    assert keys.verify(keys.raw_public(BIDDER_KEY), SEALED.signature, keys.BID_SIGNATURE, fields)
    assert not keys.verify(keys.raw_public(BIDDER_KEY), SEALED.signature, keys.WITHDRAWAL, fields)
