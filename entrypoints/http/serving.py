"""How uvicorn serves the API so that no client can hold it: a cap on connections in all and
per address, a time limit for a request's line and headers and a size limit on them, and a
short keep-alive.

uvicorn times out idle keep-alive connections, but has no limit on how long a client may
take to send its headers: a connection that never finishes them would stay open for ever.
The protocol here closes it when the time runs out.
"""

import asyncio
import socket
from collections import Counter
from typing import Any, ClassVar

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from adapters.http_limits import HttpLimits

MAX_HEAD_BYTES = 64 * 1024  # a request's line and headers


class GuardedHttp(HttpToolsProtocol):
    """uvicorn's httptools protocol, with a deadline for each request's headers."""

    limits: ClassVar[HttpLimits] = HttpLimits()
    open_from: ClassVar[Counter[str]] = Counter()  # connections open, per address (one per server)
    _deadline: asyncio.TimerHandle | None = None
    _head_bytes = 0
    _address = ""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[arg-type]  # a socket transport
        self._address = self.client[0] if self.client else ""
        self.open_from[self._address] += 1
        if self.open_from[self._address] > self.limits.connections_per_address:
            self.transport.close()  # the address holds its share already
            return
        self._await_headers()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_waiting()
        self.open_from[self._address] -= 1
        if not self.open_from[self._address]:
            del self.open_from[self._address]
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        waiting = self._deadline is not None
        super().data_received(data)
        if waiting and self._deadline is not None and not self.transport.is_closing():
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD_BYTES:
                self._stop_waiting()
                self.send_400_response(f"the request's headers are over {MAX_HEAD_BYTES} bytes")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._deadline is None:  # the next request on a kept-alive connection
            self._await_headers()

    def on_headers_complete(self) -> None:
        self._stop_waiting()
        super().on_headers_complete()

    def _await_headers(self) -> None:
        self._head_bytes = 0
        self._deadline = self.loop.call_later(self.limits.header_timeout, self._too_slow)

    def _stop_waiting(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.close()


def server_config(
    app: Any, limits: HttpLimits, host: str, port: int, **options: Any
) -> uvicorn.Config:
    """uvicorn's configuration for ``app``, with the connection limits of ``limits``."""
    protocol = type("GuardedHttp", (GuardedHttp,), {"limits": limits, "open_from": Counter()})
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=protocol,
        limit_concurrency=limits.max_connections,
        timeout_keep_alive=max(1, round(limits.keep_alive_timeout)),
        proxy_headers=bool(limits.trusted_proxies),
        forwarded_allow_ips=list(limits.trusted_proxies),
        **({"log_level": "warning"} | options),
    )


def shared_socket(host: str, port: int) -> socket.socket:
    """A listening socket that other API processes may bind too (SO_REUSEPORT): the kernel
    hands each new connection to one of them, so N processes serve one port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


class PortInUse(OSError):
    """Something listens on the port already: another platform, or another program."""


def port_must_be_free(host: str, port: int) -> None:
    """Refuse a port that something listens on, before API processes share it: a plain
    bind fails beside any listener, one sharing its port included, where SO_REUSEPORT
    would quietly join a stranger's group."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            msg = f"port {port} on {host} is in use ({error.strerror}): stop what listens there, or choose another with --port"
            raise PortInUse(error.errno, msg) from error
