"""A proxy in front of several API processes, as the production compose file's Caddy is:
each request goes to the next live process in turn. A test chooses where some requests go
and may take a process out (it then gets no new requests, and is stopped once its requests
in flight are answered), and reads back every write the platform acknowledged."""

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

# Hop-by-hop headers, and the ones httpx has already acted on (it decodes the body).
_DROPPED = {"host", "connection", "content-length", "content-encoding", "transfer-encoding"}
WRITES = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass
class Backend:
    url: str
    client: httpx.AsyncClient
    alive: bool = True
    in_flight: int = 0
    answered: int = 0


# Where a request goes: a backend's index, or None for the next in turn.
Router = Callable[[Request], int | None]
# Told each answer: the backend's index, the request, its body and the answer.
Watcher = Callable[[int, Request, httpx.Response], Awaitable[None]]


@dataclass
class Balancer:
    backends: list[Backend]
    route: Router = lambda _request: None
    watch: Watcher | None = None
    acknowledged: list[tuple[str, str, Any]] = field(default_factory=list)  # method, path, body
    url: str = ""  # where it serves
    _turns: "itertools.count[int]" = field(default_factory=itertools.count)

    @classmethod
    def over(cls, urls: list[str]) -> "Balancer":
        return cls([Backend(url, httpx.AsyncClient(base_url=url, timeout=120)) for url in urls])

    def app(self) -> Starlette:
        methods = ["GET", "HEAD", "OPTIONS", *WRITES]
        return Starlette(routes=[Route("/{path:path}", self._forward, methods=methods)])

    async def take_out(self, index: int, stop: Callable[[], None]) -> None:
        """No new request reaches backend ``index``; ``stop`` it once it has answered the
        ones in flight."""
        backend = self.backends[index]
        backend.alive = False
        while backend.in_flight:  # noqa: ASYNC110  # a counter, not an event
            await asyncio.sleep(0.01)
        stop()

    async def close(self) -> None:
        for backend in self.backends:
            await backend.client.aclose()

    async def _forward(self, request: Request) -> Response:
        index = self._pick(request)
        backend = self.backends[index]
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _DROPPED}
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        backend.in_flight += 1
        try:
            answer = await backend.client.request(
                request.method, target, content=await request.body(), headers=headers
            )
        finally:
            backend.in_flight -= 1
        backend.answered += 1
        if request.method in WRITES and answer.is_success:
            body = answer.json() if answer.content else None
            self.acknowledged.append((request.method, request.url.path, body))
        if self.watch is not None:
            await self.watch(index, request, answer)
        kept = {k: v for k, v in answer.headers.items() if k.lower() not in _DROPPED}
        return Response(answer.content, answer.status_code, headers=kept)

    def _pick(self, request: Request) -> int:
        chosen = self.route(request)
        if chosen is not None and self.backends[chosen].alive:
            return chosen
        live = [n for n, backend in enumerate(self.backends) if backend.alive]
        return live[next(self._turns) % len(live)]
