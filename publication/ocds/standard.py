"""What every OCDS document the platform writes declares: the version of the standard, the
language, the platform's extensions, and how values and dates are written.

**Schema.** The OCDS 1.1.5 core release schema and the platform's own three extensions
(``schemas/ocds_extensions``, served by the API at ``/ocds/extensions/<name>/extension.json``
and declared in every package): ``lots`` (``tender.lots``, each item's ``relatedLot``, each
award's ``relatedLots``), ``bids`` (``bids.details``: who bid for which lot, at what price,
with what outcome) and ``partyScale`` (a supplier's declared ``details.scale``). Their fields
have the names and shapes the open-contracting community's lots, bids and party scale
extensions use.

**Language.** ``language`` is Romanian, the language of the notices the platform's buyers
publish.
"""

from datetime import UTC, date, datetime, time
from typing import Any, Literal, get_args

from schemas.values import Value

VERSION = "1.1"
LANGUAGE = "ro"
# Folders of schemas/ocds_extensions: one list, for the packages and the routes that serve them.
ExtensionName = Literal[
    "lots",
    "bids",
    "partyScale",
    "awardEvidence",
    "complaints",
    "enquiries",
    "documentHash",
    "valueAddedTax",
]
EXTENSIONS: tuple[str, ...] = get_args(ExtensionName)
Release = dict[str, Any]


def value_of(value: Value) -> dict[str, Any]:
    """An OCDS Value; the amount stays a Decimal (see ``publication.ocds.json_text``)."""
    return {"amount": value.amount, "currency": value.currency}


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), UTC)


def iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError(f"{moment} has no time zone; OCDS dates must say which")
    return moment.isoformat()
