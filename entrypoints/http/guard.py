"""The API's front door: what every request must pass before a route reads a byte of it.

In order: the address's or token's rate; for a write, a valid bearer token (checked before
the body is read, so a stranger cannot make the API hold one); a body no larger than the
route allows, counted as it arrives and sent within a time limit; for a live stream, a place
among those this address and the whole process may follow at once. Every answer, refusals
included, carries the security headers.
"""

import asyncio
import ipaddress
import re
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from fastapi import HTTPException, Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.http_limits import HttpLimits
from entrypoints.http import auth
from entrypoints.http.problems import PROBLEM
from entrypoints.http.rate_limits import RateLimits
from entrypoints.http.routes import bids as bids_api
from entrypoints.http.security_headers import security_headers
from schemas.commands import Actor, Role

READS = frozenset({"GET", "HEAD", "OPTIONS"})
ANONYMOUS_WRITES = frozenset({"/suppliers"})  # registering needs no token yet
_BIDS = re.compile(r"^/tenders/[^/]+/bids(/withdrawal)?$")
_HAND_IN = re.compile(r"^/tenders/[^/]+/opening/shares$")
DOCUMENT_UPLOADS = re.compile(r"^/tenders/[^/]+/documents(/[^/]+)?$")
LIVE_STREAMS = re.compile(r"^(/ocds/releases/live|/tenders/[^/]+/auctions/[^/]+/live)$")
_DATABASE_DOWN = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError)


def problem(status: int, code: str, title: str, detail: str, **headers: str) -> Response:
    body = {"type": f"urn:procurement:problem:{code}", "title": title, "status": status}
    body |= {"detail": detail, "code": code}
    return JSONResponse(body, status, headers=headers, media_type=PROBLEM)


def _too_many(wait: float, whose: str) -> Response:
    detail = f"too many requests from {whose}; try again in {wait:.0f} s"
    return problem(
        429, "too_many_requests", "Too many requests", detail, **{"Retry-After": f"{wait:.0f}"}
    )


class LiveStreams:
    """Who follows a live stream now: at most so many per address, and so many in all."""

    def __init__(self, per_address: int, total: int) -> None:
        self.per_address, self.total = per_address, total
        self.following: Counter[str] = Counter()

    def refusal(self, address: str) -> Response | None:
        if sum(self.following.values()) >= self.total:
            detail = f"{self.total} live streams are followed already; try again later"
            return problem(503, "busy", "Too many live streams", detail, **{"Retry-After": "5"})
        if self.following[address] >= self.per_address:
            detail = f"{address} follows {self.per_address} live streams already, the most allowed"
            return problem(
                429, "too_many_streams", "Too many live streams", detail, **{"Retry-After": "5"}
            )
        return None


class HttpGuard:
    def __init__(self, app: ASGIApp, limits: HttpLimits) -> None:
        self.app = app
        self.limits = limits
        self.rates = RateLimits(limits)
        self.live = LiveStreams(limits.live_streams_per_address, limits.live_streams)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = self._with_headers(scope, send)
        actor = None
        try:
            refusal, actor = await self._admit(scope)
        except _DATABASE_DOWN:
            detail = "the database cannot be reached to check the bearer token; try again soon"
            refusal = problem(
                503, "unavailable", "Service unavailable", detail, **{"Retry-After": "5"}
            )
        if refusal is None:
            refusal, receive = await self._read_body(scope, receive, actor)
        if refusal is not None:
            await refusal(scope, receive, send)
        elif LIVE_STREAMS.match(scope["path"]):
            await self._follow(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    def _with_headers(self, scope: Scope, send: Send) -> Send:
        over_tls = scope.get("scheme") == "https" or self.limits.hsts
        extra = security_headers(scope["path"], over_tls)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                added = [(name, value) for name, value in extra if name not in present]
                message = {**message, "headers": [*message.get("headers", []), *added]}
            await send(message)

        return send_with_headers

    async def _admit(self, scope: Scope) -> tuple[Response | None, Actor | None]:
        """A refusal, or None; and who sends a write, once its token is checked."""
        address = client_address(scope)
        if scope["method"] in READS:
            wait = await self.rates.spend(self.rates.reads, address)
            return (None if wait is None else _too_many(wait, address)), None
        if scope["path"] in ANONYMOUS_WRITES:
            wait = await self.rates.spend(self.rates.anonymous_writes, address)
            return (None if wait is None else _too_many(wait, address)), None
        if (wait := await self.rates.wait(self.rates.anonymous_writes, address)) is not None:
            return _too_many(wait, address), None  # too many writes without a valid token
        try:
            actor = await auth.bearer(Request(scope))
        except HTTPException as refused:
            await self.rates.spend(self.rates.anonymous_writes, address)
            detail = str(refused.detail)
            return problem(401, "unauthenticated", detail, detail, **(refused.headers or {})), None
        wait = await self.rates.spend(self.rates.writes, actor.id)
        return (None if wait is None else _too_many(wait, actor.id)), actor

    async def _read_body(
        self, scope: Scope, receive: Receive, actor: Actor | None
    ) -> tuple[Response | None, Receive]:
        """The whole body, at most the route's limit, read now; the route reads it after."""
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length", b"")
        if not declared and b"transfer-encoding" not in headers:
            return None, receive  # no body
        most = self._most(scope["path"], actor)
        if declared.isdigit() and int(declared) > most:
            return _too_large(scope["path"], most), receive
        try:
            async with asyncio.timeout(self.limits.body_timeout):
                body = await _body_of_at_most(receive, most)
        except _ClientLeft:
            return problem(400, "bad_request", "Bad request", "the body was cut off"), receive
        except TimeoutError:
            detail = f"the body was not sent within {self.limits.body_timeout:g} s"
            refusal = problem(408, "request_timeout", "Request timeout", detail, Connection="close")
            return refusal, receive
        if body is None:
            return _too_large(scope["path"], most), receive
        return None, _replay(body, receive)

    def _most(self, path: str, actor: Actor | None) -> int:
        """The largest body the route takes: a sealed bid, a document, an officer's hand-in
        of shares at an opening (one per bid: megabytes for thousands of bids; nobody else
        may hand any in), or anything else."""
        if _BIDS.match(path):
            return bids_api.MAX_BODY
        if _HAND_IN.match(path) and actor is not None and actor.role is Role.OFFICER:
            return bids_api.HAND_IN_MAX_BODY
        if DOCUMENT_UPLOADS.match(path):
            return self.limits.max_document_bytes
        return self.limits.max_body_bytes

    async def _follow(self, scope: Scope, receive: Receive, send: Send) -> None:
        address = client_address(scope)
        if (refusal := self.live.refusal(address)) is not None:
            await refusal(scope, receive, send)
            return
        self.live.following[address] += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.live.following[address] -= 1
            if not self.live.following[address]:
                del self.live.following[address]


class _ClientLeft(Exception):
    """The client hung up in the middle of its body: nothing of it may reach a route."""


def _too_large(path: str, most: int) -> Response:
    detail = f"a request to {path} may be at most {most} bytes"
    return problem(413, "too_large", "Request too large", detail)


async def _body_of_at_most(receive: Receive, most: int) -> bytes | None:
    """The body as it arrives, or None as soon as it is over ``most`` bytes."""
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _ClientLeft
        body += message.get("body", b"")
        if len(body) > most:
            return None
        if not message.get("more_body", False):
            return bytes(body)


def client_address(scope: Scope) -> str:
    """Who sends: the IPv4 address, or the IPv6 /64 (one subscriber's network holds a whole
    /64, so counting single IPv6 addresses would give one client billions of allowances)."""
    client = scope.get("client")
    host = str(client[0]) if client else "unknown"
    if ":" not in host:
        return host
    try:
        return str(ipaddress.IPv6Network(f"{host}/64", strict=False))
    except ValueError:
        return host


def _replay(body: bytes, receive: Receive) -> Callable[[], Awaitable[Any]]:
    """The body once, as one message; then whatever the connection says (a disconnect)."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def replayed() -> Any:
        return pending.pop() if pending else await receive()

    return replayed
