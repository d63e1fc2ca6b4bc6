"""Each party's inbox: the notices the procedures sent it (``readmodels.notices``), read with
its token, or from a feed reader through a private Atom link.

A feed link is a secret in the URL, since feed readers send no token: it is shown once,
kept as a SHA-256 digest, and making a new one ends the old. Nobody reads another party's
notices: the token or the link names the party, never a parameter.
"""

import hashlib
import secrets
import uuid
from datetime import datetime
from typing import Annotated, Any
from xml.etree import ElementTree

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import Field

from entrypoints.http.auth import ActorDep
from entrypoints.http.problems import problems
from entrypoints.http.public_url import public_base
from procurement.errors import NotAllowed, NotFound
from readmodels import notices
from schemas.base import Message
from schemas.commands import Actor, Role

router = APIRouter(tags=["inbox"])

ATOM = "http://www.w3.org/2005/Atom"
MAX_PAGE = 200
MAX_POSITION = 2**63 - 1  # a store position is a bigint
FEED_ENTRIES = 50
_SECRET = r"^[A-Za-z0-9_-]{43}$"  # 32 random bytes, base64url
_NOTICE_IDS = uuid.UUID("6f1d7c1e-2b1a-4d8e-9a57-0c3c1f1b0a11")  # names each notice's uuid
_PRIVATE = {"Cache-Control": "private, no-store", "X-Robots-Tag": "noindex"}


class InboxNotice(Message):
    """One notice: what an event of a procedure told this party (or its agency)."""

    position: int  # the event's place in the store: the order, and the cursor
    event_id: uuid.UUID
    recipient_id: str
    ocid: str
    kind: str
    text: str
    occurred_at: datetime
    read: bool


class Inbox(Message):
    notices: list[InboxNotice]
    unread: int
    next_before: int | None  # ask with ``before`` for older notices; None: no more


class ReadThrough(Message):
    through: Annotated[int, Field(ge=1, le=MAX_POSITION)]  # every notice up to here is read


class Unread(Message):
    unread: int


class FeedLink(Message):
    url: str  # shown once: keep it private
    created_at: datetime


@router.get("/inbox", response_model=Inbox, responses=problems(401))
async def inbox(
    request: Request,
    actor: ActorDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    before: Annotated[
        int | None, Query(ge=1, le=MAX_POSITION, description="notices older than this position")
    ] = None,
) -> Inbox:
    """Your notices, newest first: award decisions with their reasons and standstill,
    requests for clarification or justification, cancellations, review decisions. An
    officer also reads those to its agency."""
    rows, unread = await notices.inbox(request.app.state.pool, actor, limit, before)
    more = rows[-1]["position"] if len(rows) == limit else None
    return Inbox(notices=[InboxNotice(**row) for row in rows], unread=unread, next_before=more)


@router.post("/inbox/read", response_model=Unread, responses=problems(401))
async def mark_read(request: Request, body: ReadThrough, actor: ActorDep) -> Unread:
    """Mark your notices read up to a position (``through``); a position before one already
    marked changes nothing. Answers how many are still unread."""
    pool = request.app.state.pool
    await notices.mark_read(pool, actor, body.through)
    return Unread(unread=await notices.unread(pool, actor))


@router.post(
    "/inbox/feed-links", status_code=201, response_model=FeedLink, responses=problems(401, 403)
)
async def new_feed_link(request: Request, actor: ActorDep) -> FeedLink:
    """A private Atom feed of your notices, for a feed reader. The link is shown once and
    ends the one you had before."""
    if actor.role in {Role.OPERATOR, Role.SYSTEM}:
        raise NotAllowed("the operator receives no notices: there is no feed to link to")
    secret = secrets.token_urlsafe(32)
    created = await notices.new_feed_link(request.app.state.pool, actor, _digest(secret))
    return FeedLink(url=f"{public_base(request)}inbox/feeds/{secret}", created_at=created)


@router.get(
    "/inbox/feeds/{secret}",
    response_class=Response,
    responses={
        200: {"content": {"application/atom+xml": {"schema": {"type": "string"}}}},
        **problems(404),
    },
)
async def feed(request: Request, secret: Annotated[str, Path(pattern=_SECRET)]) -> Response:
    """The Atom feed of the party whose private link this is, newest notices first."""
    owner = await notices.feed_owner(request.app.state.pool, _digest(secret))
    if owner is None:  # unknown or replaced: the same answer, whichever
        raise NotFound("no feed at this link: make a new one with POST /inbox/feed-links")
    rows, _ = await notices.inbox(request.app.state.pool, owner, FEED_ENTRIES)
    this = f"{public_base(request)}inbox/feeds/{secret}"
    return Response(_atom(owner, rows, this), media_type="application/atom+xml", headers=_PRIVATE)


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def _atom(owner: Actor, rows: list[dict[str, Any]], this: str) -> str:
    """RFC 4287: one entry per notice, its text as the content."""
    feed = ElementTree.Element("feed", xmlns=ATOM)
    ElementTree.SubElement(feed, "id").text = f"urn:uuid:{uuid.uuid5(_NOTICE_IDS, owner.id)}"
    ElementTree.SubElement(feed, "title").text = f"Notices to {owner.id}"
    updated = rows[0]["occurred_at"].isoformat() if rows else "1970-01-01T00:00:00+00:00"
    ElementTree.SubElement(feed, "updated").text = updated
    ElementTree.SubElement(feed, "link", rel="self", href=this)
    author = ElementTree.SubElement(feed, "author")
    ElementTree.SubElement(author, "name").text = "procurement platform"
    for row in rows:
        entry = ElementTree.SubElement(feed, "entry")
        named = f"{row['event_id']}|{row['recipient_id']}"
        ElementTree.SubElement(entry, "id").text = f"urn:uuid:{uuid.uuid5(_NOTICE_IDS, named)}"
        ElementTree.SubElement(entry, "title").text = f"{row['kind']}: {row['ocid']}"
        ElementTree.SubElement(entry, "updated").text = row["occurred_at"].isoformat()
        ElementTree.SubElement(entry, "content", type="text").text = row["text"]
    return ElementTree.tostring(feed, encoding="unicode", xml_declaration=True)
