"""Parties: agencies and their officers, who may act for which buyer, and suppliers."""

import unicodedata
from dataclasses import dataclass
from functools import cache

from confusable_homoglyphs import confusables  # type: ignore[import-untyped]  # ships no types

from procurement.errors import NotAllowed, Rejected, WrongState
from schemas.commands import (
    Actor,
    RegisterAgency,
    RegisterCommitteeKeys,
    RegisterOfficer,
    RegisterSupplier,
    Role,
)
from schemas.events import (
    AgencyRegistered,
    CommitteeKeysRegistered,
    Event,
    OfficerRegistered,
    SupplierRegistered,
)


@dataclass(frozen=True)
class Agency:
    agency_id: str
    name: str


# After case folding, O reads as 0, and I and l read as 1.
_READ_ALIKE = str.maketrans("oil", "011")


@cache
def _ascii_alike(char: str) -> str:
    """The ASCII character ``char`` is read as, a letter rather than a digit, if it has one."""
    if char.isascii():
        return char
    glyphs = (glyph["c"].strip("\u200e") for glyph in confusables.confusables_data.get(char, ()))
    alikes: list[str] = sorted(g for g in glyphs if len(g) == 1 and g.isascii() and g.isprintable())
    letters = [g for g in alikes if g.isalpha()]
    return (letters or alikes or [char])[0]


def skeleton(identifier: str) -> str:
    """What ``identifier`` looks like to a reader: two identifiers with one skeleton, such as
    RO-CUI-4305857 and ro-cui-43O5857, cannot be told apart at a glance."""
    folded = unicodedata.normalize("NFKC", identifier).casefold()
    ascii_alike = "".join(_ascii_alike(char) for char in folded).casefold()
    return ascii_alike.translate(_READ_ALIKE)


def identifier_must_not_look_like_another(identifier: str, look_alike: str | None) -> None:
    """``look_alike`` is the registered identifier with the same skeleton, if any."""
    if look_alike is not None and look_alike != identifier:
        msg = (
            f"{identifier} cannot be told apart from {look_alike}, which is already registered; "
            "if it is yours, ask the platform operator"
        )
        raise WrongState(msg, code="look_alike_identifier")


def agency_id_for(identifier: str) -> str:
    """An agency's id is its national registration number, so it can register only once."""
    return f"agency-{identifier}"


def register_agency(
    existing: Agency | None, command: RegisterAgency, actor: Actor, look_alike: str | None = None
) -> list[Event]:
    if actor.role is not Role.OPERATOR:
        raise NotAllowed(
            f"only the platform operator registers agencies; {actor.id} is {actor.role}"
        )
    agency_id = agency_id_for(command.identifier)
    if existing is not None:
        raise WrongState(f"agency {command.identifier} is already registered as {agency_id}")
    identifier_must_not_look_like_another(command.identifier, look_alike)
    return [AgencyRegistered(agency_id=agency_id, name=command.name, identifier=command.identifier)]


def register_officer(
    agency: Agency | None, command: RegisterOfficer, actor: Actor, *, officer_id: str
) -> list[Event]:
    """The operator registers an agency's administrator; the operator or that administrator
    registers its officers and reviewers. An officer may not: it could hold its colleagues'
    tokens and keys and sit as a whole committee by itself."""
    registrar_must_be_independent(command, actor)
    if agency is None:
        raise WrongState(f"agency {command.agency_id} is not registered", code="unknown_agency")
    return [
        OfficerRegistered(
            officer_id=officer_id,
            agency_id=agency.agency_id,
            name=command.name,
            email=command.email,
            role=command.role,
            registered_by=actor.id,
            registered_by_role=actor.role,
        )
    ]


def registrar_must_be_independent(command: RegisterOfficer, actor: Actor) -> None:
    if actor.role is Role.OPERATOR:
        return
    if command.role is Role.AGENCY_ADMIN:
        msg = f"only the platform operator registers an agency's administrator; {actor.id} is {actor.role}"
        raise NotAllowed(msg)
    if actor.role is not Role.AGENCY_ADMIN or actor.agency_id != command.agency_id:
        msg = (
            f"only the operator or {command.agency_id}'s administrator registers its "
            f"{command.role}s; {actor.id} is {actor.role}"
            + (f" of {actor.agency_id}" if actor.agency_id else "")
        )
        raise NotAllowed(msg)


def evolve_agency(agency: Agency | None, event: Event) -> Agency | None:
    if isinstance(event, AgencyRegistered):
        return Agency(agency_id=event.agency_id, name=event.name)
    return agency


def supplier_id_for(identifier: str) -> str:
    """A supplier's id is its national registration number, so it registers only once."""
    return f"supplier-{identifier}"


def register_supplier(
    already_registered: bool,
    command: RegisterSupplier,
    proof_valid: bool,
    look_alike: str | None = None,
) -> list[Event]:
    """Anyone may register a supplier, holding the signing key it registers."""
    supplier_id = supplier_id_for(command.identifier)
    if not proof_valid:
        msg = "proof is not the signing key's signature over the registration: is it the right key? (a key of small order is refused)"
        raise Rejected(msg, code="invalid_proof")
    if already_registered:
        raise WrongState(f"supplier {command.identifier} is already registered as {supplier_id}")
    identifier_must_not_look_like_another(command.identifier, look_alike)
    return [
        SupplierRegistered(
            supplier_id=supplier_id,
            name=command.name,
            identifier=command.identifier,
            is_sme=command.is_sme,
            email=command.email,
            signing_key=command.signing_key,
        )
    ]


def register_committee_keys(
    command: RegisterCommitteeKeys,
    actor: Actor,
    proof_valid: bool,
    already_registered: bool,
    unsealable: str | None = None,
) -> list[Event]:
    """``unsealable``: the name of an encryption key nothing can be sealed to, if any."""
    if actor.role is not Role.OFFICER or actor.id != command.officer_id:
        raise NotAllowed(f"an officer registers committee keys for itself only, not {actor.id}")
    if not proof_valid:
        msg = "proof is not the signing key's signature over these keys: is it the right key? (a key of small order is refused)"
        raise Rejected(msg, code="invalid_proof")
    if unsealable is not None:
        msg = f"{unsealable} is not a key a bid's share can be sealed to (a point of small order): generate the keys again with `procurement officer keys`"
        raise Rejected(msg, code="unusable_key")
    if already_registered:
        msg = f"{command.officer_id} already has committee keys; shares already sealed to them must stay openable"
        raise WrongState(msg, code="keys_exist")
    return [
        CommitteeKeysRegistered(
            officer_id=command.officer_id,
            encryption_key=command.encryption_key,
            signing_key=command.signing_key,
            hybrid_encryption_key=command.hybrid_encryption_key,
            proof=command.proof,
        )
    ]
