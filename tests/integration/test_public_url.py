"""The platform's public base URL (``PROCUREMENT_PUBLIC_URL``): OCDS packages, the Atom feed
and the portal name it, whatever Host a request came with; unset, they name the request's."""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest
import uvicorn

from adapters.embedded import free_port
from entrypoints.http.app import create_api
from entrypoints.http.serving import server_config
from tests.integration.conftest import register_officer, running_stack, tender_body
from tests.integration.stack import Stack, eventually

PUBLIC = "https://sicap.example.ro"
ASKED_AS = "proxy.internal:8443"  # the Host a proxy in front of the platform sends
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(scope="module")
async def stack(
    postgres_server: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    """A platform whose public base URL is set."""
    async with running_stack(postgres_server, tmp_path_factory, public_url=PUBLIC) as platform:
        yield platform


@pytest.fixture(scope="module")
async def published(stack: Stack) -> str:
    """The second of two tenders, once its release is public: two, so that packages of one
    release have a next page."""
    officer = await register_officer(stack)
    async with stack.client(officer["token"]) as client:
        for _ in range(2):
            answer = await client.post("/tenders", json=tender_body())
            assert answer.status_code == 201, answer.text
        ocid: str = answer.json()["id"]

        async def released() -> bool:
            return (await client.get(f"/ocds/records/{ocid}")).status_code == 200

        await eventually(released)
    return ocid


@contextlib.asynccontextmanager
async def api_without_public_url(stack: Stack) -> AsyncIterator[str]:
    """A second API on the same data, as the platform is configured by default."""
    settings = replace(stack.settings, public_url=None)
    port = free_port()
    server = uvicorn.Server(
        server_config(create_api(settings, stack.database_url), settings.http, "127.0.0.1", port)
    )
    serving = asyncio.create_task(server.serve())
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url) as client:

            async def up() -> bool:
                with contextlib.suppress(httpx.TransportError):
                    return (await client.get("/health")).status_code == 200
                return False

            await eventually(up, within=15)
        yield url
    finally:
        server.should_exit = True
        await serving


async def read(url: str, path: str, host: str, **params: Any) -> httpx.Response:
    async with httpx.AsyncClient(base_url=url, headers={"Host": host}) as client:
        response = await client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response


def package_urls(response: httpx.Response) -> list[str]:
    package = json.loads(response.text)
    following = [response.links["next"]["url"]] if "next" in response.links else []
    return [package["uri"], *package["extensions"], *following]


def atom_urls(response: httpx.Response) -> list[str]:
    feed = ElementTree.fromstring(response.content)
    links = [link.get("href", "") for link in feed.iter(f"{ATOM}link")]
    return links + [element.text or "" for element in feed.iter(f"{ATOM}id")]


async def test_packages_name_the_public_url_whatever_the_host(stack: Stack, published: str) -> None:
    """The package's uri, its extensions and the next page's link are on the public base,
    although the request came with another Host."""
    paged = await read(stack.api_url, "/ocds/releases", ASKED_AS, limit=1)
    record = await read(stack.api_url, f"/ocds/records/{published}", ASKED_AS)
    urls = package_urls(paged) + package_urls(record)
    assert paged.links["next"]["url"].startswith(f"{PUBLIC}/ocds/releases?")
    assert f"{PUBLIC}/ocds/extensions/bids/extension.json" in urls
    assert json.loads(record.text)["uri"] == f"{PUBLIC}/ocds/records/{published}"
    assert all(url.startswith(f"{PUBLIC}/") for url in urls), urls


async def test_the_atom_feed_names_the_public_url(stack: Stack, published: str) -> None:
    """The feed's id, its self link and every entry's links are on the public base."""
    feed = await read(stack.api_url, "/ocds/releases.atom", ASKED_AS)
    urls = atom_urls(feed)
    assert f"{PUBLIC}/notices/{published}" in urls
    assert f"{PUBLIC}/ocds/records/{published}" in urls
    assert all(url.startswith(f"{PUBLIC}/") for url in urls), urls


async def test_the_portal_links_to_the_public_url(stack: Stack, published: str) -> None:
    """A notice names its canonical address and its OCDS record on the public base, and the
    list of notices its Atom feed."""
    notice = (await read(stack.api_url, f"/notices/{published}", ASKED_AS)).text
    assert f'<link rel="canonical" href="{PUBLIC}/notices/{published}">' in notice
    assert f'href="{PUBLIC}/ocds/records/{published}"' in notice
    notices = (await read(stack.api_url, "/", ASKED_AS)).text
    assert f'href="{PUBLIC}/ocds/releases.atom"' in notices
    assert ASKED_AS not in notice + notices


async def test_unset_the_urls_follow_the_request(stack: Stack, published: str) -> None:
    """Without the setting, packages and the feed name the Host the request came with, and
    the portal's links start at the site's root, as before the setting existed."""
    async with api_without_public_url(stack) as url:
        paged = await read(url, "/ocds/releases", ASKED_AS, limit=1)
        feed = await read(url, "/ocds/releases.atom", ASKED_AS)
        notice = (await read(url, f"/notices/{published}", ASKED_AS)).text
    urls = package_urls(paged) + atom_urls(feed)
    assert f"http://{ASKED_AS}/ocds/extensions/bids/extension.json" in urls
    assert all(url.startswith(f"http://{ASKED_AS}/") for url in urls), urls
    assert f'<link rel="canonical" href="/notices/{published}">' in notice
    assert PUBLIC not in notice + paged.text + feed.text


async def test_the_extension_list_and_the_tender_lists_next_page_name_the_public_url(
    stack: Stack, published: str
) -> None:
    """`GET /ocds/extensions` and the `next` page of `GET /tenders` are on the public base
    too, although the request came with another Host."""
    extensions = (await read(stack.api_url, "/ocds/extensions", ASKED_AS)).json()
    assert f"{PUBLIC}/ocds/extensions/awardEvidence/extension.json" in extensions
    assert all(url.startswith(f"{PUBLIC}/") for url in extensions), extensions
    tenders = await read(stack.api_url, "/tenders", ASKED_AS, limit=1)
    assert tenders.json()["next"].startswith(f"{PUBLIC}/tenders?")
