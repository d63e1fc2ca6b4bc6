"""X-Forwarded-For is believed from the configured reverse proxies only: from anyone else a
client could pose as any address and slip its per-address rate limits."""

from typing import Any

import pytest

from adapters.http_limits import HttpLimits, trusted_proxies
from entrypoints.http.serving import server_config


async def client_seen(limits: HttpLimits, peer: str, forwarded_for: str) -> str:
    seen: list[str] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append(scope["client"][0])

    config = server_config(app, limits, "127.0.0.1", 0)
    config.load()
    scope = {
        "type": "http",
        "client": (peer, 40000),
        "headers": [(b"x-forwarded-for", forwarded_for.encode())],
        "scheme": "http",
    }
    await config.loaded_app(scope, None, None)
    return seen[0]


async def test_a_trusted_proxy_names_the_client() -> None:
    limits = HttpLimits(trusted_proxies=trusted_proxies("172.30.0.0/24"))
    assert await client_seen(limits, "172.30.0.7", "203.0.113.9") == "203.0.113.9"


async def test_anyone_else_cannot_pose_as_another_address() -> None:
    limits = HttpLimits(trusted_proxies=trusted_proxies("172.30.0.0/24"))
    assert await client_seen(limits, "198.51.100.4", "203.0.113.9") == "198.51.100.4"
    assert await client_seen(HttpLimits(trusted_proxies=()), "127.0.0.1", "10.0.0.1") == (
        "127.0.0.1"
    )


def test_the_setting_is_read_and_checked() -> None:
    assert HttpLimits.from_env({}).trusted_proxies == ("127.0.0.1",)
    env = {"PROCUREMENT_TRUSTED_PROXIES": " 10.0.0.5 , 172.30.0.0/24,"}
    assert HttpLimits.from_env(env).trusted_proxies == ("10.0.0.5", "172.30.0.0/24")
    assert HttpLimits.from_env({"PROCUREMENT_TRUSTED_PROXIES": ""}).trusted_proxies == ()
    with pytest.raises(ValueError, match="'caddy' is not an address or a network"):
        HttpLimits.from_env({"PROCUREMENT_TRUSTED_PROXIES": "caddy"})
