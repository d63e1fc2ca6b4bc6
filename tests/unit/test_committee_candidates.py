"""Committee candidates are read from each officer's own events: its registration (agency,
role, who registered it) and whether it registered committee keys. No database."""

import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from app.committee_candidates import committee_candidates
from app.memory_store import MemoryEventStore
from procurement.committee_rules import (
    CommitteeCandidate,
    check_committee,
    member_must_have_committee_keys,
)
from procurement.errors import Rejected
from schemas.commands import Role
from schemas.events import CommitteeKeysRegistered, Event, OfficerRegistered, envelope
from tests.unit.examples import NOW

AGENCY = "agency-RO-CUI-4305857"
KEY = X25519PrivateKey.generate().public_key().public_bytes_raw()


def recorded(store: MemoryEventStore, aggregate_id: str, *events: Event) -> None:
    for sequence, event in enumerate(events, start=1):
        item = envelope(
            event,
            event_id=uuid.uuid4(),
            aggregate_id=aggregate_id,
            sequence=sequence,
            actor="operator",
            occurred_at=NOW,
        )
        store._streams.setdefault(aggregate_id, []).append(item)


def officer(
    store: MemoryEventStore, officer_id: str, by: str | None, by_role: Role, keys: bool
) -> None:
    registered = OfficerRegistered.model_validate(
        {"officer_id": officer_id, "agency_id": AGENCY, "name": "Ion", "email": "ion@cluj.ro"}
        | ({"registered_by": by, "registered_by_role": by_role} if by else {})
    )
    with_keys = CommitteeKeysRegistered(officer_id=officer_id, encryption_key=KEY, signing_key=KEY)
    recorded(store, officer_id, registered, *([with_keys] if keys else []))


async def test_candidates_carry_registrar_and_keys_in_the_order_named() -> None:
    """Each candidate says who registered it and whether it has keys; a duplicate stays, for
    the rule to refuse; an older registration reads as an unknown officer's."""
    store = MemoryEventStore()
    officer(store, "officer-a", "admin-1", Role.AGENCY_ADMIN, keys=True)
    officer(store, "officer-b", "operator", Role.OPERATOR, keys=False)
    officer(store, "officer-old", None, Role.OFFICER, keys=True)
    found = await committee_candidates(
        store, ["officer-b", "officer-a", "officer-old", "officer-b"]
    )
    a = CommitteeCandidate("officer-a", AGENCY, "admin-1", Role.AGENCY_ADMIN, has_keys=True)
    b = CommitteeCandidate("officer-b", AGENCY, "operator", Role.OPERATOR, has_keys=False)
    old = CommitteeCandidate("officer-old", AGENCY, None, Role.OFFICER, has_keys=True)
    assert found == [b, a, old, b]
    with pytest.raises(Rejected) as refusal:
        check_committee(found[1:3], "officer-z", AGENCY, 2)
    assert refusal.value.code == "member_not_independent"


async def test_an_unknown_member_is_refused() -> None:
    """An id that no officer registered under cannot sit."""
    with pytest.raises(Rejected) as refusal:
        await committee_candidates(MemoryEventStore(), ["supplier-RO-1"])
    assert refusal.value.code == "unknown_member"


async def test_keys_no_share_can_be_sealed_to_count_as_none() -> None:
    """Keys of small order recorded before registration refused them: their holder is a
    member without keys, so it cannot name itself to a committee no bid could be sealed to."""
    store = MemoryEventStore()
    registered = OfficerRegistered.model_validate(
        {"officer_id": "officer-w", "agency_id": AGENCY, "name": "Ion", "email": "ion@cluj.ro"}
        | {"registered_by": "operator", "registered_by_role": Role.OPERATOR}
    )
    weak = CommitteeKeysRegistered(
        officer_id="officer-w", encryption_key=bytes(32), signing_key=KEY
    )
    recorded(store, "officer-w", registered, weak)
    [found] = await committee_candidates(store, ["officer-w"])
    assert not found.has_keys
    with pytest.raises(Rejected) as refusal:
        member_must_have_committee_keys(found)
    assert refusal.value.code == "member_without_keys"
