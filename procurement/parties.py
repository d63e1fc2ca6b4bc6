"""Agencies and their procurement officers: who may act for which buyer."""

from dataclasses import dataclass

from procurement.errors import NotAllowed, WrongState
from schemas.commands import Actor, RegisterAgency, RegisterOfficer, Role
from schemas.events import AgencyRegistered, Event, OfficerRegistered


@dataclass(frozen=True)
class Agency:
    agency_id: str
    name: str


def agency_id_for(identifier: str) -> str:
    """An agency's id is its national registration number, so it can register only once."""
    return f"agency-{identifier}"


def register_agency(existing: Agency | None, command: RegisterAgency, actor: Actor) -> list[Event]:
    if actor.role is not Role.OPERATOR:
        raise NotAllowed(
            f"only the platform operator registers agencies; {actor.id} is {actor.role}"
        )
    agency_id = agency_id_for(command.identifier)
    if existing is not None:
        raise WrongState(f"agency {command.identifier} is already registered as {agency_id}")
    return [AgencyRegistered(agency_id=agency_id, name=command.name, identifier=command.identifier)]


def register_officer(
    agency: Agency | None, command: RegisterOfficer, actor: Actor, *, officer_id: str
) -> list[Event]:
    may = actor.role is Role.OPERATOR or (
        actor.role is Role.OFFICER and actor.agency_id == command.agency_id
    )
    if not may:
        msg = f"only the operator or an officer of {command.agency_id} may add its officers"
        raise NotAllowed(msg)
    if agency is None:
        raise WrongState(f"agency {command.agency_id} is not registered", code="unknown_agency")
    return [
        OfficerRegistered(
            officer_id=officer_id,
            agency_id=agency.agency_id,
            name=command.name,
            email=command.email,
        )
    ]


def evolve_agency(agency: Agency | None, event: Event) -> Agency | None:
    if isinstance(event, AgencyRegistered):
        return Agency(agency_id=event.agency_id, name=event.name)
    return agency
