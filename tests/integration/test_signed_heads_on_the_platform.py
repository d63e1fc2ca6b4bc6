"""On the real services, a sealed bid log's head is signed by the platform key and
time-stamped by the configured authority: a root changed by whoever runs the database is
detected by anyone holding the platform key and the authority's certificate. Before, the
served head was unsigned, and a changed root was the platform's word against nobody's."""

import asyncio
import base64
import json
import os
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bidding import keys, timestamps, tree_heads
from entrypoints.cli.main import app as cli
from schemas.tree_heads import SignedTreeHead
from tests.integration.conftest import running_stack
from tests.integration.market import (
    bid_content,
    buyer_with_committee,
    register_supplier,
    seal,
    sealed_tender,
    submit,
    until_sealed,
)
from tests.integration.stack import Stack
from tests.tsa import RunningAuthority, make_authority, serving


@pytest.fixture(scope="module")
def authority() -> Iterator[RunningAuthority]:
    with serving(make_authority()) as running:
        yield running


@pytest.fixture(scope="module")
async def stamped_stack(
    postgres_server: str, tmp_path_factory: pytest.TempPathFactory, authority: RunningAuthority
) -> AsyncIterator[Stack]:
    """A platform whose API and workers know the time-stamping authority."""
    os.environ["PROCUREMENT_TSA_URL"] = authority.url
    try:
        async with running_stack(
            postgres_server, tmp_path_factory, tsa_url=authority.url
        ) as platform:
            yield platform
    finally:
        del os.environ["PROCUREMENT_TSA_URL"]


async def _sealed_with_one_bid(stack: Stack) -> str:
    buyer = await buyer_with_committee(stack, size=2)
    ocid, tender_key, deadline = await sealed_tender(stack, buyer, deadline_in=timedelta(seconds=6))
    bidder = await register_supplier(stack)
    answer = await submit(
        stack, bidder, seal(bid_content(ocid, bidder.id, "900.00"), tender_key, bidder)
    )
    assert answer.status_code == 201, answer.text
    await until_sealed(stack, ocid, deadline)
    return ocid


async def test_the_sealed_head_is_signed_and_time_stamped_and_a_changed_root_is_detected(
    stamped_stack: Stack, authority: RunningAuthority, tmp_path: Path
) -> None:
    """The served head names the sealed root, verifies under the published platform key
    and the authority's certificate; once the operator rewrites its root in the database,
    `procurement verify head` says NOT VERIFIED."""
    ocid = await _sealed_with_one_bid(stamped_stack)
    async with stamped_stack.client() as public:
        sealed_root = (await public.get(f"/tenders/{ocid}/bid-log")).json()["sealed_root"]
        key_b64 = (await public.get("/platform/keys")).json()["receipt_keys"][0]["public_key"]
        served: dict[str, Any] = (await public.get(f"/tenders/{ocid}/bid-log/signed-head")).json()
    head = SignedTreeHead.model_validate(served)
    assert (head.root, head.tree_size, head.tsa) == (sealed_root, 1, authority.url)
    assert tree_heads.head_valid(head, base64.b64decode(key_b64))
    timestamps.check_time_stamp(head, authority.authority.certificate)

    cert = tmp_path / "tsa.pem"
    cert.write_bytes(authority.authority.certificate_pem)
    file = tmp_path / "head.json"
    file.write_text(json.dumps(served))
    checked = CliRunner().invoke(
        cli, ["verify", "head", str(file), "--platform-key", key_b64, "--tsa-cert", str(cert)]
    )
    assert checked.exit_code == 0, checked.output

    forged_root = "ab" * 32  # the operator's own root, written into the store
    await stamped_stack.pool.execute(
        "UPDATE bid_log_heads SET head = jsonb_set(head, '{root}', to_jsonb($2::text))"
        " WHERE ocid = $1",
        ocid,
        forged_root,
    )
    async with stamped_stack.client() as public:
        forged = (await public.get(f"/tenders/{ocid}/bid-log/signed-head")).json()
    assert forged["root"] == forged_root
    file.write_text(json.dumps(forged))
    refused = CliRunner().invoke(
        cli, ["verify", "head", str(file), "--platform-key", key_b64, "--tsa-cert", str(cert)]
    )
    assert refused.exit_code == 1
    assert "NOT VERIFIED" in refused.output
    assert keys.key_id(base64.b64decode(key_b64)) == head.key_id


async def test_a_worker_signs_and_time_stamps_the_sealed_head_at_the_seal(
    stamped_stack: Stack, authority: RunningAuthority
) -> None:
    """Nobody asks for the head: the stream worker signs it, and has the authority stamp it,
    within seconds of the seal, so its time-stamp is the seal's and not the first reader's."""
    ocid = await _sealed_with_one_bid(stamped_stack)
    stored = None
    for _ in range(100):
        stored = await stamped_stack.pool.fetchval(
            "SELECT head FROM bid_log_heads WHERE ocid = $1", ocid
        )
        if stored is not None:
            break
        await asyncio.sleep(0.2)
    assert stored is not None, "no worker signed the sealed head within 20 s"
    head = SignedTreeHead.model_validate(json.loads(stored) if isinstance(stored, str) else stored)
    assert head.tsa == authority.url
    timestamps.check_time_stamp(head, authority.authority.certificate)
