"""The OpenAPI description is a promise: schemathesis generates requests from the live
app's /openapi.json and sends them to the real stack, as the public, as an officer and as
a supplier, against real procedures at each stage. No request may meet a server error, and
every answer must have a status, a content type and a body that the description declares.
"""

import asyncio
import re
import time
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.integration.conftest import register_officer
from tests.integration.market import register_supplier
from tests.integration.stack import Stack
from tests.integration.test_roles import LOT, World, build_world

EXAMPLES = 30  # per operation and identity
PARTS = 3  # the operations are fuzzed in this many tests, each well within its timeout
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def examine(strategy: Any, base_url: str, session: requests.Session) -> int:
    """Send the strategy's examples; raise the first failure. Return how many were sent."""
    sent = 0

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        nonlocal sent
        sent += 1
        case.call_and_validate(base_url=base_url, session=session, checks=CHECKS)

    run()
    return sent


def streaming(described: dict[str, Any]) -> set[str]:
    """The operations that answer with Server-Sent Events. A stream stays open while there
    is news to follow (an auction running, new releases), so a generated request would not
    end; test_auction and the OCDS tests follow those streams themselves."""
    return {
        f"{method.upper()} {path}"
        for path, operations in described["paths"].items()
        for method, operation in operations.items()
        if "text/event-stream" in operation["responses"].get("200", {}).get("content", {})
    }


def fuzz(
    schema: Any,
    base_url: str,
    identities: dict[str, str | None],
    known: dict[str, list[str]],
    skipped: set[str],
    part: int,
) -> tuple[list[str], int]:
    """Run every operation of one part (every other one, ``PARTS`` parts in all) for every
    identity; return the failures and the requests sent."""
    failures: list[str] = []
    sent = 0
    for index, result in enumerate(schema.get_all_operations()):
        operation = result.ok()
        if operation.label in skipped or index % PARTS != part:
            continue
        names = re.findall(r"{(\w+)}", operation.path)
        # Generated path values mostly miss; real ones reach the code behind the lookup.
        real = [
            {name: known[name][i % len(known[name])] for name in names}
            for i in range(max((len(known[n]) for n in names), default=0))
        ]
        strategy = st.one_of(
            *(operation.as_strategy(mode) for mode in GenerationMode),
            *(operation.as_strategy(path_parameters=values) for values in real),
        )
        for who, token in identities.items():
            session = requests.Session()
            if token:
                session.headers["Authorization"] = f"Bearer {token}"
            try:
                sent += examine(strategy, base_url, session)
            except (Exception, BaseExceptionGroup) as error:
                failures.append(f"{operation.label} as {who}: {error}"[:3000])
    return failures, sent


@pytest.mark.parametrize("part", range(PARTS))
async def test_the_api_keeps_its_openapi_description(stack: Stack, part: int) -> None:
    """No server errors, and every response as the OpenAPI description declares it."""
    world: World = await build_world(stack)
    async with stack.client() as client:
        described = (await client.get("/openapi.json")).json()
    schema = schemathesis.openapi.from_dict(described)
    identities = {
        "the public": None,
        "an officer": world.buyer.members[0].token,
        "a supplier": world.supplier.token,
    }
    known = {
        "ocid": [
            *(world.opened, world.awarded, world.contracted, world.open, world.auction),
            *(world.catalogue["purchase"], world.catalogue["quotation"]),
        ],
        "offer_id": [world.catalogue["offer"]],
        "lot_id": [LOT],
        "contract_id": [world.contract_id],
        "officer_id": [world.buyer.members[0].id],
        "party_id": [world.outsider.id],
        # the OCDS extensions
        "name": [
            "lots",
            "bids",
            "partyScale",
            "awardEvidence",
            "complaints",
            "enquiries",
            "documentHash",
            "valueAddedTax",
        ],
        "codelist": ["bidStatus.csv", "partyScale.csv", "abnormallyLowBasis.csv"],
        "letter_id": ["1"],  # a dead letter: the operator's only, so refused to all here
        "claim_id": ["claim-0"],  # a registration claim: the operator's only, likewise
        "secret": ["A" * 43],  # a feed link nobody holds: refused like a guessed one
        "document_id": ["doc-0000000000000000"],
        "enquiry_id": ["enquiry-0000000000000000"],
        "version": ["1"],
        "complaint_id": ["conditions-complaint-1"],  # the outsider's, about the open tender
    }
    started = time.monotonic()
    # Rotating or revoking one's own token would revoke the identities fuzzing goes on
    # with; test_tokens covers those two routes.
    skipped = streaming(described) | {"POST /tokens", "DELETE /tokens/current"}
    assert "GET /tenders/{ocid}/auctions/{lot_id}/live" in skipped
    failures, sent = await asyncio.to_thread(
        fuzz, schema, stack.api_url, identities, known, skipped, part
    )
    print(f"schemathesis: {sent} requests in {time.monotonic() - started:.0f}s")
    assert failures == [], "\n\n".join(failures)


# What schemathesis found: routes that put the path's ocid into a command crashed when it
# was no identifier. Every such route, with a body that is valid, must refuse it instead.
NOT_AN_OCID = "%F2%9F%9C%8BA7q"
SIG = "A" * 86 + "=="  # 64 bytes of base64


async def test_a_path_value_that_is_no_identifier_is_an_invalid_request(stack: Stack) -> None:
    """An ocid in the path that breaks the identifier's pattern gets a 422, not a 500."""
    officer = (await register_officer(stack))["token"]
    supplier = (await register_supplier(stack)).token
    nomination = {"members": ["officer-1", "officer-2"], "threshold": 2}
    confirmation = {"officer_id": "officer-1", "material_sha256": "ab" * 32, "signature": SIG}
    reconfirmed = {
        "ocid": "ocds-x",
        "bidder_id": "supplier-x",
        "bid_id": "bid-x",
        "requirements_sha256": "ab" * 32,
        "signature": SIG,
    }
    for token, method, path, body in (
        (officer, "PATCH", "", {"reason": "Clearer", "title": "A new title"}),
        (officer, "POST", "/cancellation", {"reason": "Budget withdrawn"}),
        (officer, "POST", "/committee", nomination),
        (officer, "POST", "/committee/confirmations", confirmation),
        (supplier, "POST", f"/auctions/{LOT}/prices", {"price": "900.00"}),
        (supplier, "POST", "/bids/reconfirmations", reconfirmed),
        (supplier, "POST", "/complaints", {"grounds": "The grammage names one brand's"}),
    ):
        async with stack.client(token) as client:
            answer = await client.request(method, f"/tenders/{NOT_AN_OCID}{path}", json=body)
        assert answer.status_code == 422, (path, answer.text)
        assert answer.json()["code"] == "invalid_request"


# Requests that change something but are no command of the command handler, each with what
# makes a retry safe without an Idempotency-Key. Any other such route must take the header.
RETRIED_WITHOUT_A_KEY = {
    "POST /tenders/{ocid}/bids": "the same signed bid again gets its first receipt",
    "POST /tenders/{ocid}/bids/withdrawal": "the same signed withdrawal gets its first receipt",
    "POST /tenders/{ocid}/opening/shares": "a share handed in twice is refused, never used twice",
    "POST /tenders/{ocid}/auctions/{lot_id}/prices": "the same price again is not lower: refused",
    "POST /tokens": "rotating revokes the token it was sent with, so a retry is refused",
    "DELETE /tokens/current": "revoking a revoked token changes nothing",
    "DELETE /parties/{party_id}/tokens": "revoking revoked tokens changes nothing",
    "POST /operations/dead-letters/{letter_id}/replay": "a resolved letter is not replayed again",
    "POST /inbox/read": "marking read again up to the same notice changes nothing",
    "POST /inbox/feed-links": "a feed link is shown once: a retry makes a new one, which alone"
    " works, as a lost answer's link was never seen",
}


async def test_every_command_route_takes_the_idempotency_key_header(stack: Stack) -> None:
    """Each state-changing route of the description declares a header named exactly
    ``Idempotency-Key`` (not ``key``, as a parameter's name made FastAPI expect)."""
    async with stack.client() as client:
        described = (await client.get("/openapi.json")).json()
    without: list[str] = []
    commands = 0
    for path, operations in described["paths"].items():
        for method, operation in operations.items():
            label = f"{method.upper()} {path}"
            if method not in {"post", "put", "patch", "delete"} or label in RETRIED_WITHOUT_A_KEY:
                continue
            commands += 1
            headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
            if "Idempotency-Key" not in headers:
                without.append(f"{label} takes {sorted(headers)}")
    assert commands >= 33
    assert without == [], "\n".join(without)
