"""Generated garbage thrown at every command route: each request is refused with a 4xx
problem document, and the event store is exactly as it was."""

import asyncio
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.conftest import register_officer, tender_body
from tests.integration.stack import OPERATOR_TOKEN, Stack

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


def corrupted_tenders() -> st.SearchStrategy[Any]:
    """A valid tender with one field broken the way a careless client breaks it."""
    breakages: list[tuple[str, Any]] = [
        ("amount", "-10.00"),
        ("amount", "ten thousand"),
        ("amount", "1e400"),
        ("cpv", "1234"),
        ("cpv", "99000000-1"),
        ("currency", "XYZ"),
        ("deadline", "2027-01-01T12:00:00"),  # no time zone
        ("deadline", "yesterday"),
        ("title", ""),
        ("title", None),
        ("lots", []),
        ("extra", {"is_admin": True}),
    ]

    def corrupt(breakage: tuple[str, Any]) -> Any:
        field, value = breakage
        body = tender_body()
        lot = body["requirements"]["lots"][0]
        if field == "amount":
            lot["value"]["amount"] = value
        elif field == "cpv":
            lot["items"][0]["cpv"] = value
        elif field == "currency":
            lot["value"]["currency"] = value
        elif field == "deadline":
            body["submission_deadline"] = value
        elif field == "lots":
            body["requirements"]["lots"] = value
        elif field == "extra":
            body["extra"] = value
        else:
            body[field] = value
        return body

    return st.sampled_from(breakages).map(corrupt)


def garbage_payloads() -> st.SearchStrategy[Any]:
    """JSON values of any shape, near-miss tenders, and bytes that are not JSON at all."""
    return json_values | corrupted_tenders() | st.binary(max_size=200)


async def store_state(stack: Stack) -> tuple[int, int, int]:
    row = await stack.pool.fetchrow(
        "SELECT count(*) AS events, coalesce(max(position), 0) AS last,"
        " (SELECT count(*) FROM handled_commands) AS commands FROM events"
    )
    return row["events"], row["last"], row["commands"]


async def test_garbage_changes_nothing(stack: Stack) -> None:
    """Hypothesis-generated bodies for publish, amend, cancel and registration never reach
    the store and never cause a server error."""
    officer = await register_officer(stack)
    async with stack.client(officer["token"]) as client:
        ocid = (await client.post("/tenders", json=tender_body())).json()["id"]
    before = await store_state(stack)
    routes = st.sampled_from(
        [
            ("POST", "/tenders", officer["token"]),
            ("PATCH", f"/tenders/{ocid}", officer["token"]),
            ("POST", f"/tenders/{ocid}/cancellation", officer["token"]),
            ("POST", "/agencies", OPERATOR_TOKEN),
            ("POST", "/officers", OPERATOR_TOKEN),
        ]
    )
    seen: list[int] = []

    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
    @given(route=routes, payload=garbage_payloads())
    def throw(route: tuple[str, str, str], payload: Any) -> None:
        method, path, token = route
        body = {"content": payload} if isinstance(payload, bytes) else {"json": payload}
        response = httpx.request(
            method,
            stack.api_url + path,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            timeout=30,
            **body,
        )
        seen.append(response.status_code)
        assert 400 <= response.status_code < 500, (path, payload, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["detail"]

    # The API serves from this event loop, so the synchronous property runs in a thread.
    await asyncio.to_thread(throw)
    assert len(seen) >= 300
    assert await store_state(stack) == before
