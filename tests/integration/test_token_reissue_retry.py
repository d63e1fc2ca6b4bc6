"""The operator's token reissue retried with its Idempotency-Key: a token is a secret shown
once, so the retry is refused as a used key, naming the token issued but never its secret,
and no second token is made."""

import asyncio
import uuid

import pytest

from adapters.postgres import credentials
from tests.integration.conftest import register_officer
from tests.integration.stack import OPERATOR_TOKEN, Stack

pytestmark = pytest.mark.integration


async def tokens_of(stack: Stack, party_id: str) -> int:
    count: int = await stack.pool.fetchval(
        "SELECT count(*) FROM credentials WHERE party_id = $1", party_id
    )
    return count


async def test_a_retried_reissue_names_the_token_issued_and_makes_no_other(stack: Stack) -> None:
    """The first reissue answers the token and its id; the retry under the same key gets
    409 ``idempotency_key_used`` naming that id, without the token, and the party holds
    one token more than before, not two."""
    officer = await register_officer(stack)
    party = officer["officer_id"]
    before = await tokens_of(stack, party)
    reissuing = {"Idempotency-Key": str(uuid.uuid4())}
    async with stack.client(OPERATOR_TOKEN) as operator:
        first = await operator.post(f"/parties/{party}/tokens", headers=reissuing)
        retry = await operator.post(f"/parties/{party}/tokens", headers=reissuing)
    assert first.status_code == 201, first.text
    issued = first.json()
    assert issued["token_id"] == credentials.digest(issued["token"]).hex()[:16]
    assert retry.status_code == 409, retry.text
    refusal = retry.json()
    assert refusal["code"] == "idempotency_key_used"
    assert refusal["token_id"] == issued["token_id"]
    assert issued["token_id"] in refusal["detail"]
    assert issued["token"] not in retry.text
    assert await tokens_of(stack, party) == before + 1


async def test_concurrent_retries_of_a_reissue_make_one_token(stack: Stack) -> None:
    """Ten reissues racing under one key make one token: one answer holds it, the others
    are refused as a used key."""
    officer = await register_officer(stack)
    party = officer["officer_id"]
    before = await tokens_of(stack, party)
    reissuing = {"Idempotency-Key": str(uuid.uuid4())}
    async with stack.client(OPERATOR_TOKEN) as operator:
        answers = await asyncio.gather(
            *(operator.post(f"/parties/{party}/tokens", headers=reissuing) for _ in range(10))
        )
    assert sorted(a.status_code for a in answers) == [201] + [409] * 9, [a.text for a in answers]
    assert await tokens_of(stack, party) == before + 1


async def test_the_same_key_for_another_party_is_refused_as_reused(stack: Stack) -> None:
    """A key already used to reissue one party's token, sent to reissue another's, is
    refused as a key reused for a different request, and issues nothing."""
    first, second = await register_officer(stack), await register_officer(stack)
    reissuing = {"Idempotency-Key": str(uuid.uuid4())}
    async with stack.client(OPERATOR_TOKEN) as operator:
        issued = await operator.post(f"/parties/{first['officer_id']}/tokens", headers=reissuing)
        before = await tokens_of(stack, second["officer_id"])
        other = await operator.post(f"/parties/{second['officer_id']}/tokens", headers=reissuing)
    assert issued.status_code == 201, issued.text
    assert other.status_code == 422, other.text
    assert other.json()["code"] == "idempotency_key_reused"
    assert await tokens_of(stack, second["officer_id"]) == before


async def test_a_reissue_without_a_key_issues_each_time(stack: Stack) -> None:
    """Without an Idempotency-Key each reissue is a new token, as before."""
    officer = await register_officer(stack)
    party = officer["officer_id"]
    before = await tokens_of(stack, party)
    async with stack.client(OPERATOR_TOKEN) as operator:
        answers = [await operator.post(f"/parties/{party}/tokens") for _ in range(2)]
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[0].json()["token"] != answers[1].json()["token"]
    assert await tokens_of(stack, party) == before + 2
