"""Publication end to end: an officer publishes, amends and cancels tenders through the
API, and the public reads them from the read model that the stream worker keeps."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.integration.conftest import register_officer, tender_body
from tests.integration.stack import OPERATOR_TOKEN, Stack, eventually


async def visible(stack: Stack, ocid: str, version: int = 1) -> dict[str, Any]:
    """Wait until the public read model shows ``ocid`` at ``version`` or later."""
    async with stack.client() as public:

        async def read() -> dict[str, Any] | None:
            response = await public.get(f"/tenders/{ocid}")
            if response.status_code == 200 and response.json()["version"] >= version:
                body: dict[str, Any] = response.json()
                return body
            return None

        return await eventually(read)


async def event_count(stack: Stack) -> int:
    count: int = await stack.pool.fetchval("SELECT count(*) FROM events")
    return count


async def test_a_published_tender_reaches_the_public(stack: Stack) -> None:
    """A tender accepted from an officer is readable, unauthenticated, with its buyer's name."""
    officer = await register_officer(stack)
    async with stack.client(officer["token"]) as client:
        response = await client.post("/tenders", json=tender_body())
    assert response.status_code == 201, response.text
    ocid = response.json()["id"]
    assert ocid.startswith("ocds-test00-")
    tender = await visible(stack, ocid)
    assert tender["status"] == "active"
    assert tender["buyer_id"] == officer["agency_id"]
    assert tender["buyer_name"] == f"Agency {officer['agency_id'].removeprefix('agency-')}"
    assert tender["estimated_value"] == {"amount": "1000.00", "currency": "RON"}
    stored = await stack.pool.fetchval("SELECT count(*) FROM events WHERE aggregate_id = $1", ocid)
    assert stored == 1


async def test_the_list_filters_by_status_buyer_and_cpv_and_pages(stack: Stack) -> None:
    """Filters narrow the list, and following ``next`` visits every tender exactly once."""
    officer = await register_officer(stack)
    ocids = []
    async with stack.client(officer["token"]) as client:
        for cpv in ["30197630-1", "30197630-1", "45000000-7", "45000000-7", "09310000-5"]:
            response = await client.post("/tenders", json=tender_body(cpv=cpv))
            assert response.status_code == 201, response.text
            ocids.append(response.json()["id"])
        cancelled = await client.post(
            f"/tenders/{ocids[0]}/cancellation", json={"reason": "Budget cut"}
        )
        assert cancelled.status_code == 200, cancelled.text
    await visible(stack, ocids[0], version=2)
    for ocid in ocids[1:]:
        await visible(stack, ocid)
    buyer = officer["agency_id"]
    async with stack.client() as public:

        async def listed(**params: Any) -> list[str]:
            response = await public.get("/tenders", params={"buyer": buyer, **params})
            assert response.status_code == 200, response.text
            return [t["ocid"] for t in response.json()["items"]]

        assert set(await listed()) == set(ocids)
        assert await listed(status="cancelled") == [ocids[0]]
        assert set(await listed(status="active")) == set(ocids[1:])
        assert set(await listed(cpv="45000000-7")) == set(ocids[2:4])
        assert set(await listed(cpv="30")) == set(ocids[:2])
        assert await listed(buyer="agency-nobody") == []

        seen: list[str] = []
        page = (await public.get("/tenders", params={"buyer": buyer, "limit": 2})).json()
        while True:
            seen += [t["ocid"] for t in page["items"]]
            if page["next"] is None:
                break
            page = (await public.get(page["next"])).json()
        assert sorted(seen) == sorted(ocids)
        assert len(seen) == len(set(seen))


async def test_amendments_are_their_own_events_and_extend_the_deadline(stack: Stack) -> None:
    """Wording, requirements and deadline changes are separate events; a significant change
    that leaves too little time pushes the deadline out as the rules require."""
    officer = await register_officer(stack)
    async with stack.client(officer["token"]) as client:
        ocid = (
            await client.post("/tenders", json=tender_body(deadline_in=timedelta(seconds=20)))
        ).json()["id"]
        wording = await client.patch(
            f"/tenders/{ocid}", json={"reason": "Typo", "title": "Office paper, A4"}
        )
        assert wording.status_code == 200, wording.text
        assert [e["type"] for e in wording.json()["events"]] == ["TenderDetailsAmended"]

        requirements = tender_body(amount="1500.00")["requirements"]
        before = datetime.now(UTC)
        change = await client.patch(
            f"/tenders/{ocid}", json={"reason": "More paper", "requirements": requirements}
        )
        assert change.status_code == 200, change.text
        assert [e["type"] for e in change.json()["events"]] == [
            "TenderRequirementsAmended",
            "TenderDeadlineExtended",
        ]
    tender = await visible(stack, ocid, version=4)
    assert tender["title"] == "Office paper, A4"
    assert tender["estimated_value"]["amount"] == "1500.00"
    deadline = datetime.fromisoformat(tender["submission_deadline"])
    assert deadline >= before + stack.settings.rules.minimum_period_after_significant_amendment
    assert tender["amendments"][-1]["required_by_rules"] is True
    assert [a["type"] for a in tender["amendments"]] == [
        "TenderDetailsAmended",
        "TenderRequirementsAmended",
        "TenderDeadlineExtended",
    ]


async def test_refusals_are_problems_that_change_nothing(stack: Stack) -> None:
    """Missing or wrong credentials, another agency's officer, bad values and late
    amendments get 4xx problem documents, and no event is recorded for any of them."""
    owner = await register_officer(stack)
    stranger = await register_officer(stack)
    async with stack.client(owner["token"]) as client:
        ocid = (
            await client.post("/tenders", json=tender_body(deadline_in=timedelta(seconds=1)))
        ).json()["id"]
    await visible(stack, ocid)
    before = await event_count(stack)
    past_deadline = tender_body(deadline_in=timedelta(seconds=-5))
    negative = tender_body(amount="-10.00")
    bad_cpv = tender_body(cpv="1234")
    refusals: list[tuple[str | None, str, str, Any, int, str | None]] = [
        (None, "POST", "/tenders", tender_body(), 401, "unauthenticated"),
        ("not-a-token", "POST", "/tenders", tender_body(), 401, "unauthenticated"),
        (owner["token"], "POST", "/tenders", past_deadline, 422, "deadline_in_past"),
        (owner["token"], "POST", "/tenders", negative, 422, "invalid_request"),
        (owner["token"], "POST", "/tenders", bad_cpv, 422, "invalid_request"),
        (owner["token"], "POST", "/tenders", {"title": 12}, 422, "invalid_request"),
        (
            stranger["token"],
            "PATCH",
            f"/tenders/{ocid}",
            {"reason": "Mine now", "title": "Stolen"},
            403,
            "not_allowed",
        ),
        (
            stranger["token"],
            "POST",
            f"/tenders/{ocid}/cancellation",
            {"reason": "No"},
            403,
            "not_allowed",
        ),
        (
            owner["token"],
            "PATCH",
            "/tenders/ocds-test00-nope",
            {"reason": "x", "title": "Nothing"},
            404,
            "not_found",
        ),
        (
            owner["token"],
            "POST",
            "/agencies",
            {"name": "Rogue", "identifier": "RO-1"},
            403,
            "not_allowed",
        ),
    ]
    await eventually(lambda: _deadline_passed(stack, ocid))
    refusals.append(
        (
            owner["token"],
            "PATCH",
            f"/tenders/{ocid}",
            {"reason": "Late", "title": "Too late"},
            409,
            None,
        )
    )
    for token, method, path, body, status, code in refusals:
        async with stack.client(token) as client:
            response = await client.request(method, path, json=body)
        assert response.status_code == status, (path, body, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["status"] == status
        assert problem["detail"]
        if code is not None:
            assert problem["code"] == code, problem
    negative_problem = None
    async with stack.client(owner["token"]) as client:
        negative_problem = (await client.post("/tenders", json=negative)).json()
    assert "greater than 0" in negative_problem["detail"]
    # Only the deadline may have added events meanwhile: the close and, with no bid, the end.
    closed = await stack.pool.fetchval(
        "SELECT count(*) FROM events WHERE aggregate_id = $1"
        " AND type IN ('TenderClosed', 'TenderUnsuccessful')",
        ocid,
    )
    assert await event_count(stack) == before + closed


async def _deadline_passed(stack: Stack, ocid: str) -> bool:
    deadline = await stack.pool.fetchval(
        "SELECT submission_deadline FROM tenders WHERE ocid = $1", ocid
    )
    return bool(deadline and deadline < datetime.now(UTC))


async def test_a_repeated_command_is_answered_once(stack: Stack) -> None:
    """The same Idempotency-Key returns the first answer and records nothing new; reused
    for a different request, it is refused."""
    officer = await register_officer(stack)
    key = str(uuid.uuid4())
    async with stack.client(officer["token"]) as client:
        body = tender_body()
        first = await client.post("/tenders", json=body, headers={"Idempotency-Key": key})
        again = await client.post("/tenders", json=body, headers={"Idempotency-Key": key})
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["events"] == again.json()["events"]
    assert again.json()["replayed"] is True
    async with stack.client(officer["token"]) as client:
        other = await client.post(
            "/tenders", json=tender_body(amount="2000.00"), headers={"Idempotency-Key": key}
        )
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    mine = await stack.pool.fetchval(
        "SELECT count(*) FROM events WHERE envelope->>'command_id' = $1", key
    )
    assert mine == 1


async def test_the_api_describes_itself(stack: Stack) -> None:
    """The OpenAPI description lists the tender routes."""
    async with stack.client() as public:
        spec = (await public.get("/openapi.json")).json()
    assert {"/tenders", "/tenders/{ocid}", "/agencies", "/officers"} <= set(spec["paths"])


async def test_operator_registrations_are_unique(stack: Stack) -> None:
    """An agency registers once per national registration number."""
    officer = await register_officer(stack, identifier="RO-CUI-777")
    assert officer["agency_id"] == "agency-RO-CUI-777"
    async with stack.client(OPERATOR_TOKEN) as operator:
        again = await operator.post("/agencies", json={"name": "Twin", "identifier": "RO-CUI-777"})
    assert again.status_code == 409


async def test_public_pages_show_notices_without_javascript(stack: Stack) -> None:
    """The home page lists a new tender and its notice page shows its lots and amendments,
    as plain HTML with no script, well under 100 KB."""
    officer = await register_officer(stack)
    async with stack.client(officer["token"]) as client:
        ocid = (await client.post("/tenders", json=tender_body())).json()["id"]
        await client.patch(
            f"/tenders/{ocid}", json={"reason": "Paper weight fixed", "title": "Office paper <A4>"}
        )
    await visible(stack, ocid, version=2)
    async with stack.client() as public:
        home = await public.get("/", params={"buyer": officer["agency_id"]})
        notice = await public.get(f"/notices/{ocid}")
        missing = await public.get("/notices/ocds-test00-none")
    for page in (home, notice):
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert "<script" not in page.text
        assert len(page.content) < 100_000
    assert f"/notices/{ocid}" in home.text
    assert "Office paper &lt;A4&gt;" in notice.text
    assert "Paper weight fixed" in notice.text
    assert "A4 paper box, 100 box (CPV 30197630-1)" in notice.text
    assert missing.status_code == 404
