"""Generated garbage thrown at every command route: each request is refused with a 4xx
problem document, and the event store is exactly as it was."""

import asyncio
from datetime import timedelta
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.conftest import register_officer, tender_body
from tests.integration.market import buyer_with_committee, register_supplier, sealed_tender
from tests.integration.stack import OPERATOR_TOKEN, Stack
from tests.strategies import garbage_payloads


def anything_a_client_might_send() -> st.SearchStrategy[Any]:
    """JSON of any shape, near-miss tenders, and bytes that are not JSON at all."""
    return garbage_payloads() | st.binary(max_size=200)


async def store_state(stack: Stack) -> tuple[int, int, int]:
    row = await stack.pool.fetchrow(
        "SELECT count(*) AS events, coalesce(max(position), 0) AS last,"
        " (SELECT count(*) FROM handled_commands) AS commands FROM events"
    )
    return row["events"], row["last"], row["commands"]


async def test_garbage_changes_nothing(stack: Stack) -> None:
    """Hypothesis-generated bodies for every command route, sealed bids included, never reach
    the store and never cause a server error."""
    officer = await register_officer(stack)
    async with stack.client(officer["token"]) as client:
        ocid = (await client.post("/tenders", json=tender_body())).json()["id"]
    buyer = await buyer_with_committee(stack, size=2)
    sealed, _, _ = await sealed_tender(stack, buyer, deadline_in=timedelta(days=1))
    supplier = await register_supplier(stack)
    before = await store_state(stack)
    routes = st.sampled_from(
        [
            ("POST", "/tenders", officer["token"]),
            ("PATCH", f"/tenders/{ocid}", officer["token"]),
            ("POST", f"/tenders/{ocid}/cancellation", officer["token"]),
            ("POST", "/agencies", OPERATOR_TOKEN),
            ("POST", "/officers", OPERATOR_TOKEN),
            ("POST", "/suppliers", ""),
            ("POST", "/officers/me/committee-keys", buyer.members[0].token),
            ("POST", f"/tenders/{ocid}/committee", officer["token"]),
            ("POST", f"/tenders/{ocid}/committee/confirmations", buyer.members[0].token),
            ("POST", f"/tenders/{sealed}/bids", supplier.token),
            ("POST", f"/tenders/{sealed}/bids/withdrawal", supplier.token),
            ("POST", f"/tenders/{sealed}/opening/shares", buyer.members[0].token),
        ]
    )
    seen: list[int] = []

    @settings(max_examples=500, deadline=None, suppress_health_check=list(HealthCheck))
    @given(route=routes, payload=anything_a_client_might_send())
    def throw(route: tuple[str, str, str], payload: Any) -> None:
        method, path, token = route
        body = {"content": payload} if isinstance(payload, bytes) else {"json": payload}
        response = httpx.request(
            method,
            stack.api_url + path,
            headers={"Content-Type": "application/json"}
            | ({"Authorization": f"Bearer {token}"} if token else {}),
            timeout=30,
            **body,
        )
        seen.append(response.status_code)
        assert 400 <= response.status_code < 500, (path, payload, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["detail"]

    # The API serves from this event loop, so the synchronous property runs in a thread.
    await asyncio.to_thread(throw)
    assert len(seen) >= 500
    assert await store_state(stack) == before
