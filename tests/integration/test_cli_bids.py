"""Sealed bids from the command line, as a supplier and a committee would use it: keys in
local files, sealing and share decryption on the caller's side, receipts checked offline."""

import asyncio
import base64
import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.integration.conftest import register_officer, tender_body
from tests.integration.market import add_officer, bid_content, until_sealed
from tests.integration.stack import Stack
from tests.integration.test_cli import procurement


async def test_a_whole_sealed_bid_procedure_from_the_cli(stack: Stack, tmp_path: Path) -> None:
    buyer = await register_officer(stack)
    members = [await add_officer(stack, buyer["agency_id"], with_keys=False) for _ in range(3)]
    for n, member in enumerate(members):
        made = await procurement(
            stack,
            "officer",
            "keys",
            "--keys",
            str(tmp_path / f"member-{n}.json"),
            token=member.token,
        )
        assert made.exit_code == 0, made.output
        assert json.loads((tmp_path / f"member-{n}.json").read_text())["party_id"] == member.id

    tender = tmp_path / "tender.json"
    tender.write_text(json.dumps(tender_body()))
    published = await procurement(
        stack, "tender", "publish", str(tender), "--deadline", "+20s", token=buyer["token"]
    )
    assert published.exit_code == 0, published.output
    ocid = published.output.split()[-1]
    deadline = datetime.now(UTC) + timedelta(seconds=20)
    committee = ["tender", "committee", ocid, "--threshold", "2"]
    for member in members:
        committee += ["--member", member.id]
    named = await procurement(stack, *committee, token=buyer["token"])
    assert named.exit_code == 0, named.output
    assert "committee of 3 named (x25519)" in named.output
    for n in (0, 1):  # two members check the keys against the key log and confirm
        confirmed = await confirm(stack, ocid, tmp_path / f"member-{n}.json", members[n].token)
        assert "you confirmed the committee" in confirmed

    keys = tmp_path / "supplier.json"
    registered = await procurement(
        stack,
        "supplier", "register",
        "--name", "Papetăria Someș SRL", "--identifier", "RO-CUI-31415926",
        "--email", "oferte@papetaria.ro", "--sme", "--keys", str(keys),
    )  # fmt: skip
    assert registered.exit_code == 0, registered.output
    token = registered.output.split("PROCUREMENT_TOKEN=")[1].split()[0]
    supplier_id = json.loads(keys.read_text())["party_id"]
    assert supplier_id == "supplier-RO-CUI-31415926"

    bid = tmp_path / "bid.json"
    bid.write_text(bid_content(ocid, supplier_id, "777.00").model_dump_json())
    receipt = tmp_path / "receipt.json"
    submitted = await procurement(
        stack,
        "bid",
        "submit",
        str(bid),
        "--keys",
        str(keys),
        "--receipt",
        str(receipt),
        token=token,
    )
    assert submitted.exit_code == 0, submitted.output
    assert "777.00" not in receipt.read_text()
    assert "log_index" not in json.loads(receipt.read_text())["receipt"]  # no count before
    assert stat.S_IMODE(receipt.stat().st_mode) == 0o600  # private from its creation

    async with stack.client() as public:
        served = (await public.get("/platform/keys")).json()["receipt_keys"][0]
    checked = await procurement(
        stack, "verify", "receipt", str(receipt), "--platform-key", served["public_key"]
    )
    assert checked.exit_code == 0, checked.output
    assert "verified" in checked.output
    forged = await procurement(
        stack, "verify", "receipt", str(receipt),
        "--platform-key", base64.b64encode(b"\x07" * 32).decode(),
    )  # fmt: skip
    assert forged.exit_code == 1
    assert "NOT VERIFIED" in forged.output

    await until_sealed(stack, ocid, deadline)
    proof = tmp_path / "proof.json"
    fetched = await procurement(
        stack, "bid", "proof", ocid, "--receipt", str(receipt), "--out", str(proof)
    )
    assert fetched.exit_code == 0, fetched.output
    async with stack.client() as public:
        head = (await public.get(f"/tenders/{ocid}/bid-log")).json()
    included = await procurement(
        stack, "verify", "inclusion", str(receipt), str(proof),
        "--root", head["sealed_root"], "--tree-size", "1",
    )  # fmt: skip
    assert included.exit_code == 0, included.output
    altered = json.loads(receipt.read_text())
    altered["receipt"]["received_at"] = "2020-01-01T00:00:00Z"  # claiming an earlier time
    (tmp_path / "altered.json").write_text(json.dumps(altered))
    refused = await procurement(
        stack, "verify", "inclusion", str(tmp_path / "altered.json"), str(proof),
        "--root", head["sealed_root"],
    )  # fmt: skip
    assert refused.exit_code == 1
    assert "NOT VERIFIED" in refused.output

    for n in (0, 2):
        handed = await procurement(
            stack, "opening", "share", ocid, "--keys", str(tmp_path / f"member-{n}.json"),
            token=members[n].token,
        )  # fmt: skip
        assert handed.exit_code == 0, handed.output
    assert '"opened": true' in handed.output
    status = await procurement(stack, "bid", "status", ocid, token=members[1].token)
    assert status.exit_code == 0, status.output
    assert "777.00" in status.output


async def confirm(stack: Stack, ocid: str, keys: Path, token: str) -> str:
    """`procurement committee confirm`, once the members' keys are in the key log (the
    stream workers append about once a second)."""
    output = ""
    for _ in range(50):
        done = await procurement(
            stack, "committee", "confirm", ocid, "--keys", str(keys), token=token
        )
        if done.exit_code == 0:
            return done.output
        output = done.output
        await asyncio.sleep(0.2)
    raise AssertionError(output)
