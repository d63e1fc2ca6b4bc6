"""How much of the API one request, token, address or connection may take.

Rates are in the notation of the ``limits`` package (``100/second``, ``6000/minute``). The
defaults leave room for a busy portal reader, a supplier's tools and the demo; tests and
benchmarks raise them through the same settings.
"""

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass

KIB = 1024


@dataclass(frozen=True)
class HttpLimits:
    max_body_bytes: int = 512 * KIB  # every route but the sealed bids, which allow more
    max_document_bytes: int = 20 * KIB * KIB  # a procurement document uploaded
    reads_per_address: str = "300/second"
    writes_per_token: str = "100/second"
    # Writes without a valid token (supplier registrations, wrong tokens), per address.
    anonymous_writes_per_address: str = "30/second"
    live_streams_per_address: int = 10  # Server-Sent Events followers at once
    live_streams: int = 500
    max_connections: int = 2000  # beyond this uvicorn answers 503
    connections_per_address: int = 200  # beyond this a new connection is closed at once
    header_timeout: float = 10.0  # seconds to send a request's line and headers
    body_timeout: float = 30.0  # seconds to send a request's body
    keep_alive_timeout: float = 5.0  # seconds an idle connection stays open
    hsts: bool = False  # Strict-Transport-Security also on plain HTTP (behind a TLS proxy)
    # Reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed: addresses or
    # networks. From anyone else those headers are ignored, or a client could pose as any
    # address and slip its rate limits.
    trusted_proxies: tuple[str, ...] = ("127.0.0.1",)

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "HttpLimits":
        default = cls()

        def number(name: str, fallback: float) -> float:
            return float(env[name]) if env.get(name) else fallback

        return cls(
            max_body_bytes=int(number("PROCUREMENT_MAX_BODY_BYTES", default.max_body_bytes)),
            max_document_bytes=int(
                number("PROCUREMENT_MAX_DOCUMENT_BYTES", default.max_document_bytes)
            ),
            reads_per_address=env.get("PROCUREMENT_READS_PER_ADDRESS") or default.reads_per_address,
            writes_per_token=env.get("PROCUREMENT_WRITES_PER_TOKEN") or default.writes_per_token,
            anonymous_writes_per_address=env.get("PROCUREMENT_ANONYMOUS_WRITES_PER_ADDRESS")
            or default.anonymous_writes_per_address,
            live_streams_per_address=int(
                number("PROCUREMENT_LIVE_STREAMS_PER_ADDRESS", default.live_streams_per_address)
            ),
            live_streams=int(number("PROCUREMENT_LIVE_STREAMS", default.live_streams)),
            max_connections=int(number("PROCUREMENT_MAX_CONNECTIONS", default.max_connections)),
            connections_per_address=int(
                number("PROCUREMENT_CONNECTIONS_PER_ADDRESS", default.connections_per_address)
            ),
            header_timeout=number("PROCUREMENT_HEADER_TIMEOUT", default.header_timeout),
            body_timeout=number("PROCUREMENT_BODY_TIMEOUT", default.body_timeout),
            keep_alive_timeout=number("PROCUREMENT_KEEP_ALIVE_TIMEOUT", default.keep_alive_timeout),
            hsts=env.get("PROCUREMENT_HSTS", "").strip().lower() in {"1", "true", "yes", "on"},
            trusted_proxies=trusted_proxies(env["PROCUREMENT_TRUSTED_PROXIES"])
            if "PROCUREMENT_TRUSTED_PROXIES" in env
            else default.trusted_proxies,
        )

    def raised(self) -> "HttpLimits":
        """Limits no test or benchmark run from one address trips over."""
        plenty = "1000000/second"
        return HttpLimits(
            max_body_bytes=self.max_body_bytes,
            max_document_bytes=self.max_document_bytes,
            reads_per_address=plenty,
            writes_per_token=plenty,
            anonymous_writes_per_address=plenty,
            live_streams_per_address=10_000,
            live_streams=10_000,
            max_connections=20_000,
            connections_per_address=20_000,
        )


def trusted_proxies(text: str) -> tuple[str, ...]:
    """``PROCUREMENT_TRUSTED_PROXIES``: addresses or networks, comma-separated; empty: none."""
    proxies = tuple(item.strip() for item in text.split(",") if item.strip())
    for proxy in proxies:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            msg = (
                f"PROCUREMENT_TRUSTED_PROXIES: {proxy!r} is not an address or a network; "
                "write e.g. 10.0.0.5,172.30.0.0/24"
            )
            raise ValueError(msg) from None
    return proxies
