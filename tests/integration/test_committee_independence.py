"""One officer cannot be a whole committee: an officer registering colleagues with its own
token (the sock-puppet committee) is refused and nothing is recorded; the agency's
administrator, registered by the operator, registers them instead, and each registration
records who made it. Committee candidates are read from those records, and an officer's
public identity (name and agency, never its e-mail) is public."""

import base64
import json
from typing import Any

import httpx

from adapters.postgres.eventstore import PostgresEventStore
from app.committee_candidates import committee_candidates
from bidding import keys
from procurement.committee_rules import CommitteeCandidate
from readmodels.officers import public_officers
from schemas.commands import Role
from sdk.keyfiles import KeyFile
from sdk.market import committee_keys_registration
from tests.integration.conftest import register_officer
from tests.integration.market import add_officer
from tests.integration.stack import OPERATOR_TOKEN, Stack, eventually
from tests.integration.test_cli import procurement
from tests.integration.test_roles import add_admin


async def recorded(stack: Stack) -> tuple[int, int]:
    row = await stack.pool.fetchrow(
        "SELECT (SELECT count(*) FROM events) AS events,"
        " (SELECT count(*) FROM credentials) AS credentials"
    )
    return row["events"], row["credentials"]


def colleague(agency_id: str, n: int, role: str = "officer") -> dict[str, Any]:
    return {"agency_id": agency_id, "name": f"Coleg {n}", "email": f"c{n}@a.ro", "role": role}


async def registration(stack: Stack, officer_id: str) -> dict[str, Any]:
    envelope = await stack.pool.fetchval(
        "SELECT envelope FROM events WHERE aggregate_id = $1 AND type = 'OfficerRegistered'",
        officer_id,
    )
    event: dict[str, Any] = json.loads(envelope)["event"]
    return event


async def test_an_officer_cannot_register_its_own_committee(stack: Stack) -> None:
    """The sock-puppet attack: an officer adds two colleagues with its own token, to hold
    their tokens and keys and sit as a 2-of-2 committee alone. Both are refused with 403,
    and neither an event nor a token is recorded."""
    officer = await register_officer(stack)
    before = await recorded(stack)
    async with stack.client(officer["token"]) as client:
        for n in (1, 2):
            answer = await client.post("/officers", json=colleague(officer["agency_id"], n))
            assert answer.status_code == 403, answer.text
            assert answer.json()["code"] == "not_allowed"
            assert "administrator" in answer.json()["detail"]
    assert await recorded(stack) == before


async def test_the_administrator_and_the_operator_register_officers(stack: Stack) -> None:
    """The operator registers the agency's administrator; the administrator registers an
    officer and a reviewer of its agency, the operator another officer; each registration
    records who made it, and they become independent committee candidates."""
    officer = await register_officer(stack)
    agency_id = officer["agency_id"]
    admin = await add_admin(stack, agency_id)
    made = await registration(stack, admin.id)
    assert (made["role"], made["registered_by_role"]) == ("agency_admin", "operator")

    async with stack.client(admin.token) as client:
        by_admin = await client.post("/officers", json=colleague(agency_id, 3))
        reviewer = await client.post("/officers", json=colleague(agency_id, 4, "reviewer"))
        another_admin = await client.post("/officers", json=colleague(agency_id, 5, "agency_admin"))
        other_agency = await client.post("/officers", json=colleague("agency-RO-CUI-1", 6))
    assert by_admin.status_code == 201, by_admin.text
    assert reviewer.status_code == 201, reviewer.text
    assert another_admin.status_code == 403, another_admin.text
    assert other_agency.status_code == 403, other_agency.text
    made = await registration(stack, by_admin.json()["id"])
    assert (made["registered_by"], made["registered_by_role"]) == (admin.id, "agency_admin")

    async with stack.client(OPERATOR_TOKEN) as operator:
        by_operator = await operator.post("/officers", json=colleague(agency_id, 7))
    assert by_operator.status_code == 201, by_operator.text
    made = await registration(stack, by_operator.json()["id"])
    assert made["registered_by_role"] == "operator"

    keyed = await add_officer(stack, agency_id)  # registered by the operator, with keys
    async with PostgresEventStore(stack.pool).transaction() as tx:
        found = await committee_candidates(tx, [keyed.id, by_admin.json()["id"], admin.id])
    assert found == [
        CommitteeCandidate(keyed.id, agency_id, "operator", Role.OPERATOR, has_keys=True),
        CommitteeCandidate(
            by_admin.json()["id"], agency_id, admin.id, Role.AGENCY_ADMIN, has_keys=False
        ),
        CommitteeCandidate(
            admin.id, agency_id, "operator", Role.OPERATOR, has_keys=False, role=Role.AGENCY_ADMIN
        ),
    ]


async def test_an_officers_public_identity_is_its_name_and_agency(stack: Stack) -> None:
    """Anyone can see who sits on a committee: the officer's name, agency and who registered
    it, never its e-mail address; an unknown id is 404."""
    officer = await register_officer(stack)
    async with stack.client() as public:

        async def named() -> httpx.Response | None:
            # The agency's name comes from its read model, which the stream worker fills.
            response = await public.get(f"/officers/{officer['officer_id']}")
            return response if response.json().get("agency_name") else None

        shown = await eventually(named)
        unknown = await public.get("/officers/officer-0000000000000000")
        garbled = await public.get("/officers/a%00%F2%9F%9C%8Bb")
    assert shown.status_code == 200, shown.text
    agency = await stack.pool.fetchval(
        "SELECT name FROM agencies WHERE agency_id = $1", officer["agency_id"]
    )
    assert shown.json() == {
        "officer_id": officer["officer_id"],
        "name": "Ana Pop",
        "role": "officer",
        "agency_id": officer["agency_id"],
        "agency_name": agency,
        "registered_by": "operator",
        "registered_by_role": "operator",
    }
    assert "@" not in shown.text
    assert unknown.status_code == 404, unknown.text
    assert garbled.status_code in {404, 422}, garbled.text
    other = await register_officer(stack)
    ids = [other["officer_id"], "officer-0000000000000000", officer["officer_id"]]
    members = await public_officers(stack.pool, ids)
    assert [m.officer_id for m in members] == [other["officer_id"], officer["officer_id"]]


async def test_the_cli_registers_an_administrator_who_registers_officers(stack: Stack) -> None:
    """``procurement agency admin`` (the operator) makes an agency's administrator, whose
    ``procurement officer register`` adds an officer; the officer's own attempt fails, and
    ``procurement officer show`` prints who an officer is."""
    agency_id = (await register_officer(stack))["agency_id"]
    made = await procurement(
        stack,
        "agency", "admin", agency_id, "--name", "Dana Pop", "--email", "dana@example.ro",
        token=OPERATOR_TOKEN,
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    assert "administrator" in made.output
    admin_token = made.output.split("PROCUREMENT_TOKEN=")[1].split()[0]
    officer = await procurement(
        stack,
        "officer", "register",
        "--agency", agency_id, "--name", "Ion Pop", "--email", "ion@example.ro",
        token=admin_token,
    )  # fmt: skip
    assert officer.exit_code == 0, officer.output
    officer_token = officer.output.split("PROCUREMENT_TOKEN=")[1].split()[0]
    officer_id = officer.output.split("registered officer ")[1].split()[0]
    puppet = await procurement(
        stack,
        "officer", "register",
        "--agency", agency_id, "--name", "Sock Puppet", "--email", "sp@example.ro",
        token=officer_token,
    )  # fmt: skip
    assert puppet.exit_code != 0
    assert "administrator" in puppet.output
    shown = await procurement(stack, "officer", "show", officer_id)
    assert shown.exit_code == 0, shown.output
    assert "Ion Pop" in shown.output
    assert agency_id in shown.output
    assert "agency_admin" in shown.output  # who registered it


async def test_an_officer_cannot_register_encryption_keys_no_bid_can_be_sealed_to(
    stack: Stack,
) -> None:
    """An X25519 key of small order (all zeros, say) gives no shared secret: named on a
    committee, its holder would make every bidder's sealing fail and stall the tender. The
    registration is refused, naming the key; a usable set of keys is then taken."""
    officer = await register_officer(stack)
    key_file = KeyFile.generate(committee=True).named(officer["officer_id"])
    usable = committee_keys_registration(key_file, officer["officer_id"])
    signing = base64.b64decode(usable["signing_key"])
    hybrid = base64.b64decode(usable["hybrid_encryption_key"])
    weak_hybrid = hybrid[:-32] + bytes(32)  # its X25519 half of small order
    for encryption, hybrid_key, named in [
        (bytes(32), hybrid, "encryption_key"),
        (base64.b64decode(usable["encryption_key"]), weak_hybrid, "hybrid_encryption_key"),
    ]:
        fields = keys.committee_keys_fields(officer["officer_id"], encryption, signing, hybrid_key)
        body = usable | {
            "encryption_key": base64.b64encode(encryption).decode(),
            "hybrid_encryption_key": base64.b64encode(hybrid_key).decode(),
            "proof": base64.b64encode(
                keys.sign(key_file.signing_key, keys.COMMITTEE_KEYS, fields)
            ).decode(),
        }
        async with stack.client(officer["token"]) as client:
            refused = await client.post("/officers/me/committee-keys", json=body)
        assert refused.status_code == 422, refused.text
        assert refused.json()["code"] == "unusable_key", refused.text
        assert named in refused.json()["detail"]
    async with stack.client(officer["token"]) as client:
        taken = await client.post("/officers/me/committee-keys", json=usable)
    assert taken.status_code == 201, taken.text
