"""Registering a party under an identifier that reads as a registered one, or one spelled
with invisible or mixed-script characters, is refused through the API and records nothing."""

import uuid
from typing import Any

import httpx
import pytest

from app.command_bus import CommandBus
from procurement.errors import WrongState
from schemas.commands import Actor, RegisterAgency, Role
from sdk.keyfiles import KeyFile
from sdk.market import supplier_registration
from tests.integration.stack import OPERATOR_TOKEN, Stack


def new_identifier() -> str:
    """A fresh registration number with a 0 and a 1 in it, to be misspelt as O and l."""
    return f"RO-CUI-10{uuid.uuid4().int % 10**8:08d}"


async def register_agency(stack: Stack, identifier: str) -> httpx.Response:
    async with stack.client(OPERATOR_TOKEN) as operator:
        return await operator.post(
            "/agencies", json={"name": "Primăria Comunei", "identifier": identifier}
        )


async def register_supplier(stack: Stack, identifier: str) -> httpx.Response:
    body = supplier_registration(
        KeyFile.generate(committee=False),
        name="Hârtia Nouă SRL",
        identifier=identifier,
        email="oferte@hartia.ro",
        is_sme=True,
    )
    async with stack.client() as client:
        return await client.post("/suppliers", json=body)


async def event_count(stack: Stack) -> int:
    count: int = await stack.pool.fetchval("SELECT count(*) FROM events")
    return count


def refusal(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    return problem


# A supplier's look-alike is claimed for the operator instead: test_registration_claims.py.
@pytest.mark.parametrize("register", [register_agency])
async def test_a_look_alike_of_a_registered_identifier_is_refused(
    stack: Stack, register: Any
) -> None:
    """With RO-CUI-10… registered, an agency at ro-cui-lO… (an l for the 1, an O for the 0)
    is refused with 409 naming the registered identifier, and nothing is recorded."""
    identifier = new_identifier()
    assert (await register(stack, identifier)).status_code == 201
    before = await event_count(stack)
    look_alike = "ro-cui-lO" + identifier.removeprefix("RO-CUI-10")
    problem = refusal(await register(stack, look_alike), 409)
    assert problem["code"] == "look_alike_identifier"
    assert identifier in problem["detail"]
    assert await event_count(stack) == before


@pytest.mark.parametrize(
    ("spelling", "reason"),
    [
        pytest.param("RO-CUI-43\u041e5857", "mixes scripts", id="Cyrillic O"),
        pytest.param("RO-CUI-430\u200d5857", "invisible", id="zero-width joiner"),
        pytest.param("RO-CUI-\uff14305857", "normal form", id="fullwidth digit"),
    ],
)
@pytest.mark.parametrize("register", [register_agency, register_supplier])
async def test_an_identifier_spelt_to_deceive_is_refused(
    stack: Stack, register: Any, spelling: str, reason: str
) -> None:
    """Mixed scripts, invisible characters and compatibility forms get 422 naming the
    identifier field and what is wrong with it."""
    before = await event_count(stack)
    problem = refusal(await register(stack, spelling), 422)
    [error] = problem["errors"]
    assert error["field"] == "body.identifier"
    assert reason in error["message"]
    assert await event_count(stack) == before


async def test_identifiers_registered_before_the_check_are_compared_too(stack: Stack) -> None:
    """An agency recorded before look-alikes were tracked is found by a new process: its
    identifier is added from the events on the process's first registration."""
    identifier = new_identifier()
    assert (await register_agency(stack, identifier)).status_code == 201
    await stack.pool.execute("DELETE FROM party_identifiers WHERE identifier = $1", identifier)
    fresh_process = CommandBus(stack.pool, stack.settings)
    look_alike = identifier.replace("10", "lO", 1)
    command = RegisterAgency(name="Primăria look-alike", identifier=look_alike)
    with pytest.raises(WrongState, match=f"cannot be told apart from {identifier}"):
        await fresh_process.dispatch(command, Actor(id="operator", role=Role.OPERATOR))
