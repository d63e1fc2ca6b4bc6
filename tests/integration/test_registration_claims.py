"""A registration number claimed by a second supplier goes to the operator: the claimant
waits with 202, and the operator gives the number to the claimant, suspending the holder,
or refuses the claim and leaves the holder as it was."""

import uuid
from typing import Any

import httpx

from sdk.keyfiles import KeyFile
from sdk.market import supplier_registration
from tests.integration.stack import OPERATOR_TOKEN, Stack

CLAIMS = "/operations/registration-claims"


def new_identifier() -> str:
    return f"RO-CUI-10{uuid.uuid4().int % 10**8:08d}"


async def register_supplier(stack: Stack, identifier: str, name: str) -> httpx.Response:
    body = supplier_registration(
        KeyFile.generate(committee=False),
        name=name,
        identifier=identifier,
        email="oferte@hartia.ro",
        is_sme=True,
    )
    async with stack.client() as client:
        return await client.post("/suppliers", json=body)


async def claim(stack: Stack, identifier: str) -> str:
    """Claim ``identifier`` as a second supplier; the claim's id."""
    claimed = await register_supplier(stack, identifier, "Adevărata Hârtie SRL")
    assert claimed.status_code == 202, claimed.text
    answer: dict[str, Any] = claimed.json()
    assert answer["status"] == "claim_awaits_operator"
    assert "token" not in answer
    claim_id: str = answer["claim_id"]
    return claim_id


async def decide(stack: Stack, token: str, claim_id: str, decision: str) -> httpx.Response:
    body = {"decision": decision, "reason": "The trade register names the claimant"}
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    async with stack.client(token) as client:
        return await client.post(f"{CLAIMS}/{claim_id}/decision", json=body, headers=headers)


async def me(stack: Stack, token: str) -> httpx.Response:
    async with stack.client(token) as client:
        return await client.get("/me")


async def test_an_accepted_claim_takes_the_number_from_its_holder(stack: Stack) -> None:
    """B claims A's number and waits; only the operator lists and accepts the claim; then
    B's token names the supplier, A's token is refused, and the public sees B's name."""
    identifier = new_identifier()
    holder = await register_supplier(stack, identifier, "Ocupantul SRL")
    assert holder.status_code == 201, holder.text
    holder_token = holder.json()["token"]
    claim_id = await claim(stack, identifier)

    async with stack.client(holder_token) as client:
        assert (await client.get(CLAIMS)).status_code == 403
    assert (await decide(stack, holder_token, claim_id, "accept")).status_code == 403

    async with stack.client(OPERATOR_TOKEN) as operator:
        listed = (await operator.get(CLAIMS)).json()["items"]
    [open_claim] = [item for item in listed if item["claim_id"] == claim_id]
    assert open_claim["identifier"] == open_claim["holder_identifier"] == identifier

    accepted = await decide(stack, OPERATOR_TOKEN, claim_id, "accept")
    assert accepted.status_code == 200, accepted.text
    claimant_token = accepted.json()["token"]
    assert (await me(stack, claimant_token)).json()["id"] == f"supplier-{identifier}"
    assert (await me(stack, holder_token)).status_code == 401
    async with stack.client() as public:
        page = await public.get(f"/portal/suppliers/supplier-{identifier}")
    assert "Adevărata Hârtie SRL" in page.text
    assert "Ocupantul SRL" not in page.text

    again = await decide(stack, OPERATOR_TOKEN, claim_id, "refuse")
    assert again.status_code == 409
    assert again.json()["code"] == "claim_decided"
    async with stack.client(OPERATOR_TOKEN) as operator:
        listed = (await operator.get(CLAIMS)).json()["items"]
    assert claim_id not in {item["claim_id"] for item in listed}


async def test_a_refused_claim_on_a_look_alike_leaves_the_holder_intact(stack: Stack) -> None:
    """A claim on a number that reads as a registered one is refused with its reason: the
    holder keeps its token and the claimant gets none."""
    identifier = new_identifier()
    holder = await register_supplier(stack, identifier, "Titularul SRL")
    assert holder.status_code == 201, holder.text
    look_alike = "ro-cui-lO" + identifier.removeprefix("RO-CUI-10")
    claim_id = await claim(stack, look_alike)

    refused = await decide(stack, OPERATOR_TOKEN, claim_id, "refuse")
    assert refused.status_code == 200, refused.text
    assert "token" not in refused.json()
    assert (await me(stack, holder.json()["token"])).json()["id"] == f"supplier-{identifier}"
    decided = await stack.pool.fetchval(
        "SELECT envelope->'event'->>'reason' FROM events"
        " WHERE aggregate_id = $1 AND type = 'RegistrationClaimDecided'",
        claim_id,
    )
    assert decided == "The trade register names the claimant"


async def test_an_unknown_claim_is_a_problem_document(stack: Stack) -> None:
    """Deciding a claim nobody made answers 404 with a problem document."""
    answer = await decide(stack, OPERATOR_TOKEN, "claim-nobody-made", "accept")
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
    assert "claim-nobody-made" in answer.json()["detail"]


async def test_a_retried_decision_is_recorded_once(stack: Stack) -> None:
    """The operator's decision sent twice under one Idempotency-Key gets the first answer
    again, not a 409 for a decided claim, and the claim is decided once."""
    identifier = new_identifier()
    assert (await register_supplier(stack, identifier, "Ocupantul SRL")).status_code == 201
    claim_id = await claim(stack, identifier)
    body = {"decision": "refuse", "reason": "The holder showed its trade register entry"}
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    async with stack.client(OPERATOR_TOKEN) as operator:
        path = f"{CLAIMS}/{claim_id}/decision"
        first = await operator.post(path, json=body, headers=headers)
        retry = await operator.post(path, json=body, headers=headers)
    assert first.status_code == retry.status_code == 200, retry.text
    assert retry.json()["replayed"] is True
    assert retry.json()["events"] == first.json()["events"]
    decided = await stack.pool.fetchval(
        "SELECT count(*) FROM events WHERE aggregate_id = $1 AND type = 'RegistrationClaimDecided'",
        claim_id,
    )
    assert decided == 1
