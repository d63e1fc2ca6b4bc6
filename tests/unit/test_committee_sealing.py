"""Bids sealed to a committee with no opening key: the content key exists only on the
bidder's machine and, after k members hand in their shares, in the opening's memory."""

import base64
import hashlib
import json
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers import aead

from bidding import (
    committee_material,
    committee_opening,
    committee_sealing,
    keys,
    receipts,
    shamir,
    suites,
)
from bidding.committee_opening import CurrentBid, WrongShare
from bidding.opening import Opened
from schemas.bids import KeyShare, Receipt, SealedBid
from schemas.committee import CommitteeMaterial, CommitteeMember, HandedShare
from tests.unit.test_sealing import BIDDER, OCID, bid_content

BIDDER_KEY = Ed25519PrivateKey.generate()
OFFICERS = ("officer-a", "officer-b", "officer-c")


class Member:
    def __init__(self, officer_id: str) -> None:
        self.officer_id = officer_id
        self.encryption = suites.MemberPrivateKeys.generate()
        self.signing = Ed25519PrivateKey.generate()

    def entry(self, suite: str) -> CommitteeMember:
        return CommitteeMember(
            officer_id=self.officer_id,
            encryption_key=self.encryption.public(suite),
            signing_key=keys.raw_public(self.signing),
        )

    def hand_in(self, suite: str, bids: list[tuple[str, SealedBid]]) -> list[HandedShare]:
        """What the member's CLI does: decrypt each of its shares, or say why not."""
        handed = []
        for bid_id, bid in bids:
            mine = next(s for s in bid.key_shares if s.officer_id == self.officer_id)
            try:
                share = committee_sealing.open_member_share(
                    suite, bid.ocid, bid.lots, bid.bidder_id, bid.version,
                    self.officer_id, mine.x, mine.sealed_share, self.encryption,
                )  # fmt: skip
            except suites.SealingFailed as error:
                handed.append(HandedShare(bid_id=bid_id, x=mine.x, share=None, problem=str(error)))
                continue
            handed.append(HandedShare(bid_id=bid_id, x=mine.x, share=share))
        return handed


MEMBERS = {officer: Member(officer) for officer in OFFICERS}


def material(suite: str = "x25519", threshold: int = 2) -> CommitteeMaterial:
    return CommitteeMaterial(
        ocid=OCID,
        suite=suite,
        threshold=threshold,
        members=[MEMBERS[o].entry(suite) for o in OFFICERS],
    )


def receipt_for(bid: SealedBid, index: int) -> Receipt:
    return Receipt(
        kind="bid",
        bid_id=f"bid-{index}",
        ocid=bid.ocid,
        bidder_id=bid.bidder_id,
        lots=bid.lots,
        version=bid.version,
        ciphertext_sha256=hashlib.sha256(bid.ciphertext).hexdigest(),
        material_sha256=bid.material_sha256,
        shares_sha256=committee_sealing.shares_sha256(bid.key_shares),
        received_at=datetime(2030, 3, 1, tzinfo=UTC),
        log_index=index,
    )


def opening(
    bids: list[SealedBid], the_material: CommitteeMaterial, officers: tuple[str, ...]
) -> list[Opened]:
    """Members hand in their shares; the platform checks them and opens every bid."""
    current = []
    for index, bid in enumerate(bids):
        receipt = receipt_for(bid, index)
        current.append(CurrentBid(receipt, bid, receipts.leaf_hash(receipt)))
    by_id = {entry.receipt.bid_id: entry.bid for entry in current}
    held: dict[str, list[shamir.Share]] = {}
    for officer in officers:
        handed = MEMBERS[officer].hand_in(the_material.suite, list(by_id.items()))
        for bid_id, share in committee_opening.check_handed_shares(officer, handed, by_id).items():
            held.setdefault(bid_id, []).append(share)
    keys_of_bidders = {bid.bidder_id: keys.raw_public(BIDDER_KEY) for bid in bids}
    return committee_opening.open_bids(current, the_material, held, keys_of_bidders)


def seal(amount: str = "870.00", the_material: CommitteeMaterial | None = None) -> SealedBid:
    content = bid_content(amount=amount)
    return committee_sealing.seal_bid(content, 1, the_material or material(), BIDDER_KEY)


@pytest.mark.parametrize("suite", ["x25519", "mlkem768-x25519"])
def test_k_members_open_what_the_bidder_sealed_in_either_suite(suite: str) -> None:
    the_material = material(suite)
    bid = seal(the_material=the_material)
    assert committee_sealing.bid_signature_valid(bid, keys.raw_public(BIDDER_KEY))
    [opened] = opening([bid], the_material, ("officer-a", "officer-c"))
    assert opened.reason_code is None
    assert opened.content == bid_content()


def test_k_minus_one_members_open_nothing() -> None:
    bid = seal()
    [result] = opening([bid], material(), ("officer-b",))
    assert result.content is None
    assert result.reason_code == "bad_key_shares"
    assert "1 members' shares" in (result.reason or "")


def test_nothing_the_bidder_sends_or_the_committee_publishes_holds_the_content_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The issuer keeping the key: there is none. The content key is made on the bidder's
    machine and leaves it only as shares sealed to members; no officer makes a key."""
    made: list[bytes] = []
    real = aead.AESGCM.generate_key

    def recorded(bit_length: int) -> bytes:
        made.append(real(bit_length))
        return made[-1]

    monkeypatch.setattr(aead.AESGCM, "generate_key", recorded)
    the_material = material()
    bid = seal(the_material=the_material)
    [content_key] = made
    sent = (
        bid.model_dump_json().encode()
        + committee_material.material_document(the_material)
        + json.dumps(the_material.model_dump(mode="json")).encode()
    )
    for form in (content_key, content_key.hex().encode(), base64.b64encode(content_key)):
        assert form not in sent
    for share in bid.key_shares:  # a share's y is not in clear either
        assert len(share.sealed_share) > shamir.SHARE_BYTES + 16


def test_a_bid_with_a_bad_share_is_rejected_alone_and_the_others_open() -> None:
    the_material = material()
    good = seal("100.00")
    bad = seal("200.00")
    # The bidder seals officer-a garbage in place of its share, with a matching digest:
    # each share checks, but k of them rebuild no key the bidder committed to.
    forged = shamir.Share(x=1, y=12345).to_bytes()
    bogus = KeyShare(
        officer_id="officer-a",
        x=1,
        sealed_share=suites.seal(
            "x25519",
            forged,
            MEMBERS["officer-a"].encryption.public("x25519"),
            committee_sealing.share_context(OCID, bad.lots, BIDDER, 1, "officer-a", 1),
        ),
        share_sha256=hashlib.sha256(forged).hexdigest(),
    )
    shares = [bogus, *bad.key_shares[1:]]
    fields = committee_sealing.signature_fields(
        OCID, bad.lots, BIDDER, 1, bad.ciphertext, bad.key_commitment, bad.material_sha256, shares
    )
    bad = bad.model_copy(
        update={
            "key_shares": shares,
            "signature": keys.sign(BIDDER_KEY, committee_sealing.BID_SIGNATURE, fields),
        }
    )
    results = opening([good, bad], the_material, ("officer-a", "officer-b"))
    assert [r.reason_code for r in results] == [None, "bad_key_shares"]
    assert results[0].content is not None
    # With a third member at the opening, the two honest shares rebuild the bidder's key.
    results = opening([good, bad], the_material, OFFICERS)
    assert [r.reason_code for r in results] == [None, None]


def test_a_member_handing_in_a_share_other_than_the_sealed_one_is_refused() -> None:
    bid = seal()
    mine = bid.key_shares[0]
    wrong = shamir.Share(x=mine.x, y=7).to_bytes()
    with pytest.raises(WrongShare, match="not the one the bidder sealed"):
        committee_opening.check_handed_shares(
            "officer-a", [HandedShare(bid_id="bid-0", x=mine.x, share=wrong)], {"bid-0": bid}
        )
    with pytest.raises(WrongShare, match="holds no share 2"):
        committee_opening.check_handed_shares(
            "officer-a", [HandedShare(bid_id="bid-0", x=2, share=wrong)], {"bid-0": bid}
        )


def test_a_share_that_does_not_decrypt_is_reported_and_the_bid_opens_with_the_others() -> None:
    the_material = material()
    bid = seal()
    garbled = bid.key_shares[1].model_copy(update={"sealed_share": b"\x00" * 100})
    shares = [bid.key_shares[0], garbled, bid.key_shares[2]]
    handed = MEMBERS["officer-b"].hand_in(
        "x25519", [("bid-0", bid.model_copy(update={"key_shares": shares}))]
    )
    assert handed[0].share is None
    assert "not sealed to this key" in (handed[0].problem or "")
    [result] = opening([bid], the_material, OFFICERS)
    assert result.reason_code is None


def test_a_bid_sealed_to_other_keys_or_tampered_is_rejected_with_its_reason() -> None:
    the_material = material()
    other = CommitteeMaterial(
        ocid=OCID,
        suite="x25519",
        threshold=2,
        members=[Member(o).entry("x25519") for o in OFFICERS],
    )
    to_others = seal("1.00", other)
    tampered = seal("2.00")
    results = opening([to_others, tampered], the_material, OFFICERS)
    assert results[0].reason_code == "bad_key_shares"
    assert "other committee keys" in (results[0].reason or "")
    flipped = bytes([tampered.ciphertext[0] ^ 1]) + tampered.ciphertext[1:]
    receipt = receipt_for(tampered, 0)
    entry = CurrentBid(
        receipt, tampered.model_copy(update={"ciphertext": flipped}), receipts.leaf_hash(receipt)
    )
    [result] = committee_opening.open_bids(
        [entry], the_material, {}, {BIDDER: keys.raw_public(BIDDER_KEY)}
    )
    assert result.reason_code == "tampered"


def test_confirmations_count_only_members_signing_this_very_material() -> None:
    the_material = material()
    confirm_a = committee_material.confirm(the_material, "officer-a", MEMBERS["officer-a"].signing)
    assert committee_material.confirmation_valid(the_material, confirm_a)
    assert not committee_material.is_confirmed(the_material, [confirm_a, confirm_a])
    forged = committee_material.confirm(the_material, "officer-b", MEMBERS["officer-a"].signing)
    stranger = committee_material.confirm(the_material, "officer-z", MEMBERS["officer-a"].signing)
    other = material(threshold=3)
    for_other = committee_material.confirm(other, "officer-b", MEMBERS["officer-b"].signing)
    assert committee_material.confirmed_by(
        the_material, [confirm_a, forged, stranger, for_other]
    ) == ["officer-a"]
    confirm_b = committee_material.confirm(the_material, "officer-b", MEMBERS["officer-b"].signing)
    assert committee_material.is_confirmed(the_material, [confirm_a, confirm_b])


def test_the_material_document_is_canonical_json_with_base64_keys() -> None:
    the_material = material()
    document = json.loads(committee_material.material_document(the_material))
    assert document["purpose"] == "procurement-committee-material/1"
    assert [m["officer_id"] for m in document["members"]] == list(OFFICERS)
    assert base64.b64decode(document["members"][0]["encryption_key"]) == MEMBERS[
        "officer-a"
    ].encryption.public("x25519")
    assert (
        committee_material.material_sha256(the_material)
        == hashlib.sha256(keys.canonical_json(document)).hexdigest()
    )


def test_the_hybrid_suite_needs_the_hybrid_keys() -> None:
    with pytest.raises(ValueError, match="the mlkem768-x25519 suite's are 1216"):
        CommitteeMaterial(
            ocid=OCID,
            suite="mlkem768-x25519",
            threshold=2,
            members=[MEMBERS[o].entry("x25519") for o in OFFICERS],
        )
    x25519_only = suites.MemberPrivateKeys(MEMBERS["officer-a"].encryption.x25519)
    with pytest.raises(suites.SealingFailed, match="no ML-KEM-768"):
        x25519_only.public("mlkem768-x25519")


@pytest.mark.parametrize(
    "place",
    [
        {"ocid": "ocds-000000-0002"},
        {"lots": ("lot-2",)},
        {"bidder_id": "supplier-RO-CUI-2"},
        {"version": 2},
        {"officer_id": "officer-b"},
        {"x": 2},
    ],
    ids=["ocid", "lots", "bidder", "version", "officer", "x"],
)
def test_a_members_share_opens_only_for_its_bid_member_and_x(place: dict[str, object]) -> None:
    bid = seal()
    mine = bid.key_shares[0]
    where: dict[str, object] = {
        "ocid": bid.ocid,
        "lots": bid.lots,
        "bidder_id": bid.bidder_id,
        "version": bid.version,
        "officer_id": "officer-a",
        "x": mine.x,
    } | place
    with pytest.raises(suites.SealingFailed):
        committee_sealing.open_member_share(
            "x25519", sealed_share=mine.sealed_share, member_keys=MEMBERS["officer-a"].encryption,
            **where,  # type: ignore[arg-type]
        )  # fmt: skip
    with pytest.raises(suites.SealingFailed):  # and only with its member's key
        committee_sealing.open_member_share(
            "x25519", bid.ocid, bid.lots, bid.bidder_id, bid.version, "officer-a", mine.x,
            mine.sealed_share, MEMBERS["officer-b"].encryption,
        )  # fmt: skip


def test_handed_in_shares_are_signed_by_their_member_over_each_share() -> None:
    bid = seal()
    handed = MEMBERS["officer-a"].hand_in("x25519", [("bid-0", bid)])
    signing = MEMBERS["officer-a"].signing
    signature = committee_material.sign_opening_shares(OCID, "officer-a", handed, signing)
    public = keys.raw_public(signing)
    assert committee_material.opening_shares_valid(OCID, "officer-a", handed, signature, public)
    assert not committee_material.opening_shares_valid(OCID, "officer-b", handed, signature, public)
    other = [handed[0].model_copy(update={"share": bytes(67)})]
    assert not committee_material.opening_shares_valid(OCID, "officer-a", other, signature, public)
