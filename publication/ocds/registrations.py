"""What the platform knows of a party, from its registration, for the releases to name it."""

import re
from dataclasses import dataclass

from schemas.events import AgencyRegistered, SupplierRegistered

_REGISTRATION = re.compile(r"^([A-Z]{2}-[A-Z]+)-(\S+)$")  # RO-CUI-4267117: scheme, number


@dataclass(frozen=True)
class PartyInfo:
    """What the platform knows of a party, from AgencyRegistered or SupplierRegistered."""

    id: str
    name: str
    identifier: str | None = None  # the number in its register, e.g. 4267117
    scheme: str | None = None  # the register, e.g. RO-CUI
    is_sme: bool | None = None  # declared by suppliers; published as details.scale


def party_info(event: AgencyRegistered | SupplierRegistered) -> PartyInfo:
    """A party as registered; "RO-CUI-4267117" is the number 4267117 in the register RO-CUI."""
    found = _REGISTRATION.match(event.identifier)
    scheme, number = found.groups() if found else (None, event.identifier)
    if isinstance(event, AgencyRegistered):
        return PartyInfo(event.agency_id, event.name, number, scheme)
    return PartyInfo(event.supplier_id, event.name, number, scheme, event.is_sme)
