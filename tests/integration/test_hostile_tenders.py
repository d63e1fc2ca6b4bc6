"""Tenders built to poison the projection or to outgrow a Kafka record are refused at the
API with a problem document that says why, and the next ordinary tender is published."""

from typing import Any

from tests.integration.conftest import register_officer, tender_body
from tests.integration.stack import Stack, eventually


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
