"""An officer's public identity, read from its registration: enough for the public to see
who sits on a committee, nothing personal."""

from collections.abc import Sequence
from typing import Any

from schemas.base import Message
from schemas.commands import Role
from schemas.events import OfficerRegistered
from schemas.upcasting import read_envelope
from schemas.values import Identifier, Title


class PublicOfficer(Message):
    """Who the officer is, for which agency, and who registered it (the operator or the
    agency's administrator make a committee member independent). Never its e-mail."""

    officer_id: Identifier
    name: Title
    role: Role
    agency_id: Identifier
    agency_name: Title | None  # None until the agency's record is read
    registered_by: Identifier | None  # None: registered before registrars were recorded
    registered_by_role: Role


_REGISTRATION = (
    "SELECT e.envelope, a.name AS agency_name FROM events e"
    " LEFT JOIN agencies a ON a.agency_id = e.envelope -> 'event' ->> 'agency_id'"
    " WHERE e.aggregate_id = ANY($1) AND e.type = 'OfficerRegistered'"
)


async def public_officer(pool: Any, officer_id: str) -> PublicOfficer | None:
    found = await public_officers(pool, [officer_id])
    return found[0] if found else None


async def public_officers(pool: Any, officer_ids: Sequence[str]) -> list[PublicOfficer]:
    """The officers of ``officer_ids`` that exist, in that order: a committee's members as
    the public sees them."""
    rows = await pool.fetch(_REGISTRATION, list(officer_ids))
    found = {officer.officer_id: officer for officer in map(_public, rows)}
    return [found[officer_id] for officer_id in officer_ids if officer_id in found]


def _public(row: Any) -> PublicOfficer:
    event = read_envelope(row["envelope"]).event
    assert isinstance(event, OfficerRegistered)
    return PublicOfficer(
        officer_id=event.officer_id,
        name=event.name,
        role=event.role,
        agency_id=event.agency_id,
        agency_name=row["agency_name"],
        registered_by=event.registered_by,
        registered_by_role=event.registered_by_role,
    )
