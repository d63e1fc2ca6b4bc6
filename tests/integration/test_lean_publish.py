"""Publishing a tender takes a route without FastAPI's dependency machinery, for its CPU;
on the real stack it answers every request as the route that describes it would."""

import uuid

from starlette.routing import Route

from entrypoints.http.app import create_api
from tests.integration.conftest import register_officer, tender_body
from tests.integration.stack import Stack


async def test_a_published_tender_is_answered_and_replayed_as_before(stack: Stack) -> None:
    """201 with the id and events; the same Idempotency-Key again gets the first answer."""
    officer = await register_officer(stack)
    key, body = {"Idempotency-Key": str(uuid.uuid4())}, tender_body()
    async with stack.client(officer["token"]) as client:
        first = await client.post("/tenders", json=body, headers=key)
        again = await client.post("/tenders", json=body, headers=key)
    assert first.status_code == 201, first.text
    assert first.json()["events"][0]["type"] == "TenderPublished"
    assert first.json()["replayed"] is False
    assert again.json() == first.json() | {"replayed": True}


async def test_refusals_are_the_same_problem_documents(stack: Stack) -> None:
    """No token, a bad key, a body that is not JSON, a wrong field: each the problem the
    FastAPI route gave, with the field named as it named it."""
    officer = await register_officer(stack)
    handled = await stack.pool.fetchval("SELECT count(*) FROM handled_commands")
    async with stack.client() as public:
        anonymous = await public.post("/tenders", json=tender_body())
    async with stack.client(officer["token"]) as client:
        bad_key = await client.post(
            "/tenders", json=tender_body(), headers={"Idempotency-Key": "not-a-uuid"}
        )
        not_json = await client.post(
            "/tenders", content=b"title=x", headers={"Content-Type": "text/plain"}
        )
        broken = await client.post(
            "/tenders", content=b"{", headers={"Content-Type": "application/json"}
        )
        empty = await client.post("/tenders", headers={"Content-Type": "application/json"})
        wrong = await client.post("/tenders", json=tender_body() | {"value": "much"})
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == "Bearer"
    assert anonymous.json()["code"] == "unauthenticated"
    for refused in (bad_key, not_json, broken, empty, wrong):
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["code"] == "invalid_request"
    assert [e["field"] for e in bad_key.json()["errors"]] == ["header.Idempotency-Key"]
    assert next(e["field"] for e in wrong.json()["errors"]).startswith("body.value")
    assert await stack.pool.fetchval("SELECT count(*) FROM handled_commands") == handled


async def test_the_lean_route_is_matched_first_and_the_described_one_stays(
    stack: Stack,
) -> None:
    """POST /tenders and POST /tenders/{ocid}/bids reach their lean routes, placed before
    the FastAPI routes, which OpenAPI still describes."""
    app = create_api(stack.settings, "postgresql://unused")
    routes = app.router.routes
    described = min(i for i, route in enumerate(routes) if type(route) is not Route)
    for path in ("/tenders", "/tenders/{ocid}/bids"):
        lean = [
            i
            for i, route in enumerate(routes)
            if type(route) is Route and route.path == path and "POST" in (route.methods or ())
        ]
        assert lean, path
        assert lean[0] < described, path  # before every FastAPI route and router
        assert "post" in app.openapi()["paths"][path]
