"""The supplier's client seals only to committee keys it verified against the key log, and a
member confirms only material holding its own keys: an operator who writes its own key
into the committee's material (``party_keys``) makes sealing refuse, saying which key."""

from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from bidding import committee_material, committee_sealing, keys, suites
from schemas.committee import CommitteeMaterial, CommitteeMember
from sdk import committee as client
from sdk.key_checks import KeyCheckFailed
from tests.unit.test_key_checks import OCID, KeyLogWorld, Member
from tests.unit.test_sealing import bid_content

MEMBERS = [Member("officer-a"), Member("officer-b"), Member("officer-c")]
WORLD = KeyLogWorld(MEMBERS)
BIDDER = Ed25519PrivateKey.generate()


def material(encryption: dict[str, bytes] | None = None) -> CommitteeMaterial:
    return CommitteeMaterial(
        ocid=OCID,
        suite="x25519",
        threshold=2,
        members=[
            CommitteeMember(
                officer_id=m.officer_id,
                encryption_key=(encryption or {}).get(m.officer_id, m.public[0]),
                signing_key=m.public[1],
            )
            for m in MEMBERS
        ],
    )


def served(the_material: CommitteeMaterial, confirming: list[Member]) -> dict[str, Any]:
    confirmations = [
        committee_material.confirm(the_material, m.officer_id, m.signing) for m in confirming
    ]
    return committee_material.public_view(the_material, confirmations)


def content() -> Any:
    return bid_content(ocid=OCID)


def test_a_committee_confirmed_as_logged_is_sealed_to() -> None:
    view = served(material(), MEMBERS[:2])
    bid = client.seal_verified(view, WORLD.platform_key, WORLD, content(), 1, BIDDER)
    assert bid.material_sha256 == view["material_sha256"]
    assert [s.officer_id for s in bid.key_shares] == ["officer-a", "officer-b", "officer-c"]


def test_a_member_key_substituted_by_the_operator_makes_sealing_refuse(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sealed: list[object] = []
    monkeypatch.setattr(committee_sealing, "seal_bid", lambda *a: sealed.append(a))
    operators = keys.raw_public(X25519PrivateKey.generate())
    substituted = material({"officer-b": operators})
    # The operator can serve any material and digest; the members' confirmations are of
    # the material they checked, so it can only serve those, or none.
    view = served(material(), MEMBERS[:2])
    view |= {k: v for k, v in served(substituted, []).items() if k != "confirmations"}
    with pytest.raises(KeyCheckFailed, match=r"officer-b's encryption key .* substituted key"):
        client.seal_verified(view, WORLD.platform_key, WORLD, content(), 1, BIDDER)
    assert sealed == []


def test_a_committee_short_of_k_confirmations_is_not_sealed_to() -> None:
    view = served(material(), MEMBERS[:1])
    with pytest.raises(KeyCheckFailed, match="1 valid confirmation of distinct members"):
        client.seal_verified(view, WORLD.platform_key, WORLD, content(), 1, BIDDER)


def test_a_member_confirms_only_its_own_keys_and_the_logged_keys_of_the_others() -> None:
    # A member whose encryption keys are those of KeyLogWorld's first member.
    mine = suites.MemberPrivateKeys(MEMBERS[0].encryption)
    view = served(material(), [])
    confirmation = client.confirm(
        view, "officer-a", mine, MEMBERS[0].signing, WORLD.platform_key, WORLD
    )
    assert committee_material.confirmation_valid(material(), confirmation)
    operators = keys.raw_public(X25519PrivateKey.generate())
    with pytest.raises(
        KeyCheckFailed, match="officer-a's encryption key in the material is not this member's own"
    ):
        client.confirm(
            served(material({"officer-a": operators}), []),
            "officer-a", mine, MEMBERS[0].signing, WORLD.platform_key, WORLD,
        )  # fmt: skip
    with pytest.raises(KeyCheckFailed, match=r"officer-c's encryption key .* substituted key"):
        client.confirm(
            served(material({"officer-c": operators}), []),
            "officer-a", mine, MEMBERS[0].signing, WORLD.platform_key, WORLD,
        )  # fmt: skip
