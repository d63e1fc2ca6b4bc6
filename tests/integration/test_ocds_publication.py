"""Open contracting data as the public reads it from the real stack: release and record
packages, the JSON Lines export, the live feed and the Atom feed, all fed by the streams
from procedures run through the API, and all valid by the OCDS validator, offline."""

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from xml.etree import ElementTree

import httpx
from hypothesis import HealthCheck, given, settings

from entrypoints.demo.story import Story
from entrypoints.http.ocds_extensions import FOLDER as EXTENSIONS_DIR
from publication import ocds
from schemas.commands import PublishTender
from schemas.events import AgencyRegistered, SupplierRegistered
from schemas.upcasting import read_envelope
from sdk.market import Market
from tests.integration.conftest import register_officer, tender_body
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
from tests.integration.stack import OPERATOR_TOKEN, Stack, eventually
from tests.ocds_validation import assert_valid
from tests.strategies import publish_commands

ATOM = "{http://www.w3.org/2005/Atom}"


def parse(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return json.loads(response.text, parse_float=Decimal)


async def record_of(client: httpx.AsyncClient, ocid: str) -> dict[str, Any] | None:
    """The procedure's record as the API serves it, once it has one."""
    response = await client.get(f"/ocds/records/{ocid}")
    if response.status_code == 404:
        return None
    record: dict[str, Any] = parse(response)["records"][0]
    return record


async def tags_of(client: httpx.AsyncClient, ocid: str) -> list[list[str]]:
    record = await record_of(client, ocid)
    return [release["tag"] for release in record["releases"]] if record else []


async def until_tagged(client: httpx.AsyncClient, ocid: str, tag: str) -> dict[str, Any]:
    """The record once a release of the procedure carries ``tag``."""

    async def tagged() -> dict[str, Any] | None:
        record = await record_of(client, ocid)
        if record and any(tag in release["tag"] for release in record["releases"]):
            return record
        return None

    return await eventually(tagged)


async def pages(client: httpx.AsyncClient, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every page of a paginated package, following the ``Link`` header's next."""
    found = []
    response = await client.get(path, params=params)
    while True:
        found.append(parse(response))
        if "next" not in response.links:
            return found
        response = await client.get(response.links["next"]["url"])


async def stored_equals_mapping(stack: Stack, ocid: str) -> bool:
    """The releases stored for ``ocid`` are exactly what the OCDS mapping writes from the
    procedure's whole history in the store, every event type included."""
    return not await release_differences(stack, ocid)


async def release_differences(stack: Stack, ocid: str) -> list[str]:
    """The ids of the releases stored for ``ocid`` that differ from what the OCDS mapping
    writes from the procedure's whole history, or that only one of them has."""
    rows = await stack.pool.fetch(
        "SELECT envelope FROM events WHERE aggregate_id = $1 OR aggregate_id LIKE $2"
        " ORDER BY position",
        ocid,
        f"{ocid}:%",
    )
    parties = {}
    for row in await stack.pool.fetch(
        "SELECT envelope FROM events WHERE type IN ('AgencyRegistered', 'SupplierRegistered')"
    ):
        event = read_envelope(row["envelope"]).event
        assert isinstance(event, AgencyRegistered | SupplierRegistered)
        info = ocds.party_info(event)
        parties[info.id] = info
    expected = ocds.releases([read_envelope(row["envelope"]) for row in rows], parties)
    stored = await stack.pool.fetch(
        "SELECT release::text AS release FROM releases WHERE ocid = $1 ORDER BY position", ocid
    )
    as_json = [json.loads(ocds.dumps(release), parse_float=Decimal) for release in expected]
    got = [json.loads(r["release"], parse_float=Decimal) for r in stored]
    # Releases of one transaction on two topics (an annulment and the contract cancelled with
    # it) are projected by two consumers and may be stored in either order: compared by id.
    stored_by_id = {release["id"]: release for release in got}
    written_by_id = {release["id"]: release for release in as_json}
    return sorted(
        release_id
        for release_id in stored_by_id.keys() | written_by_id.keys()
        if stored_by_id.get(release_id) != written_by_id.get(release_id)
    )


async def record_is_its_releases_compiled(stack: Stack, ocid: str) -> bool:
    """The stored record of ``ocid`` is, to the byte, its stored releases compiled in
    position order: what a restored platform compiles again from them."""
    record: str | None = await stack.pool.fetchval(
        "SELECT record::text FROM records WHERE ocid = $1", ocid
    )
    stored = await stack.pool.fetch(
        "SELECT release::text AS release FROM releases WHERE ocid = $1 ORDER BY position", ocid
    )
    releases = [json.loads(row["release"], parse_float=Decimal) for row in stored]
    return record == ocds.dumps(ocds.compile_record(releases))


# A tender's own life


async def test_a_tenders_record_is_its_stored_releases_compiled_from_the_first_on(
    stack: Stack,
) -> None:
    """A new tender's record is compiled from the release as its insert returned it, each
    later one from the releases read back: both are the stored releases compiled."""
    officer = await register_officer(stack)
    async with stack.client(officer["token"]) as client:
        ocid = (await client.post("/tenders", json=tender_body())).json()["id"]
        async with stack.client() as public:
            await until_tagged(public, ocid, "tender")
            assert await record_is_its_releases_compiled(stack, ocid)
            change = {"reason": "Clearer title", "title": "Office paper for 2027, recycled"}
            assert (await client.patch(f"/tenders/{ocid}", json=change)).status_code == 200
            await until_tagged(public, ocid, "tenderAmendment")
    assert await record_is_its_releases_compiled(stack, ocid)


async def test_a_published_amended_and_cancelled_tender_is_published_release_by_release(
    stack: Stack,
) -> None:
    """Publication, a new title, a later deadline and the cancellation each become a
    release, tagged with what changed, valid alone and as a record."""
    officer = await register_officer(stack)
    async with stack.client(officer["token"]) as client:
        body = tender_body(deadline_in=timedelta(days=40))
        ocid = (await client.post("/tenders", json=body)).json()["id"]
        later = (datetime.now(UTC) + timedelta(days=50)).isoformat()
        for change in (
            {"reason": "Clearer title", "title": "Office paper for 2027, recycled"},
            {"reason": "More time", "submission_deadline": later},
        ):
            amended = await client.patch(f"/tenders/{ocid}", json=change)
            assert amended.status_code == 200, amended.text
        cancelled = await client.post(
            f"/tenders/{ocid}/cancellation", json={"reason": "Budget withdrawn"}
        )
        assert cancelled.status_code == 200, cancelled.text
    async with stack.client() as public:
        record = await until_tagged(public, ocid, "tenderCancellation")
        assert [r["tag"] for r in record["releases"]] == [
            ["tender"],
            ["tenderAmendment"],
            ["tenderAmendment"],
            ["tenderCancellation"],
        ]
        compiled = record["compiledRelease"]
        assert compiled["tender"]["status"] == "cancelled"
        assert compiled["tender"]["title"] == "Office paper for 2027, recycled"
        assert compiled["buyer"]["id"] == officer["agency_id"]
        assert compiled["buyer"]["name"].startswith("Agency RO-CUI-")  # its registered name
        package = parse(await public.get(f"/ocds/records/{ocid}"))
        assert package["publisher"] == {"name": "Procurement platform"}
        assert package["uri"].endswith(f"/ocds/records/{ocid}")
        assert_valid(package)
        assert_valid(
            parse(await public.get("/ocds/releases", params={"buyer": officer["agency_id"]}))
        )
    assert await stored_equals_mapping(stack, ocid)


async def test_releases_and_records_are_stored_as_written_without_compression(
    stack: Stack,
) -> None:
    """PostgreSQL spends no CPU compressing a release or a record that fits a page on each
    write: they are kept in the row as written."""
    officer = await register_officer(stack)
    async with stack.client(officer["token"]) as client:
        ocid = (await client.post("/tenders", json=tender_body())).json()["id"]
    async with stack.client() as public:
        await until_tagged(public, ocid, "tender")
    stored = await stack.pool.fetch(
        "SELECT octet_length(release::text) AS size, pg_column_compression(release) AS how"
        " FROM releases WHERE ocid = $1 UNION ALL"
        " SELECT octet_length(record::text), pg_column_compression(record)"
        " FROM records WHERE ocid = $1",
        ocid,
    )
    assert len(stored) == 2
    assert all(row["size"] > 2000 for row in stored)  # past where PostgreSQL would compress
    assert [row["how"] for row in stored] == [None, None]


# Whole procedures


async def test_everything_a_whole_market_publishes_is_valid_ocds(stack: Stack) -> None:
    """Eight procedures of the demo market (sealed bids opened, bids disqualified and
    clarified, auctions, abnormally low prices justified, awards, a complaint dismissed, a
    lot cancelled, contracts signed, amended, paid and completed) published as release
    pages, record pages, one record per procedure and the JSON Lines export: all valid,
    and each procedure's stored releases exactly what the mapping writes from its history."""
    async with httpx.AsyncClient(base_url=stack.api_url, timeout=120) as http:
        story = Story(
            Market(http, OPERATOR_TOKEN),
            lambda _: None,
            suppliers=12,
            bidding_seconds=10.0,  # questions close 5 s before the deadline here
            suffix="-" + uuid.uuid4().hex[:6],
        )
        await story.play()
    ocids = [tender.ocid for tender in story.tenders]

    async def projected() -> bool:
        return all([await stored_equals_mapping(stack, ocid) for ocid in ocids]) and all(
            [await record_is_its_releases_compiled(stack, ocid) for ocid in ocids]
        )

    try:
        await eventually(projected, within=60)
    except AssertionError:
        differences = {ocid: await release_differences(stack, ocid) for ocid in ocids}
        raise AssertionError(f"releases unlike the mapping's: {differences}") from None
    async with stack.client() as public:
        release_pages = await pages(public, "/ocds/releases", limit=40)
        record_pages = await pages(public, "/ocds/records", limit=5)
        export = await public.get("/ocds/releases.jsonl")
        records = [parse(await public.get(f"/ocds/records/{ocid}")) for ocid in ocids]
    assert export.headers["content-type"] == "application/x-ndjson"
    exported = [json.loads(line, parse_float=Decimal) for line in export.text.splitlines()]
    for package in [*release_pages, *record_pages, *records]:
        assert_valid(package)
    assert_valid(
        ocds.release_package(
            exported,
            uri="https://example.ro/export",
            published_date=datetime.now(UTC),
            publisher="x",
            extensions_at=f"{stack.api_url}/ocds/extensions/",
        )
    )
    for record in records:
        assert_awards_are_their_winners_bids(record["records"][0]["compiledRelease"])
    async with stack.client() as public:
        await assert_extensions_served_as_vendored(public, release_pages[0]["extensions"])
    paged = [release for page in release_pages for release in page["releases"]]
    assert paged == exported  # every release once, in the same order
    assert {r["ocid"] for page in record_pages for r in page["records"]} >= set(ocids)
    tags = {tag for release in exported if release["ocid"] in ocids for tag in release["tag"]}
    assert tags >= {
        "tender",
        "tenderUpdate",
        "award",
        "awardUpdate",
        "contract",
        "contractAmendment",
        "implementation",
        "contractTermination",
    }


def assert_awards_are_their_winners_bids(compiled: dict[str, Any]) -> None:
    """Each standing award's value is the price its supplier offered for its lot (the
    auction's final price after an auction), in a bid the committee found valid."""
    offers = {
        (bid["tenderers"][0]["id"], bid["relatedLots"][0]): bid
        for bid in compiled["bids"]["details"]
        if "relatedLots" in bid
    }
    standing = [a for a in compiled["awards"] if a["status"] in ("pending", "active")]
    assert standing
    for award in standing:
        bid = offers[(award["suppliers"][0]["id"], award["relatedLots"][0])]
        assert (bid["status"], bid["value"]) == ("valid", award["value"])


async def assert_extensions_served_as_vendored(public: httpx.AsyncClient, urls: list[str]) -> None:
    """The API serves each extension a package declares, and the files it names, byte for
    byte as the validator applied them."""
    assert [url.rsplit("/", 2)[1] for url in urls] == list(ocds.EXTENSIONS)
    for url in urls:
        metadata = await public.get(url)
        assert (
            metadata.content
            == (EXTENSIONS_DIR / url.rsplit("/", 2)[1] / "extension.json").read_bytes()
        )
        base = url.removesuffix("extension.json")
        names = [
            "release-schema.json",
            *(f"codelists/{c}" for c in metadata.json().get("codelists", [])),
        ]
        for name in names:
            served = await public.get(base + name)
            assert served.status_code == 200
            assert served.content == (EXTENSIONS_DIR / url.rsplit("/", 2)[1] / name).read_bytes()
    missing = await public.get(urls[0].replace("extension.json", "codelists/nothing.csv"))
    assert missing.status_code == 404


async def open_two_bids(stack: Stack) -> tuple[str, Any, Any, dict[str, str]]:
    """A tender with two sealed bids, opened by its committee: the ocid, the buyer, the
    cheaper bidder first, and each bidder's bid id."""
    buyer = await buyer_with_committee(stack, size=2)
    ocid, tender_key, deadline = await sealed_tender(stack, buyer)
    cheap = await register_supplier(stack, "Ieftin SRL")
    dear = await register_supplier(stack, "Scump SA")
    bids = {}
    for bidder, amount in ((cheap, "880.00"), (dear, "960.00")):
        sealed = seal(bid_content(ocid, bidder.id, amount), tender_key, bidder)
        bids[bidder.id] = (await submit(stack, bidder, sealed)).json()["receipt"]["bid_id"]
    await until_sealed(stack, ocid, deadline)
    for member in buyer.members:
        assert (await hand_in(stack, member, ocid)).status_code == 200
    return ocid, buyer, (cheap, dear), bids


async def award_the_cheaper(stack: Stack, ocid: str, buyer: Any, bids: dict[str, str]) -> None:
    """The committee finds both bids admissible and the officer awards lot-1: to the cheaper."""
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


async def test_a_new_award_is_published_and_an_upheld_complaint_cancels_it(stack: Stack) -> None:
    """The award of an opened, evaluated tender appears as an ``award`` release naming the
    winner as supplier (so the streams keep the releases as events come), and a complaint
    upheld with the lot's cancellation appears as an ``awardCancellation``."""
    ocid, buyer, (cheap, dear), bids = await open_two_bids(stack)
    async with stack.client() as public:

        async def counted() -> dict[str, Any] | None:  # the closing is a tenderUpdate too
            record = await record_of(public, ocid)
            found = record and "numberOfTenderers" in record["compiledRelease"]["tender"]
            return record if found else None

        opened = await eventually(counted)
        assert opened["compiledRelease"]["tender"]["numberOfTenderers"] == 2
        assert "tenderers" not in opened["compiledRelease"]["tender"]  # not before the award
        assert "bids" not in opened["compiledRelease"]
    await award_the_cheaper(stack, ocid, buyer, bids)
    async with stack.client() as public:
        record = await until_tagged(public, ocid, "award")
        (award,) = record["compiledRelease"]["awards"]
        assert award["status"] == "pending"  # the standstill runs
        assert award["suppliers"] == [{"id": cheap.id, "name": "Ieftin SRL"}]
        assert award["value"] == {"amount": Decimal("880.00"), "currency": "RON"}
        offered = {
            bid["tenderers"][0]["name"]: (bid["status"], bid["value"]["amount"])
            for bid in record["compiledRelease"]["bids"]["details"]
        }
        assert offered == {
            "Ieftin SRL": ("valid", Decimal("880.00")),
            "Scump SA": ("valid", Decimal("960.00")),
        }
        by_supplier = parse(await public.get("/ocds/releases", params={"supplier": cheap.id}))
        assert [r["tag"] for r in by_supplier["releases"]] == [["award", "tenderUpdate"]]
        assert (
            parse(await public.get("/ocds/releases", params={"supplier": dear.id}))["releases"]
            == []
        )  # a loser is a tenderer, never a supplier

    async with stack.client(dear.token) as loser:
        complaint = await loser.post(
            f"/tenders/{ocid}/evaluation/complaints",
            json={"lot_id": "lot-1", "grounds": "The winner's price is abnormally low"},
        )
        assert complaint.status_code == 201, complaint.text
    async with stack.client(OPERATOR_TOKEN) as operator:
        body = {"name": "CNSC", "identifier": f"RO-CNSC-{uuid.uuid4().hex[:6]}"}
        review_body = (await operator.post("/agencies", json=body)).json()["id"]
        reviewer = await operator.post(
            "/officers",
            json={
                "agency_id": review_body,
                "name": "Maria Ionescu",
                "email": "maria@cnsc.ro",
                "role": "reviewer",
            },
        )
        assert reviewer.status_code == 201, reviewer.text
    async with stack.client(reviewer.json()["token"]) as review:
        upheld = await review.post(
            f"/tenders/{ocid}/evaluation/complaint-upholdings",
            json={"complaint_id": "complaint-1", "remedy": "cancel", "reason": "Unlawful terms"},
        )
        assert upheld.status_code == 201, upheld.text
    async with stack.client() as public:
        record = await until_tagged(public, ocid, "awardCancellation")
        compiled = record["compiledRelease"]
        assert compiled["awards"][0]["status"] == "cancelled"
        assert compiled["tender"]["status"] == "unsuccessful"
        assert_valid(parse(await public.get(f"/ocds/records/{ocid}")))
    assert await stored_equals_mapping(stack, ocid)


# Filters, pages, the live feed and the Atom feed


async def publish_tenders(stack: Stack, token: str, cpvs: list[str]) -> list[str]:
    """One tender of each CPV code, published in order; their ocids."""
    ocids = []
    async with stack.client(token) as client:
        for cpv in cpvs:
            answer = await client.post("/tenders", json=tender_body(cpv=cpv))
            assert answer.status_code == 201, answer.text
            ocids.append(answer.json()["id"])
    return ocids


async def test_releases_filter_by_buyer_cpv_status_tag_and_date_and_page_in_order(
    stack: Stack,
) -> None:
    """Each filter narrows the release package; pages follow one another through the
    ``next`` link without loss or repetition; records are listed by the same filters."""
    officer = await register_officer(stack)
    before = datetime.now(UTC)
    ocids = await publish_tenders(
        stack, officer["token"], ["30197630-1", "45210000-2", "30192700-8"]
    )
    async with stack.client() as public:  # tenders on other partitions may be projected later
        for ocid in ocids:
            await until_tagged(public, ocid, "tender")
    async with stack.client(officer["token"]) as client:
        cancelled = await client.post(
            f"/tenders/{ocids[1]}/cancellation", json={"reason": "No budget"}
        )
        assert cancelled.status_code == 200, cancelled.text
    buyer = officer["agency_id"]
    async with stack.client() as public:
        await until_tagged(public, ocids[1], "tenderCancellation")

        async def listed(**params: Any) -> list[tuple[str, list[str]]]:
            package = parse(await public.get("/ocds/releases", params={"buyer": buyer, **params}))
            return [(r["ocid"], r["tag"]) for r in package["releases"]]

        assert await listed() == [
            (ocids[0], ["tender"]),
            (ocids[1], ["tender"]),
            (ocids[2], ["tender"]),
            (ocids[1], ["tenderCancellation"]),
        ]
        assert await listed(cpv="30") == [(ocids[0], ["tender"]), (ocids[2], ["tender"])]
        assert await listed(cpv="3019763") == [(ocids[0], ["tender"])]
        assert await listed(cpv="45210000-2") == [
            (ocids[1], ["tender"]),
            (ocids[1], ["tenderCancellation"]),
        ]
        assert await listed(cpv=["3019763", "45210000-2"]) == [  # any of several codes
            (ocids[0], ["tender"]),
            (ocids[1], ["tender"]),
            (ocids[1], ["tenderCancellation"]),
        ]
        assert await listed(status="cancelled") == [(ocids[1], ["tenderCancellation"])]
        assert await listed(tag="tenderCancellation") == [(ocids[1], ["tenderCancellation"])]
        assert len(await listed(date_from=before.isoformat())) == 4
        assert await listed(date_to=before.isoformat()) == []

        paged = await pages(public, "/ocds/releases", buyer=buyer, limit=1)
        assert len(paged) == 4
        assert [p["releases"][0]["ocid"] for p in paged] == [o for o, _ in await listed()]
        records = await pages(public, "/ocds/records", buyer=buyer, limit=2)
        assert [len(p["records"]) for p in records] == [2, 1]
        assert sorted(r["ocid"] for p in records for r in p["records"]) == sorted(ocids)
        for package in [*paged, *records]:
            assert_valid(package)


async def test_bad_filters_and_cursors_are_refused_with_a_problem(stack: Stack) -> None:
    """A filter value or cursor the API cannot read gets a 422 problem saying what is wrong."""
    async with stack.client() as public:
        for path, params in (
            ("/ocds/releases", {"cpv": "thirty"}),
            ("/ocds/releases/live", {"cpv": ["45", "thirty"]}),
            ("/ocds/releases", {"status": "open"}),
            ("/ocds/releases", {"tag": "bid"}),
            ("/ocds/releases", {"date_from": "yesterday"}),
            ("/ocds/releases", {"date_from": "2030-01-02", "date_to": "2030-01-01"}),
            ("/ocds/releases", {"limit": 0}),
            ("/ocds/releases", {"cursor": "not a cursor"}),
            ("/ocds/records", {"cursor": "cmVsZWFzZXM6MTA"}),  # a release page's cursor
            ("/ocds/releases.atom", {"limit": 1000}),
            ("/ocds/releases.jsonl", {"supplier": "x" * 300}),
        ):
            refused = await public.get(path, params=params)
            assert refused.status_code == 422, (path, params, refused.text)
            assert refused.headers["content-type"] == "application/problem+json"
            assert refused.json()["detail"]
        missing = await public.get("/ocds/records/ocds-test00-1999-999999")
        assert missing.status_code == 404


async def next_event(lines: Any) -> dict[str, str]:
    """The next Server-Sent Event's fields, skipping comments."""
    event: dict[str, str] = {}
    async for line in lines:
        if not line:
            if event:
                return event
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(": ")
        event[name] = value
    raise AssertionError("the stream ended")


async def test_the_live_feed_pushes_new_releases_of_its_cpv_and_resumes_from_the_last_id(
    stack: Stack,
) -> None:
    """A follower of CPV 45 gets the tender of that division as it is recorded and not the
    others; reconnecting with ``Last-Event-ID`` replays what came after that id."""
    officer = await register_officer(stack)
    async with (
        stack.client() as public,
        public.stream("GET", "/ocds/releases/live", params={"cpv": "45"}) as live,
    ):
        assert live.headers["content-type"].startswith("text/event-stream")
        lines = live.aiter_lines()
        ocids = await publish_tenders(stack, officer["token"], ["30197630-1", "45210000-2"])
        event = await asyncio.wait_for(next_event(lines), 30)
        release = json.loads(event["data"])
        assert event["event"] == "release"
        assert (release["ocid"], release["tag"]) == (ocids[1], ["tender"])
        position = int(event["id"])
    async with (
        stack.client() as public,
        public.stream(
            "GET",
            "/ocds/releases/live",
            params={"cpv": "45"},
            headers={"Last-Event-ID": str(position - 1)},
        ) as resumed,
    ):
        replayed = await asyncio.wait_for(next_event(resumed.aiter_lines()), 30)
    assert replayed == event


async def test_the_atom_feed_lists_the_latest_releases_newest_first(stack: Stack) -> None:
    """The Atom feed parses as XML and has one entry per release, newest first, each with
    its tags and a link to its notice."""
    officer = await register_officer(stack)
    ocids = await publish_tenders(stack, officer["token"], ["30197630-1", "45210000-2"])
    async with stack.client() as public:
        await until_tagged(public, ocids[1], "tender")
        feed = await public.get(
            "/ocds/releases.atom", params={"buyer": officer["agency_id"], "limit": 5}
        )
    assert feed.status_code == 200, feed.text
    assert feed.headers["content-type"].startswith("application/atom+xml")
    root = ElementTree.fromstring(feed.content)
    assert root.tag == f"{ATOM}feed"
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 2
    links = [e.find(f"{ATOM}link[@rel='alternate']") for e in entries]
    assert [link.get("href", "").rsplit("/", 1)[1] for link in links if link is not None] == [
        ocids[1],
        ocids[0],
    ]
    for entry in entries:
        assert entry.findtext(f"{ATOM}title", "").startswith("Office paper for 2027")
        assert [c.get("term") for c in entry.findall(f"{ATOM}category[@label]")] == ["tender"]
        assert datetime.fromisoformat(entry.findtext(f"{ATOM}updated", ""))


async def test_generated_tenders_published_through_the_api_are_valid_ocds(stack: Stack) -> None:
    """Any tender the API accepts (hypothesis-generated lots, items, CPV codes, currencies,
    criteria and procedure types) is published as a valid release and record."""
    officer = await register_officer(stack)
    headers = {"Authorization": f"Bearer {officer['token']}"}

    @settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
    @given(command=publish_commands())
    def published_and_valid(command: PublishTender) -> None:
        body = command.model_dump(mode="json")
        answer = httpx.post(f"{stack.api_url}/tenders", json=body, headers=headers, timeout=30)
        assert answer.status_code == 201, answer.text
        url = f"{stack.api_url}/ocds/records/{answer.json()['id']}"
        for _ in range(500):
            record = httpx.get(url, timeout=30)
            if record.status_code == 200:
                break
            time.sleep(0.02)
        package = json.loads(record.text, parse_float=Decimal)
        assert_valid(package)
        compiled = package["records"][0]["compiledRelease"]
        assert compiled["tender"]["title"] == command.title
        assert compiled["tender"]["value"]["amount"] == command.requirements.estimated_value.amount

    # The API serves from this event loop, so the synchronous property runs in a thread.
    await asyncio.to_thread(published_and_valid)
