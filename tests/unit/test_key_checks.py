"""A supplier's client checks a committee's key material against the key log before sealing:
each forgery an operator or a network could make is refused, naming what did not verify."""

import base64
import copy
import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from bidding import keys, merkle
from publication import transparency
from sdk import key_checks
from sdk.audit.sources import Unavailable
from sdk.key_checks import KeyCheckFailed

OCID = "ocds-000000-2026-000042"
RECORDED = "2026-12-07T05:11:01.123456Z"


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


@dataclass
class Member:
    officer_id: str
    signing: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    encryption: X25519PrivateKey = field(default_factory=X25519PrivateKey.generate)

    @property
    def public(self) -> tuple[bytes, bytes]:
        return keys.raw_public(self.encryption), keys.raw_public(self.signing)


def key_event(
    officer_id: str, encryption: bytes, signing: bytes, signer: Ed25519PrivateKey
) -> dict[str, Any]:
    fields = keys.committee_keys_fields(officer_id, encryption, signing)
    return {
        "type": "CommitteeKeysRegistered",
        "officer_id": officer_id,
        "encryption_key": b64(encryption),
        "signing_key": b64(signing),
        "proof": b64(keys.sign(signer, keys.COMMITTEE_KEYS, fields)),
    }


class KeyLogWorld:
    """An in-memory key log with signed heads, served as ``GET /transparency/keys/{id}``."""

    def __init__(self, members: list[Member]) -> None:
        self.platform = Ed25519PrivateKey.generate()
        self.head_signer = self.platform
        self.leaves: list[bytes] = []
        self.logged: dict[str, list[tuple[transparency.Entry, dict[str, Any]]]] = {}
        for member in members:
            encryption, signing = member.public
            self.log(
                member.officer_id, key_event(member.officer_id, encryption, signing, member.signing)
            )

    def log(self, officer_id: str, event: dict[str, Any]) -> None:
        sequence = 2 + len(self.logged.get(officer_id, []))
        event_id = str(uuid.uuid4())
        envelope = {
            "aggregate_id": officer_id,
            "event": event,
            "event_id": event_id,
            "sequence": sequence,
        }
        document = transparency.event_document(
            officer_id, event_id, sequence, event["type"], RECORDED, envelope
        )
        entry = transparency.entry_for(len(self.leaves), document)
        self.leaves.append(entry.leaf_hash())
        self.logged.setdefault(officer_id, []).append((entry, document))

    def get(self, path: str, params: Any = None) -> Any:
        party_id = path.removeprefix("/transparency/keys/")
        if party_id not in self.logged:
            raise Unavailable(f"GET {path} answered 404: unknown party")
        size = len(self.leaves)
        head = transparency.sign_head(
            self.head_signer, size, merkle.root(self.leaves), datetime.now(UTC)
        )
        return {
            "party_id": party_id,
            "head": {
                "tree_size": head.tree_size,
                "root": head.root,
                "timestamp": head.timestamp,
                "key_id": keys.key_id(keys.raw_public(self.platform)),
                "signature": b64(head.signature),
            },
            "entries": [
                {
                    "leaf_index": entry.leaf_index,
                    "entry": entry.as_json(),
                    "leaf_hash": entry.leaf_hash().hex(),
                    "document": copy.deepcopy(document),
                    "audit_path": [
                        h.hex() for h in merkle.inclusion_proof(self.leaves, entry.leaf_index)
                    ],
                }
                for entry, document in self.logged[party_id]
            ],
            "next_after": None,
        }

    @property
    def platform_key(self) -> bytes:
        return keys.raw_public(self.platform)


def committee_answer(members: list[Member], threshold: int = 2, confirm: int = 3) -> dict[str, Any]:
    material = {
        "purpose": "procurement-committee-material/1",
        "ocid": OCID,
        "suite": "x25519",
        "threshold": threshold,
        "members": [
            {
                "officer_id": m.officer_id,
                "encryption_key": b64(m.public[0]),
                "signing_key": b64(m.public[1]),
            }
            for m in sorted(members, key=lambda m: m.officer_id)
        ],
    }
    digest = hashlib.sha256(keys.canonical_json(material)).hexdigest()
    return {
        "ocid": OCID,
        "material": material,
        "material_sha256": digest,
        "confirmations": [confirmation(m, digest) for m in members[:confirm]],
    }


def confirmation(member: Member, digest: str) -> dict[str, Any]:
    fields = {"ocid": OCID, "officer_id": member.officer_id, "material_sha256": digest}
    signature = keys.sign(member.signing, "procurement-committee-confirmation/1", fields)
    return {"officer_id": member.officer_id, "signature": b64(signature)}


def refresh_digest(committee: dict[str, Any], members: list[Member]) -> None:
    """The material changed: its digest and every confirmation made again over it."""
    digest = hashlib.sha256(keys.canonical_json(committee["material"])).hexdigest()
    committee["material_sha256"] = digest
    committee["confirmations"] = [confirmation(m, digest) for m in members]


@pytest.fixture
def members() -> list[Member]:
    return [Member(f"officer-{n}") for n in range(1, 4)]


@pytest.fixture
def world(members: list[Member]) -> KeyLogWorld:
    return KeyLogWorld(members)


def refused(committee: dict[str, Any], world: KeyLogWorld, *expected: str) -> str:
    with pytest.raises(KeyCheckFailed) as failure:
        key_checks.verify_committee(committee, world.platform_key, world)
    message = str(failure.value)
    for part in expected:
        assert part in message, message
    return message


def test_an_honest_committee_verifies(members: list[Member], world: KeyLogWorld) -> None:
    """Keys as logged, bound by each member, confirmed by all: nothing is refused."""
    key_checks.verify_committee(committee_answer(members), world.platform_key, world)


def test_an_operators_key_in_place_of_a_members_is_refused(
    members: list[Member], world: KeyLogWorld
) -> None:
    """The operator wrote its own encryption key for officer-2 (party_keys): the material
    no longer holds the key the log holds for it, even with confirmations made again."""
    committee = committee_answer(members)
    operator = X25519PrivateKey.generate()
    committee["material"]["members"][1]["encryption_key"] = b64(keys.raw_public(operator))
    refresh_digest(committee, members)
    refused(committee, world, "officer-2", "encryption key", "key log")


def test_a_key_logged_by_the_operator_without_the_members_binding_is_refused(
    members: list[Member], world: KeyLogWorld
) -> None:
    """An operator who also logs its key for officer-2 cannot make officer-2's signature
    binding it: the latest key entry's binding signature does not verify."""
    operator = X25519PrivateKey.generate()
    _, signing = members[1].public
    forged = key_event(
        "officer-2", keys.raw_public(operator), signing, Ed25519PrivateKey.generate()
    )
    world.log("officer-2", forged)
    committee = committee_answer(members)
    committee["material"]["members"][1]["encryption_key"] = forged["encryption_key"]
    refresh_digest(committee, members)
    refused(committee, world, "officer-2", "binding signature")


def test_a_member_missing_from_the_key_log_is_refused(
    members: list[Member], world: KeyLogWorld
) -> None:
    """A member the log holds no key for cannot be sealed to."""
    del world.logged["officer-3"]
    refused(committee_answer(members), world, "officer-3", "key log")
    world.logged["officer-3"] = []
    refused(committee_answer(members), world, "officer-3", "no key entry")


def test_confirmations_over_other_material_do_not_count(
    members: list[Member], world: KeyLogWorld
) -> None:
    """Two members confirmed another digest: one valid confirmation is fewer than k = 2."""
    committee = committee_answer(members)
    other = "ab" * 32
    committee["confirmations"] = [confirmation(members[0], committee["material_sha256"])] + [
        confirmation(m, other) for m in members[1:]
    ]
    refused(committee, world, "1 valid confirmation", "threshold 2", "officer-2")


def test_fewer_than_k_confirmations_are_refused(members: list[Member], world: KeyLogWorld) -> None:
    """k = 3 with two confirmations, one of them repeated, is not confirmed."""
    committee = committee_answer(members, threshold=3, confirm=2)
    committee["confirmations"].append(committee["confirmations"][0])
    refused(committee, world, "2 valid confirmations", "threshold 3")


def test_a_head_not_signed_by_the_pinned_platform_key_is_refused(
    members: list[Member], world: KeyLogWorld
) -> None:
    """Heads signed by another key prove nothing against the pinned key."""
    world.head_signer = Ed25519PrivateKey.generate()
    refused(committee_answer(members), world, "head", "signature")


def test_an_altered_document_or_a_bad_inclusion_proof_is_refused(
    members: list[Member], world: KeyLogWorld
) -> None:
    """A key entry must be included under the signed head, and its document hash to it."""
    entry, document = world.logged["officer-1"][0]
    document["payload"]["event"]["encryption_key"] = b64(
        keys.raw_public(X25519PrivateKey.generate())
    )
    refused(committee_answer(members), world, "officer-1", "document")
    world.logged["officer-1"][0] = (
        transparency.Entry(**{**entry.as_json(), "leaf_index": entry.leaf_index + 1}),
        document,
    )
    refused(committee_answer(members), world, "officer-1")


def test_a_wrong_digest_threshold_or_suite_is_refused(
    members: list[Member], world: KeyLogWorld
) -> None:
    """The material's digest, 2 <= k <= n <= 20, and a known suite."""
    committee = committee_answer(members)
    committee["material_sha256"] = "00" * 32
    refused(committee, world, "material_sha256")
    for threshold in (1, 4):
        committee = committee_answer(members)
        committee["material"]["threshold"] = threshold
        refresh_digest(committee, members)
        refused(committee, world, "threshold")
    committee = committee_answer(members)
    committee["material"]["suite"] = "rsa1024"
    refresh_digest(committee, members)
    refused(committee, world, "suite")
    committee = committee_answer(members)
    committee["material"]["members"].reverse()
    refresh_digest(committee, members)
    refused(committee, world, "sorted")
    committee = committee_answer(members)
    committee["material"]["members"][0]["officer_id"] = "../platform/keys"
    refresh_digest(committee, members)
    refused(committee, world, "not an identifier")


def test_one_key_holder_in_two_seats_is_refused(members: list[Member], world: KeyLogWorld) -> None:
    """Two members with the same keys are one holder: its shares would open k-of-n alone."""
    committee = committee_answer(members)
    twin = committee["material"]["members"][0]
    committee["material"]["members"][1] |= {
        "encryption_key": twin["encryption_key"],
        "signing_key": twin["signing_key"],
    }
    refresh_digest(committee, members)
    refused(committee, world, "same encryption_key")


def test_the_platform_key_is_pinned_on_first_use_and_a_change_refused(tmp_path: Path) -> None:
    """The first key is kept in a 0600 file beside the key file; another key is refused."""
    key_file = tmp_path / "officer.json"
    state = key_checks.platform_key_file(key_file)
    assert state.parent == key_file.parent
    first = keys.raw_public(Ed25519PrivateKey.generate())
    assert key_checks.pin_platform_key(state, first) == first
    assert state.stat().st_mode & 0o777 == 0o600
    assert key_checks.pin_platform_key(state, first) == first
    with pytest.raises(KeyCheckFailed, match="platform key changed"):
        key_checks.pin_platform_key(state, keys.raw_public(Ed25519PrivateKey.generate()))


def test_a_member_checks_the_material_before_any_confirmation(
    members: list[Member], world: KeyLogWorld
) -> None:
    """Before confirming, a member checks every member's keys against the log alone: the
    material verifies without confirmations, though it may not be sealed to yet."""
    committee = committee_answer(members, confirm=0)
    material, digest = key_checks.verify_material(committee, world.platform_key, world)
    assert digest == committee["material_sha256"]
    assert material == committee["material"]
    refused(committee, world, "0 valid confirmations")


def test_a_member_registered_without_a_hybrid_key_verifies_for_an_x25519_tender(
    members: list[Member],
) -> None:
    """A member registered without a post-quantum key (``hybrid_encryption_key: null``):
    the null is no key, neither checked as base64 nor bound, and its x25519 keys verify."""
    world = KeyLogWorld(members)
    encryption, signing = members[1].public
    registered = key_event("officer-2", encryption, signing, members[1].signing)
    world.logged["officer-2"] = []
    world.log("officer-2", registered | {"hybrid_encryption_key": None})
    key_checks.verify_committee(committee_answer(members), world.platform_key, world)
    (entry,) = key_checks.party_key_log(world, "officer-2", world.platform_key)
    assert entry.public_keys() == {"encryption_key": encryption, "signing_key": signing}
    assert entry.binding_valid("officer-2")
