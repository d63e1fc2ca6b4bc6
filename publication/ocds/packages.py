"""Release and record packages, with the metadata that says who published them and which
extensions they use."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from publication.ocds.standard import EXTENSIONS, VERSION, Release, iso

AWARD_EVIDENCE = "awardEvidence"  # bids' and awards' evidence (publication.ocds.bidders)
# Every extension a package declares, each once: the standard module's and the award evidence.
DECLARED = tuple(dict.fromkeys((*EXTENSIONS, AWARD_EVIDENCE)))


def release_package(
    releases: Sequence[Release],
    *,
    uri: str,
    published_date: datetime,
    publisher: str,
    extensions_at: str,
) -> dict[str, Any]:
    """A release package; ``extensions_at`` is the URL the platform serves its extensions
    under, e.g. ``https://example.org/ocds/extensions/``."""
    metadata = _package_metadata(uri, published_date, publisher, extensions_at)
    return {**metadata, "releases": list(releases)}


def record_package(
    records: Sequence[dict[str, Any]],
    *,
    uri: str,
    published_date: datetime,
    publisher: str,
    extensions_at: str,
) -> dict[str, Any]:
    metadata = _package_metadata(uri, published_date, publisher, extensions_at)
    return {**metadata, "records": list(records)}


def extension_urls(extensions_at: str) -> list[str]:
    """Where each extension's ``extension.json`` is, as a package declares them."""
    base = extensions_at.rstrip("/")
    return [f"{base}/{name}/extension.json" for name in DECLARED]


def _package_metadata(
    uri: str, published_date: datetime, publisher: str, extensions_at: str
) -> dict[str, Any]:
    return {
        "uri": uri,
        "version": VERSION,
        "extensions": extension_urls(extensions_at),
        "publishedDate": iso(published_date),
        "publisher": {"name": publisher},
    }
