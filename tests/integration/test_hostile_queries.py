"""NUL and control characters in the public reads' ids and free texts: PostgreSQL text
cannot hold NUL, so each such parameter is refused at the door with a 422 problem, never
carried to the database to fail there as a 500."""

from collections.abc import AsyncIterator
from urllib.parse import quote

import pytest

from adapters.http_limits import HttpLimits
from tests.integration.api_only import api_only
from tests.integration.stack import Stack

HOSTILE = ("\x00", "\x9f\x007", "a\x01b", "x\x7f")

# Every id or free text a public read passes to the database, as (path, query parameter).
QUERIES = [
    ("/ocds/releases", "buyer"),
    ("/ocds/releases", "supplier"),
    ("/ocds/records", "buyer"),
    ("/ocds/records", "supplier"),
    ("/ocds/releases.jsonl", "buyer"),
    ("/ocds/releases.jsonl", "supplier"),
    ("/ocds/releases.atom", "buyer"),
    ("/ocds/releases.atom", "supplier"),
    ("/tenders", "buyer"),
    ("/", "q"),
    ("/", "buyer"),
    ("/", "cpv"),
    ("/portal/verify", "ocid"),
]
# Ids in the path of a public read, the hostile text put in place of ``{}``.
PATHS = [
    "/ocds/records/{}",
    "/tenders/{}",
    "/notices/{}",
    "/portal/contracts/{}",
    "/portal/buyers/{}",
    "/portal/suppliers/{}",
]


@pytest.fixture(scope="module")
async def platform(
    postgres_server: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    async with api_only(postgres_server, tmp_path_factory.mktemp("hostile"), HttpLimits()) as it:
        yield it


@pytest.mark.parametrize(("path", "name"), QUERIES)
async def test_control_characters_in_a_query_are_refused(
    platform: Stack, path: str, name: str
) -> None:
    async with platform.client() as client:
        for hostile in HOSTILE:
            response = await client.get(path, params={name: f"agency{hostile}"})
            assert response.status_code == 422, (path, name, hostile, response.text[:300])
            assert response.headers["content-type"].startswith("application/problem+json")
            assert name in response.text


@pytest.mark.parametrize("path", PATHS)
async def test_control_characters_in_a_path_id_are_refused(platform: Stack, path: str) -> None:
    async with platform.client() as client:
        for hostile in HOSTILE:
            response = await client.get(path.format(quote(f"ocds-1{hostile}")))
            assert response.status_code == 422, (path, hostile, response.text[:300])


async def test_plain_ids_and_words_still_read(platform: Stack) -> None:
    """The bounds refuse only what text may not hold: ordinary ids and words pass."""
    async with platform.client() as client:
        for path, name in QUERIES:
            value = "30" if name == "cpv" else "agency-1.x:y_z"
            response = await client.get(path, params={name: value})
            assert response.status_code == 200, (path, name, response.text[:300])
        assert (await client.get("/", params={"q": "paper, A4 & more"})).status_code == 200
        assert (await client.get("/ocds/records/ocds-1")).status_code == 404
