"""A tender's documents and enquiries on the real services: the buyer uploads versioned
documents that anyone downloads without a token, byte for byte, with their SHA-256 in the
event log and in OCDS; suppliers ask in the enquiry period, the answers are public and
never name the asker."""

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from adapters.http_limits import HttpLimits
from tests.integration.conftest import register_officer, running_stack, tender_body
from tests.integration.market import (
    bid_content,
    buyer_with_committee,
    conclude_contract,
    hand_in,
    register_supplier,
    seal,
    sealed_tender,
    submit,
    until_sealed,
)
from tests.integration.stack import Stack, eventually
from tests.ocds_validation import assert_valid

MAX_DOCUMENT = 64 * 1024


@pytest.fixture(scope="module")
async def stack(
    postgres_server: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    """A platform whose documents may be at most 64 KiB, so that the limit is tried."""
    limits = replace(HttpLimits().raised(), max_document_bytes=MAX_DOCUMENT)
    async with running_stack(postgres_server, tmp_path_factory, http=limits) as platform:
        yield platform


async def published(stack: Stack, **fields: Any) -> tuple[dict[str, Any], str]:
    """A new buyer's officer and its tender, open for a minute."""
    officer = await register_officer(stack)
    body = tender_body(deadline_in=timedelta(minutes=1)) | fields
    async with stack.client(officer["token"]) as client:
        answer = await client.post("/tenders", json=body)
    assert answer.status_code == 201, answer.text
    return officer, answer.json()["id"]


async def upload(
    client: httpx.AsyncClient,
    ocid: str,
    content: bytes,
    path: str = "",
    media_type: str = "application/pdf",
    **query: Any,
) -> httpx.Response:
    params = {"title": "Caiet de sarcini", "file_name": "caiet.pdf"} | query
    return await client.post(
        f"/tenders/{ocid}/documents{path}",
        params=params,
        content=content,
        headers={"Content-Type": media_type},
    )


async def record(stack: Stack, ocid: str, has: Any) -> dict[str, Any]:
    """The procedure's OCDS record once its compiled release satisfies ``has``."""

    async def ready() -> dict[str, Any] | None:
        async with stack.client() as client:
            answer = await client.get(f"/ocds/records/{ocid}")
        if answer.status_code != 200:
            return None
        package: dict[str, Any] = answer.json()
        return package if has(package["records"][0]["compiledRelease"]) else None

    return await eventually(ready)


async def test_a_document_is_versioned_and_downloaded_by_anyone_exactly(stack: Stack) -> None:
    """Two versions: each downloads without a token as the exact bytes, with its SHA-256 as
    ETag, safe headers, and the digest in the event log and in the valid OCDS record."""
    officer, ocid = await published(stack)
    first, second = b"%PDF-1.7\n\x00\xffversion 1", b"%PDF-1.7\n\x00\xffversion 2"
    async with stack.client(officer["token"]) as client:
        uploaded = await upload(client, ocid, first)
        assert uploaded.status_code == 201, uploaded.text
        assert uploaded.json()["sha256"] == hashlib.sha256(first).hexdigest()
        documents = (await client.get(f"/tenders/{ocid}/documents")).json()["documents"]
        document_id = documents[0]["id"]
        unexplained = await upload(client, ocid, second, f"/{document_id}")
        assert unexplained.status_code == 422, unexplained.text  # a new version needs a reason
        amended = await upload(client, ocid, second, f"/{document_id}", reason="Lot 1 clarified")
        assert amended.status_code == 201, amended.text
    async with stack.client() as public:  # no token
        listed = (await public.get(f"/tenders/{ocid}/documents")).json()["documents"]
        versions = listed[0]["versions"]
        assert [v["sha256"] for v in versions] == [
            hashlib.sha256(first).hexdigest(),
            hashlib.sha256(second).hexdigest(),
        ]
        for content, version in zip((first, second), versions, strict=True):
            downloaded = await public.get(version["url"])
            assert downloaded.status_code == 200, downloaded.text
            assert downloaded.content == content
            assert downloaded.headers["etag"] == f'"{version["sha256"]}"'
            assert downloaded.headers["content-type"] == "application/pdf"
            assert downloaded.headers["x-content-type-options"] == "nosniff"
            assert downloaded.headers["content-disposition"].startswith("attachment;")
        latest = await public.get(f"/tenders/{ocid}/documents/{document_id}")
        assert latest.content == second
        unchanged = await public.get(
            f"/tenders/{ocid}/documents/{document_id}",
            headers={"If-None-Match": latest.headers["etag"]},
        )
        assert unchanged.status_code == 304
    logged = await stack.pool.fetch(
        "SELECT envelope->'event'->>'sha256' AS sha256 FROM events"
        " WHERE aggregate_id = $1 AND type = 'TenderDocumentPublished' ORDER BY sequence",
        ocid,
    )
    assert [row["sha256"] for row in logged] == [v["sha256"] for v in versions]
    package = await record(stack, ocid, lambda r: len(r["tender"].get("documents", [])) == 2)
    assert_valid(package)
    tender = package["records"][0]["compiledRelease"]["tender"]
    assert {d["sha256"] for d in tender["documents"]} == {v["sha256"] for v in versions}
    assert any(document_id in a["description"] for a in tender["amendments"])


async def test_a_hostile_file_name_and_media_type_are_made_harmless(stack: Stack) -> None:
    """A path-traversing, quote-breaking name is cut to a safe one, and HTML is served as
    bytes to save, never as a page."""
    officer, ocid = await published(stack)
    page = b"<script>alert(document.cookie)</script>"
    hostile = '../../etc/"passwd\r\n.html'
    async with stack.client(officer["token"]) as client:
        uploaded = await upload(client, ocid, page, media_type="text/html", file_name=hostile)
        assert uploaded.status_code == 201, uploaded.text
    async with stack.client() as public:
        [document] = (await public.get(f"/tenders/{ocid}/documents")).json()["documents"]
        [version] = document["versions"]
        assert version["file_name"] == "passwd.html"
        downloaded = await public.get(version["url"])
    assert downloaded.content == page
    assert downloaded.headers["content-type"] == "application/octet-stream"
    assert downloaded.headers["content-disposition"] == (
        "attachment; filename=\"passwd.html\"; filename*=UTF-8''passwd.html"
    )
    assert "sandbox" in downloaded.headers["content-security-policy"]


async def test_uploads_are_the_buyers_and_bounded(stack: Stack) -> None:
    """A document over the limit is 413; a supplier's upload is 403 and stores no byte."""
    officer, ocid = await published(stack)
    supplier = await register_supplier(stack)
    stored = "SELECT count(*) FROM document_contents"
    before = await stack.pool.fetchval(stored)
    async with stack.client(supplier.token) as client:
        refused = await upload(client, ocid, b"not the buyer's")
    assert refused.status_code == 403, refused.text
    async with stack.client(officer["token"]) as client:
        too_large = await upload(client, ocid, b"x" * (MAX_DOCUMENT + 1))
    assert too_large.status_code == 413, too_large.text
    assert too_large.json()["code"] == "too_large"
    assert await stack.pool.fetchval(stored) == before


async def test_a_question_answered_is_public_without_the_asker(stack: Stack) -> None:
    """The supplier asks, the buyer answers; anyone reads both, in the API and the valid
    OCDS record, and nothing names the supplier."""
    officer, ocid = await published(stack)
    supplier = await register_supplier(stack)
    question = {"title": "Paper weight", "description": "Is 75 g/m2 paper acceptable?"}
    async with stack.client(supplier.token) as client:
        asked = await client.post(f"/tenders/{ocid}/enquiries", json=question)
    assert asked.status_code == 201, asked.text
    async with stack.client(officer["token"]) as client:
        enquiry_id = (await client.get(f"/tenders/{ocid}/enquiries")).json()["enquiries"][0]["id"]
        answered = await client.post(
            f"/tenders/{ocid}/enquiries/{enquiry_id}/answer",
            json={"answer": "No: 80 g/m2, as the specification says."},
        )
    assert answered.status_code == 201, answered.text
    async with stack.client() as public:
        listed = await public.get(f"/tenders/{ocid}/enquiries")
    [shown] = listed.json()["enquiries"]
    assert shown["description"] == question["description"]
    assert shown["answer"] == "No: 80 g/m2, as the specification says."
    assert supplier.id not in listed.text
    package = await record(
        stack, ocid, lambda r: any("answer" in e for e in r["tender"].get("enquiries", []))
    )
    assert_valid(package)
    assert supplier.id not in json.dumps(package["records"][0]["compiledRelease"]["tender"])
    tender = package["records"][0]["compiledRelease"]["tender"]
    assert tender["hasEnquiries"] is True
    assert tender["enquiryPeriod"]["endDate"] < tender["tenderPeriod"]["endDate"]


async def test_a_question_after_the_enquiry_period_is_refused(stack: Stack) -> None:
    """Once questions close, asking is 409 enquiry_period_over and records nothing."""
    closes = datetime.now(UTC) + timedelta(seconds=2)
    _, ocid = await published(stack, enquiry_period_end=closes.isoformat())
    supplier = await register_supplier(stack)
    await asyncio.sleep(max(0.0, (closes - datetime.now(UTC)).total_seconds()) + 0.2)
    async with stack.client(supplier.token) as client:
        late = await client.post(
            f"/tenders/{ocid}/enquiries", json={"title": "Late one", "description": "Too late?"}
        )
    assert late.status_code == 409, late.text
    assert late.json()["code"] == "enquiry_period_over"
    asked = "SELECT count(*) FROM events WHERE aggregate_id = $1 AND type = 'EnquiryAsked'"
    assert await stack.pool.fetchval(asked, ocid) == 0


async def test_savings_compare_vat_with_vat(stack: Stack) -> None:
    """A lot won by a bid whose price includes VAT, against an estimate net of it, is left
    out of the sums and listed apart with the reason, and the OCDS estimate says its basis."""
    buyer = await buyer_with_committee(stack, size=2)
    ocid, material, deadline = await sealed_tender(
        stack, buyer, deadline_in=timedelta(seconds=8), standstill_days=0
    )
    bidder = await register_supplier(stack, "Cu TVA SRL")
    content = bid_content(ocid, bidder.id, "1190.00")
    offer = content.offers[0].model_copy(update={"value_added_tax_included": True})
    sealed = seal(content.model_copy(update={"offers": [offer]}), material, bidder)
    submitted = await submit(stack, bidder, sealed)
    assert submitted.status_code == 201, submitted.text
    bid_id = submitted.json()["receipt"]["bid_id"]
    await until_sealed(stack, ocid, deadline)
    for member in buyer.members:
        assert (await hand_in(stack, member, ocid)).status_code == 200
    async with stack.client(buyer.members[0].token) as officer:
        for step, body in (
            ("qualifications", {"bid_id": bid_id}),
            ("lot-completions", {"lot_id": "lot-1"}),
            ("awards", {"lot_id": "lot-1"}),
        ):
            done = await officer.post(f"/tenders/{ocid}/evaluation/{step}", json=body)
            assert done.status_code == 201, (step, done.text)
    await conclude_contract(stack, buyer.members[0], bidder, ocid)

    async def apart() -> dict[str, Any] | None:
        async with stack.client() as public:
            summary = (await public.get("/savings")).json()["currencies"].get("RON")
        listed = summary and [n for n in summary["not_comparable"] if n["ocid"] == ocid]
        return summary if listed else None

    summary = await eventually(apart)
    assert ocid not in {lot["ocid"] for lot in summary["lots"]}
    [reason] = [n["reason"] for n in summary["not_comparable"] if n["ocid"] == ocid]
    assert "the award includes VAT" in reason
    package = await record(stack, ocid, lambda r: "awards" in r)
    assert (
        package["records"][0]["compiledRelease"]["tender"]["value"]["valueAddedTaxIncluded"]
        is False
    )
