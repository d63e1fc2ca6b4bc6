"""The sealed bid log's signed head on the real database: signed by the platform key,
time-stamped once by the configured authority, kept and served as first made."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from adapters.postgres import eventstore
from adapters.postgres.database import connect_pool
from app.bid_log_heads import BidLogHeads
from bidding import keys, timestamps, tree_heads
from entrypoints.http.routes import bid_log_heads
from procurement.errors import Rejected
from schemas.events import BidLogSealed, Envelope
from schemas.tree_heads import PLATFORM_CLOCK_ONLY, SignedTreeHead
from tests.integration.conftest import create_database
from tests.tsa import RunningAuthority, local_tsa

__all__ = ["local_tsa"]  # the fixture

OCID = "ocds-000000-2026-000001"
ROOT = "704c1c467d797895999e6e1cb4bb59cd5134b1b7e7421737a905d60ef9166178"
SEALED_AT = datetime(2026, 12, 27, 10, 0, tzinfo=UTC)


@pytest.fixture
async def pool(postgres_server: str) -> AsyncIterator[Any]:
    pool = await connect_pool(await create_database(postgres_server))
    sealed = Envelope(
        event_id=uuid.uuid4(),
        schema_version=1,
        occurred_at=SEALED_AT,
        aggregate_id=f"{OCID}:bids",
        sequence=1,
        actor="deadline-service",
        event=BidLogSealed(tree_size=1, root=ROOT),
    )
    async with pool.acquire() as connection:
        await eventstore.append(connection, [sealed])
    yield pool
    await pool.close()


def _api(pool: Any, key: Ed25519PrivateKey, tsa_url: str | None) -> httpx.AsyncClient:
    app = FastAPI()
    app.include_router(bid_log_heads.router)
    app.state.pool, app.state.platform_key, app.state.tsa_url = pool, key, tsa_url

    @app.exception_handler(Rejected)
    async def rejected(_: Request, error: Rejected) -> JSONResponse:
        return JSONResponse({"code": error.code, "detail": error.detail}, error.status)

    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api")


async def test_the_sealed_head_is_signed_stamped_once_and_served_as_first_made(
    pool: Any, local_tsa: RunningAuthority
) -> None:
    """The head names the sealed root and the seal's time, its signature verifies under the
    platform key, its token under the authority's certificate, and asking again serves the
    same head without a second time-stamp."""
    key = Ed25519PrivateKey.generate()
    async with _api(pool, key, local_tsa.url) as api:
        first = (await api.get(f"/tenders/{OCID}/bid-log/signed-head")).json()
        again = (await api.get(f"/tenders/{OCID}/bid-log/signed-head")).json()
    assert first == again
    assert len(local_tsa.requests) == 1
    head = SignedTreeHead.model_validate(first)
    assert (head.root, head.tree_size, head.timestamp) == (ROOT, 1, "2026-12-27T10:00:00.000000Z")
    assert tree_heads.head_valid(head, keys.raw_public(key))
    assert head.tsa == local_tsa.url
    timestamps.check_time_stamp(head, local_tsa.authority.certificate)


async def test_without_an_authority_the_head_says_so(pool: Any) -> None:
    """With no time-stamping authority configured the head is signed and says that its time
    is the platform's word alone."""
    key = Ed25519PrivateKey.generate()
    async with _api(pool, key, None) as api:
        served = (await api.get(f"/tenders/{OCID}/bid-log/signed-head")).json()
    assert served["tsa"] is None
    assert served["timestamp_token"] is None
    assert served["time_source"] == PLATFORM_CLOCK_ONLY
    assert tree_heads.head_valid(SignedTreeHead.model_validate(served), keys.raw_public(key))


async def test_an_unsealed_log_has_no_signed_head(pool: Any) -> None:
    """Before the seal there is no head to sign: 409 bid_log_not_sealed."""
    async with _api(pool, Ed25519PrivateKey.generate(), None) as api:
        answer = await api.get("/tenders/ocds-000000-2026-000002/bid-log/signed-head")
    assert answer.status_code == 409
    assert answer.json()["code"] == "bid_log_not_sealed"


async def test_an_unreachable_authority_answers_503_and_keeps_nothing(pool: Any) -> None:
    """If the configured authority does not answer, no unstamped head is kept in its place."""
    key = Ed25519PrivateKey.generate()
    async with _api(pool, key, "http://127.0.0.1:9/tsa") as api:
        answer = await api.get(f"/tenders/{OCID}/bid-log/signed-head")
    assert answer.status_code == 503
    assert answer.json()["code"] == "time_stamping_unavailable"
    assert await pool.fetchval("SELECT count(*) FROM bid_log_heads") == 0


async def test_a_worker_signs_each_sealed_head_once_at_the_seal(
    pool: Any, local_tsa: RunningAuthority
) -> None:
    """The sweep signs and stamps the logs sealed since its last run, and nothing twice."""
    key = Ed25519PrivateKey.generate()
    heads = BidLogHeads(pool, key, local_tsa.url)
    assert await heads.sign_pending() == [OCID]
    assert await heads.sign_pending() == []
    assert len(local_tsa.requests) == 1
    stored = await pool.fetchval("SELECT head FROM bid_log_heads WHERE ocid = $1", OCID)
    assert tree_heads.head_valid(SignedTreeHead.model_validate(stored), keys.raw_public(key))
