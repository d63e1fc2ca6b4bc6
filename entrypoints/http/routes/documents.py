"""HTTP routes for a tender's procurement documents: the buyer uploads, anyone downloads.

An upload's body is the document's bytes (``--data-binary @file``), its ``Content-Type``
the media type, and the query says the rest (title, file name, type, reason). The bytes
go to the document store once the rules accept them, and the event records their SHA-256:
the public can check that a document never changed silently. A download is the exact bytes, never run by a
browser: ``nosniff``, a sandboxing policy, an attachment, and a media type from an
allow-list (any other is served as ``application/octet-stream``).
"""

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from entrypoints.http.auth import ActorDep, IdempotencyKey
from entrypoints.http.command_routes import command_of
from procurement.errors import NotFound, Rejected
from readmodels.clarifications import TenderDocuments, clarifications, documents_shown
from schemas.documents import (
    DocumentType,
    PublishDocument,
    TenderDocumentPublished,
    safe_file_name,
)
from schemas.values import Identifier

router = APIRouter()

# Served as themselves: formats a browser shows without running anything of the sender's.
# HTML, SVG and XML can carry scripts: they download as bytes.
SAFE_MEDIA_TYPES = frozenset(
    {
        "application/pdf",
        "text/plain",
        "text/csv",
        "image/png",
        "image/jpeg",
        "application/zip",
        "application/vnd.oasis.opendocument.text",
        "application/vnd.oasis.opendocument.spreadsheet",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/msword",
        "application/vnd.ms-excel",
    }
)
_DOWNLOAD_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "public, max-age=31536000, immutable",  # a version never changes
}


async def _upload(
    request: Request,
    ocid: str,
    document_id: str | None,
    fields: dict[str, object],
    actor: ActorDep,
    key: IdempotencyKey,
) -> JSONResponse:
    content = await request.body()
    most = request.app.state.document_limit
    if len(content) > most:  # the guard counts too; this is for any other way in
        raise Rejected(f"a document may be at most {most} bytes", code="too_large")
    if not content:
        raise Rejected("the request's body is the document: it is empty", code="empty_document")
    media_type = request.headers.get("content-type") or "application/octet-stream"
    command = command_of(
        PublishDocument,
        {k: v for k, v in fields.items() if v is not None}
        | {
            "ocid": ocid,
            "document_id": document_id,
            "media_type": media_type.split(";")[0].strip().lower(),
            "content": content,
        },
    )
    outcome = await request.app.state.handler.dispatch(command, actor, key)
    [published] = [e.event for e in outcome.events if isinstance(e.event, TenderDocumentPublished)]
    body = outcome.response() | {
        "replayed": outcome.replayed,
        "document_id": published.document_id,
        "version": published.version,
        "sha256": published.sha256,
    }
    return JSONResponse(body, 201)


Title = Annotated[str, Query(min_length=3, max_length=500)]
FileNameSent = Annotated[str, Query(min_length=1, max_length=1000)]
Reason = Annotated[str | None, Query(max_length=10_000)]


@router.post("/tenders/{ocid}/documents", status_code=201, tags=["tenders"])
async def publish_document(
    request: Request,
    ocid: str,
    title: Title,
    file_name: FileNameSent,
    actor: ActorDep,
    document_type: DocumentType = DocumentType.BIDDING_DOCUMENTS,
    changes_requirements: bool = False,
    reason: Reason = None,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Publish a procurement document (buyer's officer, before the deadline): the body is
    the file, its Content-Type the media type. The file name is made safe."""
    fields = {
        "title": title,
        "file_name": safe_file_name(file_name),
        "document_type": document_type,
        "changes_requirements": changes_requirements,
        "reason": reason,
    }
    return await _upload(request, ocid, None, fields, actor, key)


@router.post("/tenders/{ocid}/documents/{document_id}", status_code=201, tags=["tenders"])
async def publish_document_version(
    request: Request,
    ocid: str,
    document_id: str,
    title: Title,
    file_name: FileNameSent,
    reason: Annotated[str, Query(min_length=1, max_length=10_000)],
    actor: ActorDep,
    document_type: DocumentType = DocumentType.BIDDING_DOCUMENTS,
    changes_requirements: bool = False,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Publish a new version of a document: an amendment of the tender, with its reason;
    with ``changes_requirements`` a significant one (the deadline leaves the rules' period)."""
    fields = {
        "title": title,
        "file_name": safe_file_name(file_name),
        "document_type": document_type,
        "changes_requirements": changes_requirements,
        "reason": reason,
    }
    return await _upload(request, ocid, document_id, fields, actor, key)


@router.get("/tenders/{ocid}/documents", tags=["public"], response_model=TenderDocuments)
async def list_documents(request: Request, ocid: Identifier) -> TenderDocuments:
    """The tender's documents, every version with its SHA-256, for anyone, without a token."""
    found = await clarifications(request.app.state.pool, ocid, request.app.state.rules)
    if found is None:
        raise NotFound(f"there is no published tender {ocid}")
    return documents_shown(found[0], f"/tenders/{ocid}/documents")


async def _download(request: Request, ocid: str, document_id: str, version: int | None) -> Response:
    found = await clarifications(request.app.state.pool, ocid, request.app.state.rules)
    versions = found[0].documents.get(document_id, ()) if found else ()
    chosen = versions[-1] if versions and version is None else None
    if version is not None and 1 <= version <= len(versions):
        chosen = versions[version - 1]
    if chosen is None:
        raise NotFound(f"tender {ocid} has no document {document_id} version {version or 'latest'}")
    published = chosen.published
    etag = f'"{published.sha256}"'
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers={"ETag": etag})
    content = await request.app.state.documents.get(published.sha256)
    if content is None:
        raise NotFound(f"the bytes of {document_id} version {published.version} are missing")
    media_type = (
        published.media_type
        if published.media_type in SAFE_MEDIA_TYPES
        else "application/octet-stream"
    )
    return Response(
        content,
        media_type=media_type,
        headers=_DOWNLOAD_HEADERS
        | {"ETag": etag, "Content-Disposition": content_disposition(published.file_name)},
    )


def content_disposition(file_name: str) -> str:
    """An attachment named in ASCII for old clients and exactly in UTF-8 (RFC 6266)."""
    ascii_name = file_name.encode("ascii", "replace").decode().replace("?", "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(file_name)}"


_BYTES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}
    }
}


@router.get(
    "/tenders/{ocid}/documents/{document_id}",
    tags=["public"],
    response_class=Response,
    responses=_BYTES,
)
async def download_document(
    request: Request, ocid: Identifier, document_id: Identifier
) -> Response:
    """The document's latest version, the exact bytes; ETag is its SHA-256."""
    return await _download(request, ocid, document_id, None)


@router.get(
    "/tenders/{ocid}/documents/{document_id}/versions/{version}",
    tags=["public"],
    response_class=Response,
    responses=_BYTES,
)
async def download_document_version(
    request: Request, ocid: Identifier, document_id: Identifier, version: int
) -> Response:
    """One version of the document, the exact bytes; ETag is its SHA-256."""
    return await _download(request, ocid, document_id, version)
