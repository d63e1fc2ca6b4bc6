"""The platform's OCDS extensions, served where its packages say they are.

Every release and record package lists ``<API>/ocds/extensions/<name>/extension.json``; a
validator or a data user fetches the extension's metadata, its release schema patch and its
codelists from there, byte for byte the files in ``schemas/ocds_extensions``.
"""

from functools import cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Request
from fastapi import Path as PathParam
from fastapi.responses import Response

import schemas
from entrypoints.http.public_url import public_base
from publication import ocds
from publication.ocds import standard

FOLDER = Path(schemas.__file__).parent / "ocds_extensions"

router = APIRouter(prefix="/ocds/extensions", tags=["public"])

ExtensionName = Annotated[
    standard.ExtensionName, PathParam(description="one of the platform's extensions")
]
Codelist = Annotated[
    str, PathParam(pattern=r"^[A-Za-z]{1,64}\.csv$", description="e.g. bidStatus.csv")
]
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such file in the extension"}
}


@cache
def _file(name: str, relative: str) -> bytes | None:
    path = FOLDER / name / relative
    return path.read_bytes() if path.is_file() else None


def _served(name: str, relative: str, media_type: str) -> Response:
    content = _file(name, relative)
    if content is None:
        raise HTTPException(404, f"the {name} extension has no {relative}")
    return Response(content, media_type=media_type)


@router.get("")
async def extensions(request: Request) -> list[str]:
    """The extensions every package of this platform declares."""
    return ocds.extension_urls(f"{public_base(request)}ocds/extensions/")


@router.get("/{name}/extension.json", response_class=Response, responses=_NOT_FOUND)
async def extension_metadata(name: ExtensionName) -> Response:
    return _served(name, "extension.json", "application/json")


@router.get("/{name}/release-schema.json", response_class=Response, responses=_NOT_FOUND)
async def release_schema_patch(name: ExtensionName) -> Response:
    return _served(name, "release-schema.json", "application/json")


@router.get("/{name}/codelists/{codelist}", response_class=Response, responses=_NOT_FOUND)
async def codelist(name: ExtensionName, codelist: Codelist) -> Response:
    return _served(name, f"codelists/{codelist}", "text/csv; charset=utf-8")
