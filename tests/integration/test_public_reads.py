"""The public reads served from stored text: each procedure's OCDS record, kept by the
streams with its releases."""

import json
from decimal import Decimal
from typing import Any

from procurement import ocds
from tests.integration.stack import Stack, rebuilt_records_match
from tests.integration.test_ocds_publication import open_two_bids, until_tagged


async def stored_record(stack: Stack, ocid: str) -> Any:
    row = await stack.pool.fetchrow("SELECT position, record FROM records WHERE ocid = $1", ocid)
    return (
        None if row is None else (row["position"], json.loads(row["record"], parse_float=Decimal))
    )


async def compiled_from_releases(stack: Stack, ocid: str) -> tuple[int, Any]:
    """What ``compile_record`` makes of the procedure's stored releases, and the newest
    release's position."""
    rows = await stack.pool.fetch(
        "SELECT position, release::text AS release FROM releases WHERE ocid = $1 ORDER BY position",
        ocid,
    )
    releases = [json.loads(row["release"], parse_float=Decimal) for row in rows]
    compiled = json.loads(ocds.dumps(ocds.compile_record(releases)), parse_float=Decimal)
    return rows[-1]["position"], compiled


async def test_the_stored_record_is_compiled_again_with_each_new_release(stack: Stack) -> None:
    """The records row of a procedure is what ``compile_record`` gives over its releases,
    after the bids are opened and again after the award; the API serves that row; and
    the store alone rebuilds the records table as it was."""
    ocid, buyer, (cheap, _), bids = await open_two_bids(stack)
    async with stack.client() as public:
        opened = await until_tagged(public, ocid, "tenderUpdate")
    assert await stored_record(stack, ocid) == await compiled_from_releases(stack, ocid)
    async with stack.client(buyer.members[0].token) as committee:
        for bid_id in bids.values():
            answer = await committee.post(
                f"/tenders/{ocid}/evaluation/qualifications", json={"bid_id": bid_id}
            )
            assert answer.status_code == 201, answer.text
    async with stack.client(buyer.officer.token) as officer:
        for step in ("lot-completions", "awards"):
            done = await officer.post(
                f"/tenders/{ocid}/evaluation/{step}", json={"lot_id": "lot-1"}
            )
            assert done.status_code == 201, done.text
    async with stack.client() as public:
        awarded = await until_tagged(public, ocid, "award")
    position, record = await compiled_from_releases(stack, ocid)
    assert await stored_record(stack, ocid) == (position, record)
    assert awarded == record  # served as stored
    assert len(awarded["releases"]) == len(opened["releases"]) + 1
    assert awarded["compiledRelease"]["awards"][0]["suppliers"][0]["id"] == cheap.id
    assert await rebuilt_records_match(stack)
