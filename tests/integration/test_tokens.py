"""Bearer tokens expire, can be revoked and rotated, and the API's credential cache obeys
at once, on the real PostgreSQL."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.integration.conftest import register_officer, running_stack
from tests.integration.market import register_supplier
from tests.integration.stack import OPERATOR_TOKEN, Stack, eventually

LIFETIME = timedelta(seconds=4)  # short, so that a token expires while a test watches


@pytest.fixture(scope="module")
async def stack(
    postgres_server: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    """The API alone (tokens need no stream worker), its tokens living four seconds."""
    async with running_stack(
        postgres_server, tmp_path_factory, workers=0, token_lifetime=LIFETIME
    ) as platform:
        yield platform


async def me(stack: Stack, token: str) -> httpx.Response:
    async with stack.client(token) as client:
        return await client.get("/me")


async def test_a_token_revoked_by_its_holder_is_refused_on_the_very_next_request(
    stack: Stack,
) -> None:
    """DELETE /tokens/current revokes the caller's own token, even one the API has cached."""
    supplier = await register_supplier(stack)
    assert (await me(stack, supplier.token)).status_code == 200  # now in the cache
    async with stack.client(supplier.token) as client:
        revoked = await client.delete("/tokens/current")
    assert revoked.status_code == 204, revoked.text
    refused = await me(stack, supplier.token)
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"
    assert "revoked" in refused.json()["detail"]


async def test_the_operator_revokes_every_token_of_a_party(stack: Stack) -> None:
    """The operator's DELETE /parties/{id}/tokens refuses all of that party's tokens at once."""
    officer = await register_officer(stack)
    assert (await me(stack, officer["token"])).status_code == 200
    async with stack.client(OPERATOR_TOKEN) as operator:
        revoked = await operator.delete(f"/parties/{officer['officer_id']}/tokens")
    assert revoked.status_code == 200, revoked.text
    assert revoked.json() == {"party_id": officer["officer_id"], "revoked": 1}
    assert (await me(stack, officer["token"])).status_code == 401


async def test_only_the_operator_revokes_another_partys_tokens(stack: Stack) -> None:
    """A supplier may not revoke an officer's tokens; the officer's token keeps working."""
    officer = await register_officer(stack)
    supplier = await register_supplier(stack)
    async with stack.client(supplier.token) as client:
        refused = await client.delete(f"/parties/{officer['officer_id']}/tokens")
    assert refused.status_code == 403
    assert (await me(stack, officer["token"])).status_code == 200


async def test_a_revocation_written_elsewhere_reaches_the_cache_through_postgresql(
    stack: Stack,
) -> None:
    """A token revoked by another API process (here, straight in PostgreSQL) is refused here
    too: the revocation is announced, and the cached actor dropped."""
    supplier = await register_supplier(stack)
    assert (await me(stack, supplier.token)).status_code == 200
    await stack.pool.execute(
        "UPDATE credentials SET revoked_at = now() WHERE party_id = $1", supplier.id
    )

    async def refused() -> bool:
        return (await me(stack, supplier.token)).status_code == 401

    await eventually(refused, within=1)


async def test_an_expired_token_is_refused_with_a_problem_saying_it_expired(
    stack: Stack,
) -> None:
    """Past its lifetime a cached token gets 401, and the detail says it expired; the
    operator's configured token does not expire."""
    supplier = await register_supplier(stack)
    assert (await me(stack, supplier.token)).status_code == 200
    await asyncio.sleep(LIFETIME.total_seconds() + 0.2)
    refused = await me(stack, supplier.token)
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == "Bearer"
    assert "expired" in refused.json()["detail"]
    assert (await me(stack, OPERATOR_TOKEN)).status_code == 200


async def test_post_tokens_rotates_a_token(stack: Stack) -> None:
    """POST /tokens answers a fresh token with a new expiry and revokes the one it was
    asked with."""
    supplier = await register_supplier(stack)
    async with stack.client(supplier.token) as client:
        rotated = await client.post("/tokens")
    assert rotated.status_code == 201, rotated.text
    body = rotated.json()
    assert body["party_id"] == supplier.id
    expires_at = datetime.fromisoformat(body["expires_at"])
    assert timedelta(0) < expires_at - datetime.now(UTC) <= LIFETIME
    assert (await me(stack, body["token"])).json()["id"] == supplier.id
    assert (await me(stack, supplier.token)).status_code == 401


async def test_the_operator_issues_a_fresh_token_to_a_party_whose_token_expired(
    stack: Stack,
) -> None:
    """A party locked out by expiry gets a new token from the operator, with the same role."""
    officer = await register_officer(stack)
    async with stack.client(OPERATOR_TOKEN) as operator:
        issued = await operator.post(f"/parties/{officer['officer_id']}/tokens")
        unknown = await operator.post("/parties/officer-nobody/tokens")
    assert issued.status_code == 201, issued.text
    assert unknown.status_code == 404
    who = (await me(stack, issued.json()["token"])).json()
    assert (who["id"], who["role"], who["agency_id"]) == (
        officer["officer_id"],
        "officer",
        officer["agency_id"],
    )


async def test_the_operators_configured_token_cannot_be_revoked_through_the_api(
    stack: Stack,
) -> None:
    """The operator's token lives in the configuration, so revoking it is refused clearly."""
    async with stack.client(OPERATOR_TOKEN) as operator:
        refused = await operator.delete("/tokens/current")
    assert refused.status_code == 409
    assert "PROCUREMENT_ADMIN_TOKEN" in refused.json()["detail"]
    assert (await me(stack, OPERATOR_TOKEN)).status_code == 200


async def feed_answers(stack: Stack, link: str) -> int:
    async with stack.client() as public:
        return (await public.get(link)).status_code


async def test_a_partys_feed_link_ends_with_its_tokens(stack: Stack) -> None:
    """The operator revokes every token of a party (it left, or its tokens leaked): its
    private feed link ends with them, and stays ended when the operator issues the party a
    new token. A party that revokes its own last token ends its feed too."""
    supplier = await register_supplier(stack)
    async with stack.client(supplier.token) as client:
        link = (await client.post("/inbox/feed-links")).json()["url"]
    assert await feed_answers(stack, link) == 200

    async with stack.client(OPERATOR_TOKEN) as operator:
        revoked = await operator.delete(f"/parties/{supplier.id}/tokens")
        assert revoked.status_code == 200, revoked.text
        assert await feed_answers(stack, link) == 404
        reissued = await operator.post(f"/parties/{supplier.id}/tokens")
        assert reissued.status_code == 201, reissued.text
    assert await feed_answers(stack, link) == 404

    own = await register_supplier(stack)
    async with stack.client(own.token) as client:
        own_link = (await client.post("/inbox/feed-links")).json()["url"]
        assert await feed_answers(stack, own_link) == 200
        assert (await client.delete("/tokens/current")).status_code == 204
    assert await feed_answers(stack, own_link) == 404
