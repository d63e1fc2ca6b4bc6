"""The public reads served from stored text: each procedure's OCDS record, kept by the
streams with its releases, and the tender list and pages, read as the read models hold
them; a read after a change shows the change."""

import asyncio
import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

from entrypoints.http.page_cache import PageCache
from publication import ocds
from tests.integration.conftest import register_officer, tender_body
from tests.integration.stack import Stack, eventually, rebuilt_records_match
from tests.integration.test_ocds_publication import (
    award_the_cheaper,
    open_two_bids,
    until_tagged,
)


async def record_and_releases(stack: Stack, ocid: str) -> tuple[Any, tuple[int, Any]]:
    """The procedure's stored record, and what ``compile_record`` makes of its stored
    releases with the newest one's position, both read in one snapshot: a release may be
    committed at any moment, but never without the record that holds it."""
    async with (
        stack.pool.acquire() as connection,
        connection.transaction(isolation="repeatable_read", readonly=True),
    ):
        row = await connection.fetchrow(
            "SELECT position, record FROM records WHERE ocid = $1", ocid
        )
        rows = await connection.fetch(
            "SELECT position, release::text AS release FROM releases WHERE ocid = $1"
            " ORDER BY position",
            ocid,
        )
    stored = (
        None if row is None else (row["position"], json.loads(row["record"], parse_float=Decimal))
    )
    releases = [json.loads(row["release"], parse_float=Decimal) for row in rows]
    compiled = json.loads(ocds.dumps(ocds.compile_record(releases)), parse_float=Decimal)
    return stored, (rows[-1]["position"], compiled)


async def test_the_stored_record_is_compiled_again_with_each_new_release(stack: Stack) -> None:
    """The records row of a procedure is what ``compile_record`` gives over its releases,
    after the bids are opened and again after the award; the API serves that row; and
    the store alone rebuilds the records table as it was."""
    ocid, buyer, (cheap, _), bids = await open_two_bids(stack)
    async with stack.client() as public:
        opened = await until_tagged(public, ocid, "tenderUpdate")
    stored, compiled = await record_and_releases(stack, ocid)
    assert stored == compiled
    await award_the_cheaper(stack, ocid, buyer, bids)
    async with stack.client() as public:
        awarded = await until_tagged(public, ocid, "award")
    stored, (position, record) = await record_and_releases(stack, ocid)
    assert stored == (position, record)
    assert awarded == record  # served as stored
    earlier = [release["id"] for release in opened["releases"]]
    assert [release["id"] for release in awarded["releases"]][: len(earlier)] == earlier
    assert "award" in awarded["releases"][-1]["tag"]
    assert awarded["compiledRelease"]["awards"][0]["suppliers"][0]["id"] == cheap.id
    assert await rebuilt_records_match(stack)


async def test_a_read_after_a_change_shows_the_change(stack: Stack) -> None:
    """The tender list, the tender and its record show an amendment as soon as the
    streams have recorded it: nothing served is older than the read models."""
    officer = await register_officer(stack)
    async with stack.client(officer["token"]) as client:
        ocid = (await client.post("/tenders", json=tender_body(timedelta(days=40)))).json()["id"]
    async with stack.client() as public:
        await until_tagged(public, ocid, "tender")
        first = (await public.get(f"/tenders/{ocid}")).json()
        assert first["version"] == 1
        assert first["buyer_name"].startswith("Agency RO-CUI-")
        assert first["bids"] is None  # no committee, no sealed bids
        listed = (await public.get("/tenders", params={"buyer": officer["agency_id"]})).json()
        without_bids = {key: value for key, value in first.items() if key != "bids"}
        assert listed == {"items": [without_bids], "next": None}
    async with stack.client(officer["token"]) as client:
        amended = await client.patch(
            f"/tenders/{ocid}", json={"reason": "Clearer title", "title": "Recycled paper"}
        )
        assert amended.status_code == 200, amended.text

    async def amended_everywhere() -> bool:
        async with stack.client() as public:
            record = (await public.get(f"/ocds/records/{ocid}")).json()["records"][0]
            tender = (await public.get(f"/tenders/{ocid}")).json()
            listed = (await public.get("/tenders", params={"buyer": officer["agency_id"]})).json()
        titles = {
            record["compiledRelease"]["tender"]["title"],
            tender["title"],
            listed["items"][0]["title"],
        }
        return titles == {"Recycled paper"}

    await eventually(amended_everywhere)


async def test_a_kept_page_is_dropped_when_the_tenders_change(stack: Stack) -> None:
    """The page cache answers from memory until a change to the tenders is announced, then
    reads again; a page read while a change commits is not kept."""
    cache = PageCache(stack.pool)
    reads: list[str] = []

    async def read() -> bytes:
        reads.append("read")
        return f"page {len(reads)}".encode()

    async def read_during_a_change() -> bytes:
        await stack.pool.execute("UPDATE agencies SET name = name")
        await asyncio.sleep(0.5)  # the announcement arrives while this page is read
        return await read()

    try:
        assert await cache.page("first", read) == b"page 1"
        assert await cache.page("first", read) == b"page 1"  # kept
        await stack.pool.execute("UPDATE tenders SET version = version")

        async def read_again() -> bool:
            return await cache.page("first", read) == b"page 2"

        await eventually(read_again, within=5)
        assert await cache.page("second", read_during_a_change) == b"page 3"
        assert await cache.page("second", read) == b"page 4"  # page 3 was not kept
        assert await cache.page("second", read) == b"page 4"
    finally:
        await cache.close()
