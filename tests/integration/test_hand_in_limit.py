"""A committee member hands in one share per bid in one request: for a tender with thousands
of bids that is megabytes, more than any other route but a document takes. Before, the
guard's 512 KiB cut it off, and a tender with more than about 3,000 bids could never be
opened."""

import base64
import json
from collections.abc import AsyncIterator

import httpx
import pytest

from adapters.http_limits import HttpLimits
from entrypoints.http.routes.bids import HAND_IN_MAX_BODY
from tests.integration.api_only import api_only
from tests.integration.conftest import register_officer
from tests.integration.stack import OPERATOR_TOKEN, Stack

pytestmark = pytest.mark.integration

LIMITS = HttpLimits().raised()
SHARES = 10_000  # as many bids as an evaluation takes (schemas.evaluation.MAX_BIDS)


@pytest.fixture(scope="module")
async def api(
    postgres_server: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    async with api_only(postgres_server, tmp_path_factory.mktemp("hand-in"), LIMITS) as platform:
        yield platform


def hand_in_of(shares: int) -> bytes:
    """A well-formed hand-in of ``shares`` shares (the tender and the signature are not)."""
    share = base64.b64encode(bytes(67)).decode()
    body = {
        "shares": [{"bid_id": f"bid-{n:06d}", "x": 1, "share": share} for n in range(shares)],
        "signature": base64.b64encode(bytes(64)).decode(),
    }
    return json.dumps(body).encode()


async def hand_in(api: Stack, token: str, body: bytes) -> httpx.Response:
    async with api.client(token) as client:
        return await client.post(
            "/tenders/ocds-test00-2026-1/opening/shares",
            content=body,
            headers={"Content-Type": "application/json"},
        )


async def test_an_officers_hand_in_for_ten_thousand_bids_reaches_the_opening_rules(
    api: Stack,
) -> None:
    body = hand_in_of(SHARES)
    assert LIMITS.max_body_bytes < len(body) <= HAND_IN_MAX_BODY
    officer = await register_officer(api)
    answer = await hand_in(api, officer["token"], body)
    assert answer.status_code == 404, answer.text  # past the guard: this tender has no bids
    assert answer.json()["code"] == "no_such_bid_log"


async def test_who_may_hand_in_is_checked_before_the_body_is_read(api: Stack) -> None:
    """Parsing a hand-in of 100,000 shares takes the API seconds: an officer of any agency
    must not be able to make it parse one for a tender it does not sit on. Before, the body
    was validated first (a garbled one was 422), then the committee checked."""
    officer = await register_officer(api)
    garbled = b'{"shares": [' + b'{"bid_id": 1},' * 50_000 + b"]"
    answer = await hand_in(api, officer["token"], garbled)
    assert answer.status_code == 404, answer.text
    assert answer.json()["code"] == "no_such_bid_log"


async def test_nobody_but_an_officer_may_send_a_hand_in_that_large(api: Stack) -> None:
    """The operator (or a supplier) may hand in nothing, so it may not make the API read
    megabytes either."""
    answer = await hand_in(api, OPERATOR_TOKEN, hand_in_of(SHARES))
    assert answer.status_code == 413, answer.text
    assert answer.json()["code"] == "too_large"


async def test_an_officers_hand_in_stays_bounded(api: Stack) -> None:
    officer = await register_officer(api)
    answer = await hand_in(api, officer["token"], b" " * (HAND_IN_MAX_BODY + 1))
    assert answer.status_code == 413, answer.text
