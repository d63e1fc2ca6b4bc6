"""``procurement audit`` on the real stack: a procedure run through the API, with tied bids,
verifies from public data alone, over the API and offline from the answers recorded while
auditing; a recorded answer altered afterwards fails the audit and says where."""

import asyncio
import json
import sys
from datetime import timedelta
from pathlib import Path

from sdk.audit import record
from sdk.audit.sources import answer_file
from tests.integration.market import (
    bid_content,
    buyer_with_committee,
    hand_in,
    register_supplier,
    seal,
    sealed_tender,
    submit,
    until_sealed,
)
from tests.integration.stack import Stack, eventually

REPOSITORY = Path(__file__).resolve().parents[2]


async def audit(*arguments: str) -> tuple[int, str]:
    return await cli("audit", *arguments)


async def cli(*arguments: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "entrypoints.cli",
        *arguments,
        cwd=REPOSITORY,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode()


async def awarded_tie(stack: Stack, receipts: Path) -> str:
    """Two bidders at the same price; the bid received first wins. Their receipts are kept
    in ``receipts``, as the bidders would keep them."""
    buyer = await buyer_with_committee(stack, size=2)
    ocid, tender_key, deadline = await sealed_tender(stack, buyer, timedelta(seconds=6))
    bids = []
    for name in ("Primul SRL", "Al Doilea SRL"):
        bidder = await register_supplier(stack, name)
        answer = await submit(stack, bidder, seal(bid_content(ocid, bidder.id, "900.00"), tender_key, bidder))  # fmt: skip
        assert answer.status_code == 201, answer.text
        (receipts / f"{bidder.id}.json").write_text(answer.text)
        bids.append(answer.json()["receipt"]["bid_id"])
    await until_sealed(stack, ocid, deadline)
    for member in buyer.members:
        assert (await hand_in(stack, member, ocid)).status_code == 200
    async with stack.client(buyer.members[0].token) as committee:
        for bid_id in bids:
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
    return ocid


async def until_audited(stack: Stack, ocid: str, *more: str) -> str:
    """The audit's output once it passes: the log appends and signs in batches, so the
    award's events reach the signed head a moment after the award."""
    last = ""

    async def passes() -> bool:
        nonlocal last
        code, last = await audit(ocid, "--api", stack.api_url, *more)
        return code == 0

    try:
        await eventually(passes, within=40)
    except AssertionError as error:
        raise AssertionError(last) from error
    return last


async def test_a_procedure_audits_over_the_api_and_offline_and_an_altered_file_fails(
    stack: Stack, tmp_path: Path
) -> None:
    """Every check passes over the API, receipts included; recorded, the same audit passes
    offline with --dir; an event document altered in the recording fails as altered."""
    receipts = tmp_path / "receipts"
    receipts.mkdir()
    ocid = await awarded_tie(stack, receipts)
    output = await until_audited(stack, ocid, "--receipts", str(receipts))
    assert "all verified" in output
    assert "FAIL" not in output
    for part in ("signed head", f"{ocid}:evaluation: transparency log", "ranking", "award",
                 "receipts' current bids at the opening", "evidence matches the logged events"):  # fmt: skip
        assert part in output, output

    recording = tmp_path / "public"
    report = await asyncio.to_thread(record, stack.api_url, recording)
    assert report.ok, "\n".join(check.line for check in report.failures)
    code, offline = await audit("--all", "--dir", str(recording), "--receipts", str(receipts))
    assert code == 0, offline
    assert ocid in offline
    assert f"ok    {ocid} committee: 2 of 2, suite x25519" in offline, offline
    platform = json.loads((recording / answer_file("/platform/keys")).read_text())
    key = platform["receipt_keys"][0]["public_key"]
    code, checked = await cli("verify", "committee", ocid, "--dir", str(recording), "--platform-key", key)  # fmt: skip
    assert code == 0, checked
    assert f"verified: committee of {ocid}: 2 of 2" in checked, checked

    events = recording / answer_file("/transparency/events", {"aggregate_id": f"{ocid}:evaluation"})  # fmt: skip
    served = json.loads(events.read_text())
    award = next(e for e in served["events"] if e["entry"]["type"] == "AwardDecided")
    award["document"]["payload"]["event"]["bid_id"] = "someone-else"
    events.write_text(json.dumps(served))
    code, altered = await audit(ocid, "--dir", str(recording))
    assert code == 1, altered
    assert "event altered" in altered
    assert "AwardDecided" in altered
