"""The transparency log, for anyone: signed tree heads and their archive, the entries, the
inclusion and consistency proofs, each aggregate's event documents, the export, and the key
log's view of one party (its key entries, each proved under the latest signed head).

Formats: ``publication.transparency`` and docs/transparency.md.
"""

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any
from xml.etree import ElementTree

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field

from adapters.postgres import key_log, transparency_log
from adapters.postgres.transparency_log import StoredEntry
from bidding import merkle
from entrypoints.http.problems import problems
from entrypoints.http.public_url import public_base, public_url
from procurement.errors import NotFound, Rejected
from publication.transparency import SignedHead

router = APIRouter(prefix="/transparency", tags=["public"])

MAX_PAGE = 1_000  # entries, heads or events in one answer
MAX_KEY_ENTRIES = 100  # a party's key entries in one answer
MAX_ID = 200  # characters of an aggregate id or ocid
ID_PATTERN = r"^[A-Za-z0-9][\w.:-]*$"  # as schemas.values.Identifier
MAX_INDEX = 2**62  # sizes and indexes fit PostgreSQL's bigint
ATOM = "http://www.w3.org/2005/Atom"
Hex = Annotated[str, Field(pattern="^[0-9a-f]{64}$")]


class Head(BaseModel):
    """A signed tree head: Ed25519 by the platform key (``key_id``) over the canonical JSON
    of ``{"purpose": "procurement-transparency-head/1", "root", "timestamp", "tree_size"}``."""

    tree_size: int
    root: Hex
    timestamp: str = Field(description="RFC 3339, UTC, microseconds and Z, as signed")
    key_id: str
    signature: str = Field(description="base64")


class Heads(BaseModel):
    heads: list[Head] = Field(description="oldest first")
    next_after: int | None = Field(description="ask again with after= this for more; null: none")


class Entry(BaseModel):
    """One leaf: its leaf data is the canonical JSON of these fields without ``leaf_hash``."""

    aggregate_id: str
    event_id: str
    event_sha256: Hex
    leaf_index: int
    recorded_at: str
    sequence: int
    type: str


class ServedEntry(Entry):
    leaf_hash: Hex = Field(description="SHA-256(0x00 || leaf data), RFC 9162")


class Entries(BaseModel):
    start: int
    end: int = Field(description="one past the last entry listed")
    tree_size: int = Field(description="the size of the latest signed head")
    entries: list[ServedEntry]


class Inclusion(BaseModel):
    leaf_index: int
    tree_size: int
    root: Hex
    audit_path: list[Hex]


class Consistency(BaseModel):
    first: int
    second: int
    first_root: Hex
    second_root: Hex
    proof: list[Hex]


class LoggedEvent(BaseModel):
    leaf_index: int
    entry: Entry
    leaf_hash: Hex
    document: dict[str, Any] | None = Field(
        description="the event document, whose canonical JSON's SHA-256 is event_sha256;"
        " null while withheld (or if the store no longer holds the event)"
    )
    withheld_until: str | None = Field(
        description="evaluation_decided or auction_closed while withheld; null when served"
    )


class AggregateEvents(BaseModel):
    aggregate_id: str
    events: list[LoggedEvent] = Field(description="in sequence order")
    next_after: int | None = Field(description="ask again with after= this sequence for more")


class Procedure(BaseModel):
    ocid: str
    aggregates: list[str] = Field(description="the logged aggregate ids of the procedure")


class KeyLogEntry(BaseModel):
    """A key entry, its event document, and its audit path (RFC 9162 2.1.3) under the
    answer's head: the document's SHA-256 is the entry's event_sha256."""

    leaf_index: int
    entry: Entry
    leaf_hash: Hex
    document: dict[str, Any] | None = Field(
        description="the event document; null if the store no longer holds the event"
    )
    audit_path: list[Hex] = Field(description="the entry's inclusion in the head's tree")


class PartyKeyLog(BaseModel):
    party_id: str
    head: Head = Field(description="the latest signed head, which every audit_path proves to")
    entries: list[KeyLogEntry] = Field(description="the party's key entries, in log order")
    next_after: int | None = Field(description="ask again with after= this sequence for more")


def _head(head: SignedHead) -> Head:
    return Head.model_validate(transparency_log.head_json(head))


async def _size(request: Request) -> int:
    head = await transparency_log.latest_head(request.app.state.pool)
    return 0 if head is None else head.tree_size


def _within(name: str, size: int, tree_size: int) -> None:
    if size > tree_size:
        msg = f"{name} {size} is beyond the log's {tree_size} entries (its latest signed head)"
        raise Rejected(msg, code="out_of_range")


@router.get("/head", response_model=Head, responses=problems(404))
async def head(request: Request) -> Head:
    """The latest signed tree head."""
    latest = await transparency_log.latest_head(request.app.state.pool)
    if latest is None:
        raise NotFound("the transparency log has no entry yet", code="log_empty")
    return _head(latest)


@router.get("/heads", response_model=Heads, responses=problems(422))
async def heads(
    request: Request,
    after: Annotated[int, Query(ge=0, le=MAX_INDEX, description="heads of a larger tree size")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> Heads:
    """The archive of signed heads, one per size the log reached, oldest first."""
    found = await transparency_log.heads(request.app.state.pool, after, limit)
    more = found[-1].tree_size if len(found) == limit else None
    return Heads(heads=[_head(h) for h in found], next_after=more)


@router.get(
    "/heads.atom",
    response_class=Response,
    responses={200: {"content": {"application/atom+xml": {"schema": {"type": "string"}}}}},
)
async def heads_feed(request: Request, limit: Annotated[int, Query(ge=1, le=200)] = 50) -> Response:
    """An Atom feed of the latest signed heads, newest first; each entry's content is the
    head as ``GET /transparency/head`` serves it."""
    found = await transparency_log.newest_heads(request.app.state.pool, limit)
    return Response(_atom(request, found), media_type="application/atom+xml")


@router.get("/entries", response_model=Entries, responses=problems(422))
async def entries(
    request: Request,
    start: Annotated[int, Query(ge=0, le=MAX_INDEX)] = 0,
    end: Annotated[
        int | None, Query(ge=1, le=MAX_INDEX, description="exclusive; at most start + 1000")
    ] = None,
) -> Entries:
    """The entries from ``start`` to ``end`` (exclusive) in leaf order, at most 1000."""
    size = await _size(request)
    end = min(start + MAX_PAGE, size) if end is None else end
    if end - start > MAX_PAGE or end < start:
        msg = f"end ({end}) must be from start ({start}) to start + {MAX_PAGE}"
        raise Rejected(msg, code="bad_range")
    _within("end", end, size)
    found = await transparency_log.entries(request.app.state.pool, start, end)
    return Entries(start=start, end=end, tree_size=size, entries=[_served(s) for s in found])


def _served(stored: StoredEntry) -> ServedEntry:
    return ServedEntry(**stored.entry.as_json(), leaf_hash=stored.leaf_hash.hex())


@router.get("/inclusion", response_model=Inclusion, responses=problems(422))
async def inclusion(
    request: Request,
    leaf_index: Annotated[int, Query(ge=0, le=MAX_INDEX)],
    tree_size: Annotated[
        int | None, Query(ge=1, le=MAX_INDEX, description="default: the latest head's")
    ] = None,
) -> Inclusion:
    """The audit path proving that entry ``leaf_index`` is in the tree of ``tree_size``."""
    size = await _size(request)
    tree_size = size if tree_size is None else tree_size
    _within("tree_size", tree_size, size)
    if leaf_index >= tree_size:
        raise Rejected(f"leaf {leaf_index} is not in a tree of {tree_size}", code="out_of_range")
    leaves = await transparency_log.leaf_hashes(request.app.state.pool, tree_size)
    return Inclusion(
        leaf_index=leaf_index,
        tree_size=tree_size,
        root=merkle.root(leaves).hex(),
        audit_path=[h.hex() for h in merkle.inclusion_proof(leaves, leaf_index)],
    )


@router.get("/consistency", response_model=Consistency, responses=problems(422))
async def consistency(
    request: Request,
    first: Annotated[int, Query(ge=1, le=MAX_INDEX)],
    second: Annotated[
        int | None, Query(ge=1, le=MAX_INDEX, description="default: the latest head's")
    ] = None,
) -> Consistency:
    """The proof (RFC 9162 2.1.4) that the tree of size ``second`` extends that of ``first``."""
    size = await _size(request)
    second = size if second is None else second
    _within("second", second, size)
    if first > second:
        raise Rejected(f"first ({first}) must not exceed second ({second})", code="out_of_range")
    leaves = await transparency_log.leaf_hashes(request.app.state.pool, second)
    return Consistency(
        first=first,
        second=second,
        first_root=merkle.root(leaves[:first]).hex(),
        second_root=merkle.root(leaves).hex(),
        proof=[h.hex() for h in merkle.consistency_proof(leaves, first)],
    )


@router.get("/events", response_model=AggregateEvents, responses=problems(404, 422))
async def aggregate_events(
    request: Request,
    aggregate_id: Annotated[str, Query(min_length=1, max_length=MAX_ID, pattern=ID_PATTERN)],
    after: Annotated[int, Query(ge=0, le=MAX_INDEX, description="events of a larger sequence")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = MAX_PAGE,
) -> AggregateEvents:
    """The logged events of one aggregate, each with its entry and its event document, or
    the rule that withholds the document for now."""
    found = await transparency_log.aggregate_events(request.app.state.pool, aggregate_id)
    if not found:
        raise NotFound(f"no event of {aggregate_id} is in the transparency log")
    page = [item for item in found if item.stored.entry.sequence > after][:limit]
    more = page[-1].stored.entry.sequence if page and page[-1] is not found[-1] else None
    return AggregateEvents(
        aggregate_id=aggregate_id,
        events=[
            LoggedEvent(
                leaf_index=item.stored.entry.leaf_index,
                entry=Entry(**item.stored.entry.as_json()),
                leaf_hash=item.stored.leaf_hash.hex(),
                document=item.document,
                withheld_until=item.withheld_until,
            )
            for item in page
        ],
        next_after=more,
    )


@router.get("/procedures/{ocid}", response_model=Procedure, responses=problems(404, 422))
async def procedure(
    request: Request,
    ocid: Annotated[str, Path(min_length=1, max_length=MAX_ID, pattern=ID_PATTERN)],
) -> Procedure:
    """The logged aggregates of one procedure: its ocid (the tender), ``<ocid>:bids``,
    ``<ocid>:evaluation``, ``<ocid>:auction:<lot>``, ``<ocid>:contract:<lot>``,
    ``<ocid>:purchase``, ``<ocid>:quotation``, those that exist."""
    found = await transparency_log.procedure_aggregates(request.app.state.pool, ocid)
    if not found:
        raise NotFound(f"no event of procedure {ocid} is in the transparency log")
    return Procedure(ocid=ocid, aggregates=found)


@router.get("/keys/{party_id}", response_model=PartyKeyLog, responses=problems(404, 422))
async def party_keys(
    request: Request,
    party_id: Annotated[str, Path(min_length=1, max_length=MAX_ID, pattern=ID_PATTERN)],
    after: Annotated[
        int, Query(ge=0, le=MAX_INDEX, description="entries of a larger sequence")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_KEY_ENTRIES)] = MAX_KEY_ENTRIES,
) -> PartyKeyLog:
    """The key log of one party: every entry recording its committee keys, with its event
    document and its inclusion proof under the latest signed head, and that head. A
    member checks these are its own keys; a client checks a committee's keys against them."""
    pool = request.app.state.pool
    if not await key_log.party_known(pool, party_id):
        raise NotFound(f"{party_id} is not a registered officer", code="unknown_party")
    found = await key_log.party_key_log(pool, party_id, after, limit)
    if found.head is None:
        raise NotFound("the transparency log has no entry yet", code="log_empty")
    return PartyKeyLog(
        party_id=party_id,
        head=_head(found.head),
        entries=[
            KeyLogEntry(
                leaf_index=item.logged.stored.entry.leaf_index,
                entry=Entry(**item.logged.stored.entry.as_json()),
                leaf_hash=item.logged.stored.leaf_hash.hex(),
                document=item.logged.document,
                audit_path=[h.hex() for h in item.audit_path],
            )
            for item in found.entries
        ],
        next_after=found.entries[-1].logged.stored.entry.sequence if found.more else None,
    )


@router.get(
    "/export",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "JSON Lines: every entry ({kind: entry, ...entry, leaf_hash}) in leaf"
            " order, then every head ({kind: head, ...head}) by size",
            "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
        }
    },
)
async def export(request: Request) -> StreamingResponse:
    """The whole log from one snapshot, streamed: every entry, then every signed head."""

    async def lines() -> AsyncIterator[str]:
        async for record in transparency_log.export(request.app.state.pool):
            yield json.dumps(record, separators=(",", ":")) + "\n"

    return StreamingResponse(lines(), media_type="application/x-ndjson")


def _atom(request: Request, found: list[SignedHead]) -> str:
    """RFC 4287: one entry per head, its content the head's JSON; URLs on the public base
    URL when it is set (PROCUREMENT_PUBLIC_URL)."""
    this, heads_url = public_url(request), f"{public_base(request)}transparency/heads"
    feed = ElementTree.Element("feed", xmlns=ATOM)
    ElementTree.SubElement(feed, "id").text = this
    ElementTree.SubElement(feed, "title").text = "Transparency log: signed tree heads"
    updated = found[0].timestamp if found else "1970-01-01T00:00:00.000000Z"
    ElementTree.SubElement(feed, "updated").text = updated
    ElementTree.SubElement(feed, "link", rel="self", href=this)
    author = ElementTree.SubElement(feed, "author")
    ElementTree.SubElement(author, "name").text = "procurement platform"
    for item in found:
        entry = ElementTree.SubElement(feed, "entry")
        ElementTree.SubElement(entry, "id").text = f"{heads_url}#{item.tree_size}"
        ElementTree.SubElement(entry, "title").text = f"tree head of {item.tree_size} entries"
        ElementTree.SubElement(entry, "updated").text = item.timestamp
        content = ElementTree.SubElement(entry, "content", type="application/json")
        content.text = json.dumps(transparency_log.head_json(item), separators=(",", ":"))
    return ElementTree.tostring(feed, encoding="unicode", xml_declaration=True)
