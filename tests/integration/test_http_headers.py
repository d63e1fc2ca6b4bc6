"""Every answer tells browsers to load nothing from elsewhere, run no inline script, stay
out of frames and not sniff types; /docs is Swagger UI served by the platform itself."""

import re
from collections.abc import AsyncIterator

import pytest

from adapters.http_limits import HttpLimits
from tests.integration.api_only import api_only
from tests.integration.stack import Stack

pytestmark = pytest.mark.integration

PAGES = ["/tenders", "/", "/portal/verify", "/docs", "/nowhere", "/docs/assets/swagger-ui.css"]


@pytest.fixture(scope="module")
async def api(
    postgres_server: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    async with api_only(
        postgres_server, tmp_path_factory.mktemp("headers"), HttpLimits().raised()
    ) as platform:
        yield platform


def directives(policy: str) -> dict[str, list[str]]:
    parts = (d.split() for d in policy.split(";") if d.strip())
    return {part[0]: part[1:] for part in parts}


@pytest.mark.parametrize("path", PAGES)
async def test_every_answer_carries_the_security_headers(api: Stack, path: str) -> None:
    """JSON, portal pages, /docs, its assets and a 404 all carry CSP, nosniff and no framing."""
    async with api.client() as client:
        response = await client.get(path)
    assert response.status_code in (200, 404)
    policy = directives(response.headers["content-security-policy"])
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["default-src"] == ["'none'"]
    assert policy["script-src"] == ["'self'"]  # no inline script, no other origin
    assert all("unsafe" not in source for sources in policy.values() for source in sources)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "strict-transport-security" not in response.headers  # plain HTTP


async def test_hsts_only_when_the_request_came_over_tls(api: Stack) -> None:
    """A request the trusted proxy says came over HTTPS gets Strict-Transport-Security."""
    async with api.client() as client:
        response = await client.get("/tenders", headers={"X-Forwarded-Proto": "https"})
    assert response.headers["strict-transport-security"].startswith("max-age=")


async def test_docs_load_nothing_from_a_cdn(api: Stack) -> None:
    """/docs refers to no other origin, and what it loads is served here."""
    async with api.client() as client:
        docs = await client.get("/docs")
        loaded = re.findall(r'(?:src|href)="([^"]+)"', docs.text)
        answers = {path: await client.get(path) for path in loaded}
        redoc = await client.get("/redoc")
    assert docs.status_code == 200
    assert not re.search(r"https?://", docs.text), docs.text
    assert "<script>" not in docs.text  # every script is a file of its own
    assert len(loaded) >= 3
    assert {path: a.status_code for path, a in answers.items()} == dict.fromkeys(loaded, 200)
    assert "SwaggerUIBundle" in answers["/docs/start.js"].text
    assert redoc.status_code == 404  # ReDoc would come from a CDN
