"""The OCDS validator (libcoveocds), offline, on the schema the project vendors: shared by
the unit tests of the mapping and the integration tests of what the API publishes."""

import io
import json
import zipfile
from functools import cache
from pathlib import Path
from typing import Any

from libcoveocds.api import ocds_json_output  # type: ignore[import-untyped]
from libcoveocds.config import LibCoveOCDSConfig  # type: ignore[import-untyped]

from procurement import ocds

OCDS_DIR = Path(ocds.__file__).parents[1] / "schemas" / "ocds"
STANDARD = "https://standard.open-contracting.org/schema/1__1__5/"


@cache
def standard_zip() -> bytes:
    """The vendored schema packed as libcoveocds reads the standard: one folder, schema/ in it.

    The record package schema names the versioned release schema by its URL, which libcoveocds
    fetches to list the schema's fields; here it names the vendored copy instead."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as packed:
        packed.writestr("standard/", "")
        for path in sorted(OCDS_DIR.rglob("*")):
            if path.is_file() and path.suffix in {".json", ".csv"}:
                text = path.read_text(encoding="utf-8").replace(STANDARD, OCDS_DIR.as_uri() + "/")
                packed.writestr(f"standard/schema/{path.relative_to(OCDS_DIR).as_posix()}", text)
    return buffer.getvalue()


def validate(package: dict[str, Any]) -> dict[str, Any]:
    """libcoveocds' verdict on the package as ocds.dumps writes it."""
    config = LibCoveOCDSConfig({"standard_zip": standard_zip(), "context": "api"})
    data = json.loads(ocds.dumps(package))
    result: dict[str, Any] = ocds_json_output(json_data=data, lib_cove_ocds_config=config)
    return result


def assert_valid(package: dict[str, Any]) -> None:
    """No schema error, no code outside a closed codelist, no field outside the core schema."""
    result = validate(package)
    assert result["validation_errors"] == []
    assert result["additional_closed_codelist_values"] == {}
    assert result["all_additional_fields"] == []
    assert "json_deref_error" not in result
