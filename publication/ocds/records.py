"""The record of one ocid: its releases and the compiled release they merge into."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from publication.ocds.json_text import copied
from publication.ocds.standard import Release


def compile_record(releases: Sequence[Release]) -> dict[str, Any]:
    """The record of one ocid: its releases and their compiledRelease by the OCDS merge rules.

    Releases merge in date order (ties keep their order); objects merge field by field; arrays
    of objects that all have an ``id`` merge by id, other arrays replace; a null removes a field.
    ``id``, ``date`` and ``tag`` are not merged: the compiled release is ``<ocid>-<date>`` of
    the latest release, tagged ``compiled``. The core schema's ``wholeListMerge`` arrays are
    not emitted here. Merging by id cannot remove: an item that a requirements amendment
    dropped stays in the compiled ``tender.items`` (the latest release has the true list).
    """
    if not releases:
        raise ValueError("a record needs at least one release")
    ocids = {release["ocid"] for release in releases}
    if len(ocids) != 1:
        raise ValueError(f"a record is of one ocid, these releases are of {sorted(ocids)}")
    ordered = sorted(releases, key=lambda release: datetime.fromisoformat(release["date"]))
    compiled: dict[str, Any] = {}
    for release in ordered:
        changes = {k: v for k, v in release.items() if k not in ("id", "date", "tag")}
        compiled = _merge(compiled, changes)
    latest = ordered[-1]["date"]
    (ocid,) = ocids
    compiled |= {"id": f"{ocid}-{latest}", "date": latest, "tag": ["compiled"]}
    return {"ocid": ocid, "releases": list(ordered), "compiledRelease": compiled}


def _merge(earlier: Any, later: Any) -> Any:
    if isinstance(earlier, dict) and isinstance(later, dict):
        merged = dict(earlier)
        for key, value in later.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = _merge(earlier.get(key), value)
        return merged
    if _identified(earlier) and _identified(later):
        by_id = {item["id"]: item for item in earlier}
        for item in later:
            by_id[item["id"]] = _merge(by_id.get(item["id"]), item)
        return list(by_id.values())
    return copied(later)


def _identified(value: Any) -> bool:
    """An array of objects that all have an id: OCDS merges it by id."""
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(item, dict) and "id" in item for item in value)
    )
