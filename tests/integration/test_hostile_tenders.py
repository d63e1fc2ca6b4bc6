"""Tenders built to poison the projection or to outgrow a Kafka record are refused at the
API with a problem document that says why, and the next ordinary tender is published."""

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest

from adapters.http_limits import HttpLimits
from tests.integration.conftest import register_officer, running_stack, tender_body
from tests.integration.stack import Stack, eventually

MIB = 1024 * 1024


@pytest.fixture(scope="module")
async def stack(
    postgres_server: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    """A platform whose operator allows request bodies of 32 MiB, so that the schema alone
    stands between a huge tender and the broker."""
    http = replace(HttpLimits().raised(), max_body_bytes=32 * MIB)
    async with running_stack(postgres_server, tmp_path_factory, http=http) as platform:
        yield platform


async def publishes_after(stack: Stack, token: str) -> None:
    """An ordinary tender, posted next, reaches the public read model."""
    async with stack.client(token) as client:
        response = await client.post("/tenders", json=tender_body())
        assert response.status_code == 201, response.text
        ocid = response.json()["id"]

        async def public() -> bool:
            return (await client.get(f"/tenders/{ocid}")).status_code == 200

        await eventually(public)


async def test_a_title_holding_u0000_is_refused_and_the_next_tender_is_published(
    stack: Stack,
) -> None:
    """U+0000 cannot be stored in jsonb: the tender is refused with 422 naming the title and
    the character, nothing is recorded, and the next tender still reaches the public."""
    officer = await register_officer(stack)
    body: dict[str, Any] = tender_body() | {"title": "Office\u0000paper for 2027"}
    events_before = await stack.pool.fetchval("SELECT count(*) FROM events")
    async with stack.client(officer["token"]) as client:
        response = await client.post("/tenders", json=body)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert [error["field"] for error in problem["errors"]] == ["body.title"]
    assert "U+0000" in problem["detail"]
    assert await stack.pool.fetchval("SELECT count(*) FROM events") == events_before
    await publishes_after(stack, officer["token"])


def seventeen_mebibyte_tender() -> dict[str, Any]:
    """446 items of 10,000 emoji each: every field valid, the whole over 16 MiB."""
    body = tender_body()
    item = body["requirements"]["lots"][0]["items"][0]
    wide = "\U0001f600" * 10_000
    items = [item | {"id": f"item-{n}", "description": wide} for n in range(446)]
    body["requirements"]["lots"][0]["items"] = items
    return body


async def test_a_tender_over_the_record_limit_is_refused_and_the_next_is_published(
    stack: Stack,
) -> None:
    """A tender whose event would exceed the broker's record limit is refused with 422 and
    a problem that says how large its lots and items are; nothing is recorded and the
    relay keeps publishing the tenders after it."""
    officer = await register_officer(stack)
    body = seventeen_mebibyte_tender()
    events_before = await stack.pool.fetchval("SELECT count(*) FROM events")
    async with stack.client(officer["token"]) as client:
        response = await client.post("/tenders", json=body)
    assert response.status_code == 422, response.text[:500]
    assert response.headers["content-type"] == "application/problem+json"
    [error] = response.json()["errors"]
    assert error["field"] == "body.requirements"
    assert "the lots and items: 17," in error["message"], error["message"]
    assert await stack.pool.fetchval("SELECT count(*) FROM events") == events_before
    await publishes_after(stack, officer["token"])
