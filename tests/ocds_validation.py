"""The OCDS validator (libcoveocds), offline, on the schema the project vendors and the
platform's own extensions: shared by the unit tests of the mapping and the integration tests
of what the API publishes."""

import io
import json
import tempfile
import zipfile
from functools import cache
from pathlib import Path
from typing import Any

import requests
from libcoveocds.api import ocds_json_output  # type: ignore[import-untyped]
from libcoveocds.config import LibCoveOCDSConfig  # type: ignore[import-untyped]
from ocdsextensionregistry import util as registry  # type: ignore[import-untyped]
from urllib3 import HTTPResponse

from entrypoints.http.ocds_extensions import FOLDER as EXTENSIONS_DIR
from publication import ocds

OCDS_DIR = Path(ocds.__file__).parents[2] / "schemas" / "ocds"
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


class ExtensionFiles(requests.adapters.HTTPAdapter):
    """Answers the validator's requests for ``.../ocds/extensions/<name>/<file>``, on any
    host, with the file in ``schemas/ocds_extensions``: what the API serves there (a test of
    the API checks that), without a network. Any other URL is not found."""

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float | None, float | None] | None = None,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        proxies: dict[str, str] | None = None,
    ) -> requests.Response:
        url = request.url or ""
        _, found, relative = url.partition("/ocds/extensions/")
        path = EXTENSIONS_DIR / relative
        served = bool(found) and ".." not in relative and path.is_file()
        raw = HTTPResponse(  # the cache in front of the validator's session stores it
            body=io.BytesIO(path.read_bytes() if served else b""),
            status=200 if served else 404,
            request_url=url,
            preload_content=False,
        )
        response: requests.Response = self.build_response(request, raw)
        return response


@cache
def _serve_extensions_offline() -> None:
    for scheme in ("http://", "https://"):
        registry.session.mount(scheme, ExtensionFiles())


def validate(package: dict[str, Any]) -> dict[str, Any]:
    """libcoveocds' verdict on the package as ocds.dumps writes it, with the extensions it
    declares applied."""
    _serve_extensions_offline()
    config = LibCoveOCDSConfig({"standard_zip": standard_zip(), "context": "api"})
    data = json.loads(ocds.dumps(package))
    with tempfile.TemporaryDirectory() as scratch:  # where it writes the extended schema
        result: dict[str, Any] = ocds_json_output(
            output_dir=scratch, json_data=data, lib_cove_ocds_config=config
        )
    return result


def assert_valid(package: dict[str, Any]) -> None:
    """No schema error, no code outside a closed codelist, no field outside the core schema."""
    result = validate(package)
    assert result["validation_errors"] == []
    assert result["additional_closed_codelist_values"] == {}
    assert result["all_additional_fields"] == []
    assert "json_deref_error" not in result
    assert result["extensions"]["invalid_extension"] == {}
    assert result["extensions"]["is_extended_schema"]
