"""The key log on the real stack: a member's committee keys are logged and served with their
proofs under a signed head; an operator who writes its own key in a member's name, in
``party_keys`` and in the store, is named by the member's ``procurement officer keys-check``
while an honest member's check passes."""

import asyncio
import base64
import json
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from bidding import keys, merkle
from publication import transparency
from tests.integration.conftest import register_officer
from tests.integration.market import Party, add_officer, register_supplier
from tests.integration.stack import Stack, eventually
from tests.integration.test_transparency import platform_public_key, signed

REPOSITORY = Path(__file__).resolve().parents[2]


async def key_log(public: httpx.AsyncClient, party_id: str) -> dict[str, Any]:
    answer = await public.get(f"/transparency/keys/{party_id}")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def until_key_entries(stack: Stack, party_id: str, count: int) -> dict[str, Any]:
    async def found() -> dict[str, Any] | None:
        async with stack.client() as public:
            answer = await public.get(f"/transparency/keys/{party_id}")
        if answer.status_code != 200 or len(answer.json()["entries"]) < count:
            return None
        body: dict[str, Any] = answer.json()
        return body

    return await eventually(found, within=30)


async def keys_check(stack: Stack, key_file: Path) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "entrypoints.cli",
        "officer",
        "keys-check",
        "--keys",
        str(key_file),
        "--api",
        stack.api_url,
        cwd=REPOSITORY,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode()


async def members(stack: Stack, tmp_path: Path) -> tuple[Party, Path, Party, Path]:
    """Two members of one agency, with committee keys registered and their key files saved."""
    agency_id = (await register_officer(stack))["agency_id"]
    honest, impersonated = await add_officer(stack, agency_id), await add_officer(stack, agency_id)
    honest_file = tmp_path / "honest" / "committee-keys.json"
    impersonated_file = tmp_path / "impersonated" / "committee-keys.json"
    honest.keys.save(honest_file)
    impersonated.keys.save(impersonated_file)
    return honest, honest_file, impersonated, impersonated_file


async def test_a_members_keys_are_served_with_their_proof_under_a_signed_head(
    stack: Stack, tmp_path: Path
) -> None:
    """The member's key entry: its document holds its keys and its binding signature, and
        its audit path proves it under the signed head served with it; an id that is no officer's
    (a supplier's included) is 404."""
    member, _, _, _ = await members(stack, tmp_path)
    supplier = await register_supplier(stack)
    served = await until_key_entries(stack, member.id, 1)
    async with stack.client() as public:
        platform = await platform_public_key(public)
        assert transparency.head_valid(signed(served["head"]), platform)
        (item,) = served["entries"]
        entry = transparency.entry_from_json(item["entry"])
        assert (entry.aggregate_id, entry.type) == (member.id, "CommitteeKeysRegistered")
        assert transparency.document_sha256(item["document"]) == entry.event_sha256
        event = item["document"]["payload"]["event"]
        assert base64.b64decode(event["signing_key"]) == keys.raw_public(member.keys.signing_key)
        assert merkle.verify_inclusion(
            entry.leaf_hash(),
            entry.leaf_index,
            served["head"]["tree_size"],
            [bytes.fromhex(h) for h in item["audit_path"]],
            bytes.fromhex(served["head"]["root"]),
        )
        for unknown_id in ("officer-nobody", supplier.id):
            unknown = await public.get(f"/transparency/keys/{unknown_id}")
            assert unknown.status_code == 404, unknown.text
            assert unknown.json()["code"] == "unknown_party"
        bad = await public.get("/transparency/keys/" + "x" * 300)
        assert bad.status_code == 422
        described = (await public.get("/openapi.json")).json()
        answer = described["paths"]["/transparency/keys/{party_id}"]["get"]["responses"]["200"]
        assert answer["content"]["application/json"]["schema"]


async def test_keys_check_names_a_key_the_operator_wrote_in_a_members_name(
    stack: Stack, tmp_path: Path
) -> None:
    """The operator replaces a member's keys in ``party_keys`` and records a key event in its
    name in the store, so that the log vouches for them: that member's check exits 1 naming
    the substituted keys; the other member's check passes."""
    honest, honest_file, impersonated, impersonated_file = await members(stack, tmp_path)
    for member in (honest, impersonated):
        await until_key_entries(stack, member.id, 1)
    code, output = await keys_check(stack, impersonated_file)
    assert code == 0, output
    assert "pinned" in output

    encryption, signing = await operator_writes_its_own_keys(stack, impersonated.id)
    await until_key_entries(stack, impersonated.id, 2)
    code, output = await keys_check(stack, impersonated_file)
    assert code == 1, output
    assert "substituted" in output
    assert keys.key_id(encryption) in output
    assert keys.key_id(signing) in output
    code, output = await keys_check(stack, honest_file)
    assert code == 0, output
    assert "verified" in output


async def operator_writes_its_own_keys(stack: Stack, officer_id: str) -> tuple[bytes, bytes]:
    """What an operator with the database can do: its own keys in the member's row, and a
    key event in the member's name appended to the store (the log takes it in)."""
    signing_key = Ed25519PrivateKey.generate()
    encryption = keys.raw_public(X25519PrivateKey.generate())
    signing = keys.raw_public(signing_key)
    fields = keys.committee_keys_fields(officer_id, encryption, signing)
    proof = keys.sign(signing_key, keys.COMMITTEE_KEYS, fields)
    async with stack.pool.acquire() as connection, connection.transaction():
        await connection.execute(
            "UPDATE party_keys SET encryption_key = $2, signing_key = $3 WHERE party_id = $1",
            officer_id,
            encryption,
            signing,
        )
        last = await connection.fetchrow(
            "SELECT sequence, envelope FROM events WHERE aggregate_id = $1"
            " ORDER BY sequence DESC LIMIT 1",
            officer_id,
        )
        envelope = json.loads(last["envelope"])
        event_id = uuid.uuid4()
        sequence = last["sequence"] + 1
        event = {
            "type": "CommitteeKeysRegistered",
            "officer_id": officer_id,
            "encryption_key": base64.b64encode(encryption).decode(),
            "signing_key": base64.b64encode(signing).decode(),
            "proof": base64.b64encode(proof).decode(),
        }
        envelope |= {"event_id": str(event_id), "sequence": sequence, "event": event}
        await connection.execute(
            "INSERT INTO events (event_id, aggregate_id, sequence, type, schema_version,"
            " occurred_at, envelope) VALUES ($1, $2, $3, $4, 1, now(), $5::json)",
            event_id,
            officer_id,
            sequence,
            "CommitteeKeysRegistered",
            json.dumps(envelope),
        )
    return encryption, signing
