"""Open contracting data for anyone, without a token: OCDS 1.1 release and record packages
page by page, one procedure's record, every release as JSON Lines, new releases live as
Server-Sent Events, and the latest as an Atom feed.

All of it is read from the releases and records read models (``readmodels.releases``), which
the streams keep as events are recorded. Packages name the publisher and licence that the deployment
sets (``PROCUREMENT_OCDS_PUBLISHER``, ``_PUBLISHER_URI``, ``_LICENSE``), and their URLs are
on the platform's public base URL when it is set (``PROCUREMENT_PUBLIC_URL``).
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from xml.etree import ElementTree

from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import StringConstraints

from adapters.settings import Settings
from entrypoints.http.public_url import public_base, public_url
from entrypoints.http.routes.ocds_live import ReleaseFeed
from publication import ocds
from readmodels import ocds_reads
from readmodels.ocds_reads import ReleaseFilter
from schemas.values import Identifier

PACKAGE_MEDIA = "application/json"
ATOM = "http://www.w3.org/2005/Atom"

# The closed codelists the filters take (OCDS 1.1 tenderStatus and releaseTag).
TenderStatus = Literal[
    "planning", "planned", "active", "cancelled", "unsuccessful", "complete", "withdrawn"
]
ReleaseTag = Literal[
    "planning",
    "planningUpdate",
    "tender",
    "tenderAmendment",
    "tenderUpdate",
    "tenderCancellation",
    "award",
    "awardUpdate",
    "awardCancellation",
    "contract",
    "contractUpdate",
    "contractAmendment",
    "implementation",
    "implementationUpdate",
    "contractTermination",
    "compiled",
]
CpvCode = Annotated[str, StringConstraints(pattern=r"^\d{2,8}(-\d)?$")]
Cpv = Annotated[
    list[CpvCode] | None,
    Query(
        max_length=50,
        description="a CPV code such as 30197630-1, or a prefix of 2 to 8 digits such as 30;"
        " repeat it to follow several (?cpv=30&cpv=45): a release matching any of them passes",
    ),
]
Tag = Annotated[ReleaseTag | None, Query(description="an OCDS release tag, such as award")]


@asynccontextmanager
async def _feed(app: FastAPI) -> AsyncIterator[None]:
    """One live feed per process, started by its first follower, closed before the pool."""
    yield
    feed = getattr(app.state, "release_feed", None)
    if feed is not None:
        await feed.close()


router = APIRouter(prefix="/ocds", tags=["public"], lifespan=_feed)


def release_filter(
    date_from: Annotated[
        datetime | None, Query(description="releases dated at or after (UTC if no zone)")
    ] = None,
    date_to: Annotated[datetime | None, Query(description="releases dated before")] = None,
    buyer: Annotated[Identifier | None, Query(description="the buyer's id")] = None,
    supplier: Annotated[
        Identifier | None, Query(description="a supplier's id, once awarded")
    ] = None,
    cpv: Cpv = None,
    status: Annotated[TenderStatus | None, Query(description="the tender's status")] = None,
    tag: Tag = None,
) -> ReleaseFilter:
    if date_from and date_to and _utc(date_from) >= _utc(date_to):
        raise HTTPException(422, "date_from must come before date_to")
    return ReleaseFilter(
        date_from=_utc(date_from) if date_from else None,
        date_to=_utc(date_to) if date_to else None,
        buyer=buyer,
        supplier=supplier,
        cpv=tuple(cpv or ()),
        status=status,
        tag=tag,
    )


Filters = Annotated[ReleaseFilter, Depends(release_filter)]
Limit = Annotated[int, Query(ge=1, le=1000, description="releases per page")]
Cursor = Annotated[str | None, Query(max_length=200, description="from the previous page")]


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.handler.settings
    return settings


def _package(request: Request, kind: str, items: list[str]) -> str:
    """A release or record package around ``items`` (JSON texts), with the publisher's
    name, URI and licence."""
    return _package_head(request, kind) + ",".join(items) + "]}"


def _package_head(request: Request, kind: str) -> str:
    """A package up to the opening of its list of ``kind``."""
    settings = _settings(request)
    package = ocds.release_package(
        [],
        uri=public_url(request),
        published_date=datetime.now(UTC),
        publisher=settings.ocds_publisher,
        extensions_at=f"{public_base(request)}ocds/extensions/",
    )
    del package["releases"]
    if settings.ocds_publisher_uri:
        package["publisher"]["uri"] = settings.ocds_publisher_uri
    if settings.ocds_license:
        package["license"] = settings.ocds_license
    return ocds.dumps(package)[:-1] + f',"{kind}":['


def _paged(request: Request, kind: str, page: ocds_reads.Page) -> Response:
    headers = {}
    if page.next_cursor is not None:
        following = request.url.include_query_params(cursor=page.next_cursor)
        headers["Link"] = f'<{public_url(request, following)}>; rel="next"'
    return Response(_package(request, kind, page.items), media_type=PACKAGE_MEDIA, headers=headers)


def _bad_cursor(error: ocds_reads.BadCursor) -> HTTPException:
    return HTTPException(422, str(error))


_PACKAGE_DOC: dict[int | str, dict[str, Any]] = {
    200: {"content": {PACKAGE_MEDIA: {"schema": {"type": "object"}}}},
    422: {"description": "a filter or cursor this API cannot read"},
}


@router.get("/releases", response_class=Response, responses=_PACKAGE_DOC)
async def release_package(
    request: Request, where: Filters, limit: Limit = 100, cursor: Cursor = None
) -> Response:
    """An OCDS 1.1 release package of the releases that pass the filters, in the order they
    were recorded; the ``Link`` header's ``next`` gives the following page until the last.
    Each release is a snapshot of its procedure at its date, tagged with what changed."""
    try:
        page = await ocds_reads.release_page(request.app.state.pool, where, limit, cursor)
    except ocds_reads.BadCursor as error:
        raise _bad_cursor(error) from error
    return _paged(request, "releases", page)


@router.get("/records", response_class=Response, responses=_PACKAGE_DOC)
async def record_package(
    request: Request,
    where: Filters,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Cursor = None,
) -> Response:
    """An OCDS 1.1 record package, in ocid order: the record of every procedure with at
    least one release that passes the filters, each with all its releases and their
    ``compiledRelease``; the ``Link`` header's ``next`` gives the following page."""
    pool = request.app.state.pool
    try:
        page = await ocds_reads.record_ocids(pool, where, limit, cursor)
    except ocds_reads.BadCursor as error:
        raise _bad_cursor(error) from error
    found = await _records(pool, page.items)
    records = [found[ocid] for ocid in page.items if ocid in found]
    return _paged(request, "records", ocds_reads.Page(records, page.next_cursor))


@router.get("/records/{ocid}", response_class=Response, responses=_PACKAGE_DOC)
async def one_record(request: Request, ocid: Identifier) -> Response:
    """A record package with the record of one procedure: every release and the
    ``compiledRelease``, its state now by the OCDS merge rules."""
    pool = request.app.state.pool
    record = await ocds_reads.record_bytes(pool, ocid)
    if record is None:
        compiled = (await _records(pool, [ocid])).get(ocid)
        if compiled is None:
            raise HTTPException(404, f"there is no published procedure {ocid}")
        record = compiled.encode()
    # Bytes as stored, around them the package: a record is large, and never decoded here.
    body = b"".join((_package_head(request, "records").encode(), record, b"]}"))
    return Response(body, media_type=PACKAGE_MEDIA)


@router.get(
    "/releases.jsonl",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/x-ndjson": {}}}},
)
async def export_releases(request: Request, where: Filters) -> StreamingResponse:
    """Every release that passes the filters, one JSON object per line in the order they
    were recorded, streamed: the bulk download."""

    async def lines() -> AsyncIterator[str]:
        async for chunk in ocds_reads.export(request.app.state.pool, where):
            yield "".join(f"{release}\n" for release in chunk)

    return StreamingResponse(lines(), media_type="application/x-ndjson")


@router.get(
    "/releases/live",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def live_releases(
    request: Request,
    cpv: Cpv = None,
    tag: Tag = None,
    last_event_id: Annotated[
        int | None,
        Header(ge=0, description="resume after this release position (the last event's id)"),
    ] = None,
) -> StreamingResponse:
    """Server-Sent Events: each new release as it is recorded (``event: release``, ``id``
    its position, ``data`` the release), optionally only of a CPV code or prefix and of
    one tag. A client that reconnects with ``Last-Event-ID`` first gets what it missed."""
    feed = _live_feed(request)
    events = feed.follow(ReleaseFilter(cpv=tuple(cpv or ()), tag=tag), last_event_id)
    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(events, media_type="text/event-stream", headers=headers)


@router.get(
    "/releases.atom",
    response_class=Response,
    responses={200: {"content": {"application/atom+xml": {}}}},
)
async def atom_feed(
    request: Request, where: Filters, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> Response:
    """An Atom feed of the latest releases that pass the filters, newest first: each entry
    names the tender, what changed and its status, and links to its notice and record."""
    rows = await ocds_reads.latest(request.app.state.pool, where, limit)
    return Response(_atom(request, rows), media_type="application/atom+xml")


async def _records(pool: Any, ocids: list[str]) -> dict[str, str]:
    """The stored records of these ocids; one the streams have not stored yet (data kept
    from before records were) is compiled here from its releases."""
    found = await ocds_reads.records(pool, ocids)
    missing = [ocid for ocid in ocids if ocid not in found]
    if missing:
        for ocid, releases in (await ocds_reads.record_releases(pool, missing)).items():
            parsed = [ocds_reads.parse(text) for _, text in releases]
            found[ocid] = ocds.dumps(ocds.compile_record(parsed))
    return found


def _live_feed(request: Request) -> ReleaseFeed:
    state = request.app.state
    if getattr(state, "release_feed", None) is None:
        state.release_feed = ReleaseFeed(state.pool)
    feed: ReleaseFeed = state.release_feed
    return feed


def _atom(request: Request, rows: list[Any]) -> str:
    """An Atom feed (RFC 4287) of the releases, newest first: each links to its notice and
    to its OCDS record."""
    base, this = public_base(request).rstrip("/"), public_url(request)
    feed = ElementTree.Element("feed", xmlns=ATOM)
    ElementTree.SubElement(feed, "id").text = this
    ElementTree.SubElement(feed, "title").text = f"{_settings(request).ocds_publisher}: notices"
    newest = rows[0]["date"] if rows else datetime.now(UTC)
    ElementTree.SubElement(feed, "updated").text = newest.isoformat()
    ElementTree.SubElement(feed, "link", rel="self", href=this)
    author = ElementTree.SubElement(feed, "author")
    ElementTree.SubElement(author, "name").text = _settings(request).ocds_publisher
    for row in rows:
        entry = ElementTree.SubElement(feed, "entry")
        record = f"{base}/ocds/records/{row['ocid']}"
        ElementTree.SubElement(entry, "id").text = f"{record}#{row['release_id']}"
        ElementTree.SubElement(entry, "title").text = f"{row['title']} ({', '.join(row['tags'])})"
        ElementTree.SubElement(entry, "updated").text = row["date"].isoformat()
        ElementTree.SubElement(
            entry, "link", rel="alternate", type="text/html", href=f"{base}/notices/{row['ocid']}"
        )
        ElementTree.SubElement(entry, "link", rel="related", type=PACKAGE_MEDIA, href=record)
        for tag in row["tags"]:
            ElementTree.SubElement(entry, "category", term=tag, label="OCDS release tag")
        for code in row["cpv"]:
            ElementTree.SubElement(entry, "category", term=code, scheme="CPV")
        summary = f"{row['buyer_name']}. Status: {row['status']}. {row['description']}"
        ElementTree.SubElement(entry, "summary").text = summary
    return ElementTree.tostring(feed, encoding="unicode", xml_declaration=True)
