"""Only the operator or an agency's administrator registers its officers and reviewers, and
only the operator registers an administrator; the registration records who made it."""

import pytest

from procurement import parties
from procurement.errors import NotAllowed
from schemas.commands import Actor, RegisterOfficer, Role
from schemas.events import OfficerRegistered

AGENCY = parties.Agency(agency_id="agency-RO-CUI-4305857", name="Primăria Cluj-Napoca")
OPERATOR = Actor(id="operator", role=Role.OPERATOR)
ADMIN = Actor(id="officer-admin", role=Role.AGENCY_ADMIN, agency_id=AGENCY.agency_id)
OTHER_ADMIN = Actor(id="officer-admin-b", role=Role.AGENCY_ADMIN, agency_id="agency-RO-CUI-1")
OFFICER = Actor(id="officer-a", role=Role.OFFICER, agency_id=AGENCY.agency_id)
REVIEWER = Actor(id="officer-r", role=Role.REVIEWER, agency_id=AGENCY.agency_id)


def command(role: Role = Role.OFFICER) -> RegisterOfficer:
    return RegisterOfficer.model_validate(
        {"agency_id": AGENCY.agency_id, "name": "Ion Pop", "email": "ion@cluj.ro", "role": role}
    )


def registered(actor: Actor, role: Role = Role.OFFICER) -> OfficerRegistered:
    [event] = parties.register_officer(AGENCY, command(role), actor, officer_id="officer-new")
    assert isinstance(event, OfficerRegistered)
    return event


@pytest.mark.parametrize("actor", [OPERATOR, ADMIN])
@pytest.mark.parametrize("role", [Role.OFFICER, Role.REVIEWER])
def test_the_operator_or_the_administrator_registers_officers(actor: Actor, role: Role) -> None:
    """The registration names who made it and in which role."""
    event = registered(actor, role)
    assert (event.role, event.registered_by, event.registered_by_role) == (
        role,
        actor.id,
        actor.role,
    )


@pytest.mark.parametrize("role", [Role.OFFICER, Role.REVIEWER, Role.AGENCY_ADMIN])
@pytest.mark.parametrize("actor", [OFFICER, REVIEWER])
def test_an_officer_or_reviewer_registers_nobody(actor: Actor, role: Role) -> None:
    """An officer adding colleagues could hold their tokens: a committee of sock puppets."""
    with pytest.raises(NotAllowed):
        registered(actor, role)


@pytest.mark.parametrize("role", [Role.OFFICER, Role.AGENCY_ADMIN])
def test_an_administrator_registers_for_its_own_agency_only(role: Role) -> None:
    """Another agency's administrator is refused."""
    with pytest.raises(NotAllowed):
        registered(OTHER_ADMIN, role)


def test_only_the_operator_registers_an_administrator() -> None:
    """An administrator cannot make another administrator: the operator answers for each."""
    assert registered(OPERATOR, Role.AGENCY_ADMIN).role is Role.AGENCY_ADMIN
    with pytest.raises(NotAllowed):
        registered(ADMIN, Role.AGENCY_ADMIN)


def test_an_older_registration_reads_as_an_unknown_officers() -> None:
    """Before registrars were recorded any officer could register: it proves no independence."""
    older = OfficerRegistered.model_validate(
        {"officer_id": "o", "agency_id": "a", "name": "Ion", "email": "ion@cluj.ro"}
    )
    assert (older.registered_by, older.registered_by_role) == (None, Role.OFFICER)
