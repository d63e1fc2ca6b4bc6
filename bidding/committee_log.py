"""A tender's committee as pure rules: naming it (who may sit is
``procurement.committee_rules``), its members confirming the key material, and the gate that
takes bids only once k members confirmed. Pure: the caller reads the candidates
(``app.committee_candidates``) and the members' registered keys.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from bidding import committee_material
from procurement.committee_rules import CommitteeCandidate, check_committee
from procurement.errors import NotAllowed, NotFound, Rejected, WrongState
from procurement.tender import Tender, TenderStatus, officer_must_act_for_the_buyer
from schemas.commands import Actor, Role
from schemas.committee import (
    CommitteeConfirmation,
    CommitteeConfirmed,
    CommitteeMaterial,
    CommitteeMember,
    CommitteeNamed,
    NameCommittee,
)


@dataclass(frozen=True)
class RegisteredKeys:
    """A member's committee keys as registered: X25519, ML-KEM-768+X25519 if any, Ed25519."""

    x25519: bytes
    hybrid: bytes | None
    signing: bytes

    def for_suite(self, suite: str) -> bytes | None:
        return self.x25519 if suite == "x25519" else self.hybrid


@dataclass(frozen=True)
class Committee:
    material: CommitteeMaterial
    confirmations: tuple[CommitteeConfirmation, ...] = ()

    @property
    def confirmed_by(self) -> list[str]:
        return committee_material.confirmed_by(self.material, self.confirmations)

    @property
    def is_confirmed(self) -> bool:
        return len(self.confirmed_by) >= self.material.threshold

    def with_confirmation(self, confirmation: CommitteeConfirmation) -> "Committee":
        return Committee(self.material, (*self.confirmations, confirmation))


def name_committee(
    tender: Tender | None,
    command: NameCommittee,
    actor: Actor,
    now: datetime,
    candidates: Sequence[CommitteeCandidate],
    registered: Mapping[str, RegisteredKeys],
    existing: Committee | None,
) -> list[CommitteeNamed]:
    """The committee of ``command`` with each member's registered keys for its suite, if the
    buyer's officer may name it and no one person could control it."""
    if tender is None:
        raise NotFound(f"there is no tender {command.ocid}")
    officer_must_act_for_the_buyer(actor, tender.buyer_id)
    if tender.status is not TenderStatus.ACTIVE or now >= tender.submission_deadline:
        raise WrongState(f"tender {tender.ocid} is {tender.status}: too late for a committee")
    if existing is not None:
        msg = f"tender {tender.ocid} already has its committee: bids may be sealed to it"
        raise WrongState(msg, code="committee_exists")
    check_committee(candidates, actor.id, tender.buyer_id, command.threshold)
    members = []
    for officer_id in sorted(command.members):
        keys = registered.get(officer_id)
        key = keys.for_suite(command.suite) if keys else None
        if keys is None or key is None:
            msg = f"{officer_id} has registered no {command.suite} key (`procurement officer keys`)"
            raise Rejected(msg, code="member_without_keys")
        members.append(
            CommitteeMember(officer_id=officer_id, encryption_key=key, signing_key=keys.signing)
        )
    material = CommitteeMaterial(
        ocid=tender.ocid, suite=command.suite, threshold=command.threshold, members=members
    )
    return [CommitteeNamed(material=material, named_by=actor.id)]


def confirm_committee(
    committee: Committee | None,
    confirmation: CommitteeConfirmation,
    actor: Actor,
    ocid: str,
) -> list[CommitteeConfirmed]:
    """A member's own signature over the material; anyone else's is refused."""
    if committee is None:
        raise NotFound(f"tender {ocid} has no committee to confirm", code="no_committee")
    if actor.role is not Role.OFFICER or actor.id != confirmation.officer_id:
        raise NotAllowed(
            f"{actor.id} may confirm only its own seat, not {confirmation.officer_id}'s"
        )
    if confirmation.officer_id not in {m.officer_id for m in committee.material.members}:
        raise NotAllowed(f"{actor.id} is not on the committee of {ocid}")
    if confirmation.officer_id in committee.confirmed_by:
        msg = f"{actor.id} has already confirmed the committee of {ocid}"
        raise WrongState(msg, code="already_confirmed")
    if not committee_material.confirmation_valid(committee.material, confirmation):
        msg = (
            f"the confirmation is not {actor.id}'s signature over this committee's material "
            f"({committee_material.material_sha256(committee.material)})"
        )
        raise Rejected(msg, code="invalid_signature")
    return [CommitteeConfirmed(confirmation=confirmation)]


def committee_must_be_confirmed(committee: Committee | None, ocid: str) -> Committee:
    """Bids are taken only once at least k members confirmed the keys they are sealed to."""
    if committee is None:
        msg = f"tender {ocid} has no committee yet: bids cannot be sealed"
        raise NotFound(msg, code="no_such_bid_log")
    if not committee.is_confirmed:
        confirmed, needed = len(committee.confirmed_by), committee.material.threshold
        msg = f"the committee of {ocid} is confirmed by {confirmed} of the {needed} members needed: bids wait until it is"
        raise WrongState(msg, code="committee_not_confirmed")
    return committee
