"""Receipts, their Merkle leaves and proofs, checked with public data only; and the opening,
which checks each current bid against what was recorded before decrypting it."""

import hashlib
import json
from datetime import UTC, timedelta, timezone
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from bidding import (
    committee_opening,
    committee_sealing,
    keys,
    merkle,
    opening,
    receipts,
    shamir,
    suites,
    verify,
)
from bidding.opening import Opened
from bidding.verify import NotVerified
from schemas.bids import Receipt, SealedBid, SignedReceipt
from schemas.committee import CommitteeMaterial, CommitteeMember
from schemas.events import BidOpened, BidRejected, BidSubmitted, BidWithdrawn
from tests.strategies import aware_datetimes, identifiers
from tests.unit.examples import BID, KEY_SHARES, NOW, OCID, RECEIPT

PLATFORM_KEY = Ed25519PrivateKey.generate()
OTHER_PLATFORM_KEY = Ed25519PrivateKey.generate()
PLATFORM = keys.raw_public(PLATFORM_KEY)


def outsiders_leaf(published: str) -> bytes:
    """The leaf as someone with only the published JSON and RFC 9162 computes it."""
    receipt = json.loads(published)["receipt"]
    data = json.dumps(receipt, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(b"\x00" + data.encode()).digest()


@st.composite
def receipts_(draw: st.DrawFn) -> Receipt:
    """Receipts of bids and withdrawals, received at any microsecond, in UTC or an offset."""
    kind = draw(st.sampled_from(["bid", "withdrawal"]))
    offset = timezone(timedelta(minutes=draw(st.integers(-12 * 60, 14 * 60))))
    received = draw(aware_datetimes()).astimezone(draw(st.sampled_from([UTC, offset])))
    return Receipt(
        kind=kind,
        bid_id=draw(identifiers()),
        ocid=draw(identifiers()),
        bidder_id=draw(identifiers()),
        lots=tuple(draw(st.lists(identifiers(), max_size=3))) if kind == "bid" else (),
        version=draw(st.integers(1, 1_000_000)),
        ciphertext_sha256=draw(st.binary(min_size=32, max_size=32)).hex()
        if kind == "bid"
        else None,
        received_at=received,
        log_index=draw(st.integers(0, 10**9)),
    )


# Receipts


@given(receipts_())
@settings(max_examples=50, deadline=None)
def test_a_signed_receipt_verifies_with_the_platform_key(receipt: Receipt) -> None:
    """The platform's signature checks, here and after the receipt went through JSON."""
    signed = receipts.sign_receipt(receipt, PLATFORM_KEY)
    assert signed.key_id == keys.key_id(PLATFORM)
    assert receipts.receipt_valid(signed, PLATFORM)
    parsed = SignedReceipt.model_validate_json(signed.model_dump_json())
    assert receipts.receipt_valid(parsed, PLATFORM)
    verify.check_receipt(parsed, PLATFORM)


def test_a_receipt_does_not_verify_with_another_key() -> None:
    """Neither another platform key nor another key id passes."""
    signed = receipts.sign_receipt(RECEIPT, PLATFORM_KEY)
    other = keys.raw_public(OTHER_PLATFORM_KEY)
    assert not receipts.receipt_valid(signed, other)
    forged = receipts.sign_receipt(RECEIPT, OTHER_PLATFORM_KEY)
    assert not receipts.receipt_valid(forged, PLATFORM)
    assert not receipts.receipt_valid(
        signed.model_copy(update={"key_id": keys.key_id(other)}), PLATFORM
    )
    with pytest.raises(NotVerified):
        verify.check_receipt(forged, PLATFORM)


RECEIPT_CHANGES: dict[str, Any] = {
    "kind": "withdrawal",
    "bid_id": "bid-2",
    "ocid": "ocds-000000-0002",
    "bidder_id": "supplier-RO-CUI-2",
    "lots": ("lot-2",),
    "version": 2,
    "ciphertext_sha256": "00" * 32,
    "material_sha256": "00" * 32,
    "shares_sha256": "00" * 32,
    "received_at": NOW + timedelta(microseconds=1),
    "log_index": 1,
}


@pytest.mark.parametrize("field", RECEIPT_CHANGES)
def test_a_receipt_with_any_changed_field_does_not_verify(field: str) -> None:
    """The signature covers every field of the receipt."""
    assert set(RECEIPT_CHANGES) == set(Receipt.model_fields)
    signed = receipts.sign_receipt(RECEIPT, PLATFORM_KEY)
    changed = RECEIPT.model_copy(update={field: RECEIPT_CHANGES[field]})
    altered = signed.model_copy(update={"receipt": changed})
    assert not receipts.receipt_valid(altered, PLATFORM)
    assert receipts.leaf_hash(changed) != receipts.leaf_hash(RECEIPT)


@given(receipts_())
@settings(max_examples=50, deadline=None)
def test_the_leaf_is_the_hash_of_the_receipts_canonical_json(receipt: Receipt) -> None:
    """leaf = SHA-256(0x00 || canonical JSON of the receipt), whether computed by the platform
    or by an outsider from the JSON it was given."""
    expected = merkle.leaf_hash(keys.canonical_json(receipt.model_dump(mode="json")))
    assert receipts.leaf_hash(receipt) == expected
    signed = receipts.sign_receipt(receipt, PLATFORM_KEY)
    published = signed.model_dump_json()
    parsed = SignedReceipt.model_validate_json(published)
    assert receipts.leaf_hash(parsed.receipt) == expected
    assert outsiders_leaf(published) == expected


# Inclusion and consistency


def log_of(size: int) -> list[SignedReceipt]:
    return [
        receipts.sign_receipt(
            RECEIPT.model_copy(update={"bid_id": f"bid-{i}", "log_index": i}), PLATFORM_KEY
        )
        for i in range(size)
    ]


LOG = log_of(24)
LEAVES = [receipts.leaf_hash(signed.receipt) for signed in LOG]


def inclusion(leaves: list[bytes], index: int) -> dict[str, Any]:
    """The proof as /tenders/{ocid}/bid-log/inclusion serves it."""
    return {
        "ocid": OCID,
        "leaf_index": index,
        "tree_size": len(leaves),
        "root": merkle.root(leaves).hex(),
        "audit_path": [h.hex() for h in merkle.inclusion_proof(leaves, index)],
    }


def consistency(leaves: list[bytes], first: int) -> dict[str, Any]:
    """The proof as /tenders/{ocid}/bid-log/consistency serves it."""
    return {
        "ocid": OCID,
        "first": first,
        "second": len(leaves),
        "first_root": merkle.root(leaves[:first]).hex(),
        "second_root": merkle.root(leaves).hex(),
        "proof": [h.hex() for h in merkle.consistency_proof(leaves, first)],
    }


sizes_and_indexes = st.integers(1, len(LOG)).flatmap(
    lambda size: st.tuples(st.just(size), st.integers(0, size - 1))
)


@given(sizes_and_indexes)
@settings(max_examples=100, deadline=None)
def test_every_receipt_of_the_log_is_proved_included(size_and_index: tuple[int, int]) -> None:
    """With the real audit path, each receipt checks against the tree head, trusted or served."""
    size, index = size_and_index
    leaves = LEAVES[:size]
    proof = inclusion(leaves, index)
    verify.check_inclusion(LOG[index], proof)
    verify.check_inclusion(LOG[index], proof, root=merkle.root(leaves).hex(), tree_size=size)
    via_json = json.loads(json.dumps(proof))
    verify.check_inclusion(
        SignedReceipt.model_validate_json(LOG[index].model_dump_json()), via_json
    )


@given(sizes_and_indexes)
@settings(max_examples=50, deadline=None)
def test_a_receipt_not_in_the_log_is_not_proved_included(size_and_index: tuple[int, int]) -> None:
    """A receipt the log does not hold fails, even with the audit path of its position."""
    size, index = size_and_index
    stranger = receipts.sign_receipt(
        RECEIPT.model_copy(update={"bid_id": "bid-forged", "log_index": index}), PLATFORM_KEY
    )
    with pytest.raises(NotVerified):
        verify.check_inclusion(stranger, inclusion(LEAVES[:size], index))


def test_a_receipt_at_another_position_is_not_proved_included() -> None:
    """The proof of leaf 3 does not prove leaf 4."""
    with pytest.raises(NotVerified, match="leaf"):
        verify.check_inclusion(LOG[4], inclusion(LEAVES, 3))


@given(sizes_and_indexes)
@settings(max_examples=50, deadline=None)
def test_a_proof_against_another_trusted_root_fails(size_and_index: tuple[int, int]) -> None:
    """Against the root of another tree, served or trusted, inclusion is not proved."""
    size, index = size_and_index
    proof = inclusion(LEAVES[:size], index)
    other_root = merkle.root([*LEAVES[:size], merkle.leaf_hash(b"extra")]).hex()
    with pytest.raises(NotVerified):
        verify.check_inclusion(LOG[index], proof, root=other_root)
    with pytest.raises(NotVerified):
        verify.check_inclusion(LOG[index], proof | {"root": other_root}, root=other_root)


def test_a_proof_for_another_tree_size_fails() -> None:
    """A trusted head pins the size: a proof of another size does not pass for it."""
    proof = inclusion(LEAVES[:10], 3)
    with pytest.raises(NotVerified, match="tree of"):
        verify.check_inclusion(LOG[3], proof, tree_size=11)
    with pytest.raises(NotVerified, match="tree of"):
        verify.check_inclusion(LOG[3], proof | {"tree_size": 11}, tree_size=10)
    with pytest.raises(NotVerified):
        verify.check_inclusion(LOG[3], proof | {"tree_size": 3})


@given(sizes_and_indexes, st.data())
@settings(max_examples=50, deadline=None)
def test_an_altered_audit_path_fails(size_and_index: tuple[int, int], data: st.DataObject) -> None:
    """Change one hash of the audit path, drop one, or add one: inclusion is not proved."""
    size, index = size_and_index
    proof = inclusion(LEAVES[:size], index)
    path: list[str] = proof["audit_path"]
    altered = [*path, "00" * 32]
    if path:
        at = data.draw(st.integers(0, len(path) - 1))
        changed = bytearray(bytes.fromhex(path[at]))
        changed[data.draw(st.integers(0, 31))] ^= 1 << data.draw(st.integers(0, 7))
        altered = data.draw(
            st.sampled_from([[*path[:at], changed.hex(), *path[at + 1 :]], path[:-1], altered])
        )
    with pytest.raises(NotVerified):
        verify.check_inclusion(LOG[index], proof | {"audit_path": altered})


def test_a_proof_hash_that_is_not_hex_fails() -> None:
    """Garbage in a served proof is a failed check, not a crash."""
    proof = inclusion(LEAVES, 3)
    with pytest.raises(NotVerified, match="hex"):
        verify.check_inclusion(LOG[3], proof | {"audit_path": ["zz" * 32]})


old_and_new_sizes = st.integers(1, len(LOG)).flatmap(
    lambda new: st.tuples(st.integers(1, new), st.just(new))
)


@given(old_and_new_sizes)
@settings(max_examples=100, deadline=None)
def test_a_real_consistency_proof_passes(sizes: tuple[int, int]) -> None:
    """A later tree head of the log extends every earlier one."""
    first, second = sizes
    verify.check_consistency(consistency(LEAVES[:second], first))


@given(old_and_new_sizes, st.data())
@settings(max_examples=100, deadline=None)
def test_an_altered_consistency_proof_fails(sizes: tuple[int, int], data: st.DataObject) -> None:
    """Any changed hash, a root of another log, or another old size, fails the check.

    (A claimed new size is not pinned by the proof alone, as in RFC 9162: a proof of 2 -> 9
    also verifies as 2 -> 10 against the same roots, so the new size is not altered here.)"""
    first, second = sizes
    proof = consistency(LEAVES[:second], first)
    rewritten = [merkle.leaf_hash(b"rewritten"), *LEAVES[1:second]]
    alterations: list[dict[str, Any]] = [
        {"first_root": merkle.root(rewritten[:first]).hex()},
        {"second_root": merkle.root(rewritten).hex()},
        {"proof": [*proof["proof"], "00" * 32]},
    ]
    if first > 1:
        alterations.append({"first": first - 1})
    if first < second:
        alterations.append({"first": first + 1})
    for at, value in enumerate(proof["proof"]):
        changed = bytearray(bytes.fromhex(value))
        changed[data.draw(st.integers(0, 31))] ^= 1 << data.draw(st.integers(0, 7))
        hashes = list(proof["proof"])
        hashes[at] = changed.hex()
        alterations.append({"proof": hashes})
    with pytest.raises(NotVerified):
        verify.check_consistency(proof | data.draw(st.sampled_from(alterations)))


# The opening


def committee(ocid: str = OCID) -> tuple[CommitteeMaterial, list[suites.MemberPrivateKeys]]:
    members = [suites.MemberPrivateKeys.generate() for _ in range(3)]
    material = CommitteeMaterial(
        ocid=ocid,
        suite="x25519",
        threshold=2,
        members=[
            CommitteeMember(
                officer_id=f"officer-{n}",
                encryption_key=member.public("x25519"),
                signing_key=keys.raw_public(Ed25519PrivateKey.generate()),
            )
            for n, member in enumerate(members, start=1)
        ],
    )
    return material, members


MATERIAL, MEMBERS = committee()
BIDDER_KEY = Ed25519PrivateKey.generate()
BIDDER = BID.bidder_id


def submitted(
    version: int = 1, *, material: CommitteeMaterial = MATERIAL, log_index: int = 0
) -> BidSubmitted:
    """The log entry for BID sealed by its bidder to ``material``, as the platform stores it."""
    sealed = committee_sealing.seal_bid(BID, version, material, BIDDER_KEY)
    receipt = Receipt(
        kind="bid",
        bid_id=f"bid-{log_index}",
        ocid=sealed.ocid,
        bidder_id=sealed.bidder_id,
        lots=sealed.lots,
        version=version,
        ciphertext_sha256=hashlib.sha256(sealed.ciphertext).hexdigest(),
        material_sha256=sealed.material_sha256,
        shares_sha256=committee_sealing.shares_sha256(sealed.key_shares),
        received_at=NOW,
        log_index=log_index,
    )
    return BidSubmitted(
        receipt=receipt,
        ciphertext=sealed.ciphertext,
        key_commitment=sealed.key_commitment,
        material_sha256=sealed.material_sha256,
        key_shares=sealed.key_shares,
        signature=sealed.signature,
    )


def as_sent(entry: BidSubmitted) -> SealedBid:
    receipt = entry.receipt
    return SealedBid(
        ocid=receipt.ocid,
        lots=receipt.lots,
        bidder_id=receipt.bidder_id,
        version=receipt.version,
        ciphertext=entry.ciphertext,
        key_commitment=entry.key_commitment,
        material_sha256=entry.material_sha256,
        key_shares=entry.key_shares,
        signature=entry.signature,
    )


def members_shares(bid: SealedBid) -> list[shamir.Share]:
    """The shares two members' machines decrypt for this bid (those that decrypt)."""
    found = []
    for share in bid.key_shares[:2]:
        try:
            raw = committee_sealing.open_member_share(
                "x25519", bid.ocid, bid.lots, bid.bidder_id, bid.version,
                share.officer_id, share.x, share.sealed_share, MEMBERS[share.x - 1],
            )  # fmt: skip
        except suites.SealingFailed:
            continue
        found.append(shamir.Share.from_bytes(raw))
    return found


def open_entry(
    entry: BidSubmitted, leaf: bytes | None = None, bidder_key: bytes | None = None
) -> Opened:
    recorded = receipts.leaf_hash(entry.receipt) if leaf is None else leaf
    bid = as_sent(entry)
    current = committee_opening.CurrentBid(entry.receipt, bid, recorded)
    key = keys.raw_public(BIDDER_KEY) if bidder_key is None else bidder_key
    return committee_opening.open_bid(current, MATERIAL, members_shares(bid), key)


def assert_rejected(opened: Opened, code: str) -> None:
    assert opened.content is None
    assert opened.reason_code == code
    event = opened.event()
    assert isinstance(event, BidRejected)
    assert event.reason_code == code


ENTRY = submitted()


def test_a_good_bid_opens_to_its_content() -> None:
    """A bid as recorded, signed by its bidder and sealed to this tender, opens."""
    opened = open_entry(ENTRY)
    assert (opened.content, opened.reason_code) == (BID, None)
    assert opened.event() == BidOpened(
        bid_id=ENTRY.receipt.bid_id, bidder_id=BIDDER, version=1, content=BID
    )


def test_a_ciphertext_that_differs_from_its_receipt_is_tampered() -> None:
    """A stored ciphertext swapped after the receipt was issued is caught by its digest."""
    swapped = ENTRY.model_copy(update={"ciphertext": submitted().ciphertext})
    assert_rejected(open_entry(swapped), "tampered")
    truncated = ENTRY.model_copy(update={"ciphertext": ENTRY.ciphertext[:-1]})
    assert_rejected(open_entry(truncated), "tampered")


def test_a_receipt_that_differs_from_the_recorded_leaf_is_tampered() -> None:
    """A receipt rewritten after the log was sealed no longer matches its leaf."""
    assert_rejected(open_entry(ENTRY, leaf=merkle.leaf_hash(b"another")), "tampered")
    rewritten = ENTRY.model_copy(
        update={"receipt": ENTRY.receipt.model_copy(update={"received_at": NOW - timedelta(1)})}
    )
    assert_rejected(open_entry(rewritten, leaf=receipts.leaf_hash(ENTRY.receipt)), "tampered")


def test_a_bid_without_its_bidders_signature_is_rejected() -> None:
    """A bad signature, or another bidder's key, rejects the bid as invalid_signature."""
    unsigned = ENTRY.model_copy(update={"signature": bytes(64)})
    assert_rejected(open_entry(unsigned), "invalid_signature")
    other = keys.raw_public(Ed25519PrivateKey.generate())
    assert_rejected(open_entry(ENTRY, bidder_key=other), "invalid_signature")
    assert_rejected(open_entry(ENTRY, bidder_key=b""), "invalid_signature")


def test_a_bid_sealed_to_another_committee_does_not_open() -> None:
    """Recorded and signed as sent, but sealed to other keys: bad_key_shares."""
    elsewhere = submitted(material=committee()[0])
    assert_rejected(open_entry(elsewhere), "bad_key_shares")


def test_a_ciphertext_replayed_as_another_version_does_not_open() -> None:
    """A version-1 ciphertext and its shares, signed and recorded as version 2, were sealed
    for another place: the members' shares do not decrypt for version 2."""
    receipt = ENTRY.receipt.model_copy(update={"version": 2})
    replayed = ENTRY.model_copy(update={"receipt": receipt})
    fields = committee_sealing.bid_signature_fields(as_sent(replayed))
    signature = keys.sign(BIDDER_KEY, committee_sealing.BID_SIGNATURE, fields)
    assert_rejected(
        open_entry(replayed.model_copy(update={"signature": signature})), "bad_key_shares"
    )


def entry(bidder: str, index: int, kind: str) -> BidSubmitted | BidWithdrawn:
    receipt = RECEIPT.model_copy(
        update={"bid_id": f"bid-{index}", "bidder_id": bidder, "log_index": index}
    )
    if kind == "bid":
        return BidSubmitted(
            receipt=receipt,
            ciphertext=b"sealed",
            key_commitment="c0" * 32,
            material_sha256="7e" * 32,
            key_shares=KEY_SHARES,
            signature=bytes(64),
        )
    withdrawal = receipt.model_copy(
        update={"kind": "withdrawal", "lots": (), "ciphertext_sha256": None}
    )
    return BidWithdrawn(receipt=withdrawal, signature=bytes(64))


def test_current_bids_keep_each_bidders_latest_bid() -> None:
    """Replacements supersede, withdrawals remove, and a bid after a withdrawal counts again."""
    log = [
        entry("a", 0, "bid"),
        entry("b", 1, "bid"),
        entry("a", 2, "bid"),
        entry("c", 3, "bid"),
        entry("c", 4, "withdrawal"),
        entry("b", 5, "withdrawal"),
        entry("b", 6, "bid"),
        entry("d", 7, "withdrawal"),
    ]
    current = opening.current_bids(list(reversed(log)))
    assert sorted(e.receipt.bid_id for e in current) == ["bid-2", "bid-6"]


@given(
    st.lists(st.tuples(st.sampled_from("abcd"), st.sampled_from(["bid", "withdrawal"]))),
    st.randoms(use_true_random=False),
)
@settings(max_examples=100, deadline=None)
def test_current_bids_are_the_latest_entries_that_are_bids(
    history: list[tuple[str, str]], rng: Any
) -> None:
    """In any order of arrival in storage, the log order decides which entry is latest."""
    log = [entry(bidder, i, kind) for i, (bidder, kind) in enumerate(history)]
    latest: dict[str, tuple[int, str]] = {}
    for i, (bidder, kind) in enumerate(history):
        latest[bidder] = (i, kind)
    expected = sorted(f"bid-{i}" for i, kind in latest.values() if kind == "bid")
    rng.shuffle(log)
    assert sorted(e.receipt.bid_id for e in opening.current_bids(log)) == expected


def test_the_log_matches_its_sealed_root_only_as_recorded() -> None:
    """The stored log recomputes the sealed root; an altered entry does not."""
    log: list[BidSubmitted | BidWithdrawn] = [entry("a", 0, "bid"), entry("b", 1, "bid")]
    root = merkle.root([receipts.leaf_hash(e.receipt) for e in log])
    assert opening.log_matches_root(list(reversed(log)), root)
    log[1] = entry("c", 1, "bid")
    assert not opening.log_matches_root(log, root)
