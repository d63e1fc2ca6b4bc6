"""A member's committee keys are recorded with the member's own signature binding them, so
that anyone reading the key log can tell a key the member registered from one written in
its name."""

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from bidding import keys
from procurement import parties
from schemas.commands import Actor, RegisterCommitteeKeys, Role
from schemas.events import CommitteeKeysRegistered


def test_the_recorded_keys_carry_the_members_binding_signature() -> None:
    signing, encryption = Ed25519PrivateKey.generate(), X25519PrivateKey.generate()
    fields = keys.committee_keys_fields(
        "officer-ana", keys.raw_public(encryption), keys.raw_public(signing)
    )
    command = RegisterCommitteeKeys(
        officer_id="officer-ana",
        encryption_key=keys.raw_public(encryption),
        signing_key=keys.raw_public(signing),
        proof=keys.sign(signing, keys.COMMITTEE_KEYS, fields),
    )
    actor = Actor(id="officer-ana", role=Role.OFFICER, agency_id="agency-1")
    [event] = parties.register_committee_keys(
        command, actor, proof_valid=True, already_registered=False
    )
    assert isinstance(event, CommitteeKeysRegistered)
    assert event.proof is not None
    recorded = keys.committee_keys_fields("officer-ana", event.encryption_key, event.signing_key)
    assert keys.verify(event.signing_key, event.proof, keys.COMMITTEE_KEYS, recorded)
    # The event as the key log serves it keeps the proof, so the check needs nothing else.
    again = CommitteeKeysRegistered.model_validate_json(event.model_dump_json())
    assert again.proof == event.proof
