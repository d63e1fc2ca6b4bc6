"""Anonymous reads with never-seen query strings cannot grow the API's caches: the tender
list, a tender and its public notice page, each read with 200 different unknown parameters,
leave one kept page each, within the caches' byte budgets, and the API's memory flat."""

from typing import Any

import psutil
import pytest

from tests.integration.conftest import register_officer, tender_body
from tests.integration.stack import Stack, eventually

pytestmark = pytest.mark.integration

MIB = 1024 * 1024
DISTINCT = 200


def api_state(stack: Stack) -> Any:
    assert stack._server is not None
    app: Any = stack._server.config.app
    return app.state


async def published_tender(stack: Stack) -> str:
    """A tender the public can read: its ocid, once the read model shows it."""
    officer = await register_officer(stack)
    async with stack.client(officer["token"]) as client:
        published = await client.post("/tenders", json=tender_body())
    assert published.status_code == 201, published.text
    ocid: str = published.json()["id"]

    async def visible() -> bool | None:
        async with stack.client() as public:
            return (await public.get(f"/tenders/{ocid}")).status_code == 200 or None

    await eventually(visible)
    return ocid


async def test_unknown_query_strings_keep_no_new_pages(stack: Stack) -> None:
    """200 reads of each public page, each with a parameter never seen before, answer what
    the plain read answered and keep one page per cache, not 200."""
    ocid = await published_tender(stack)
    state = api_state(stack)
    process = psutil.Process()
    async with stack.client() as public:
        plain = {path: (await public.get(path)).content for path in (
            "/tenders", f"/tenders/{ocid}", f"/notices/{ocid}"
        )}  # fmt: skip
        rss_before = process.memory_info().rss
        for n in range(DISTINCT):
            for path, expected in plain.items():
                answer = await public.get(path, params={f"unknown{n}": "y" * 200})
                assert answer.status_code == 200, (path, answer.text[:200])
                assert answer.content == expected, path
        rss_growth = process.memory_info().rss - rss_before
    pages, notices = state.tender_pages, state.notice_cache
    assert len(pages) == 1
    assert len(notices) == 1
    assert pages._kept.used <= pages._kept.budget
    assert notices._kept.used <= notices._kept.budget
    assert notices._kept.used < 2 * len(plain[f"/notices/{ocid}"])
    assert rss_growth < 30 * MIB, f"the API grew by {rss_growth / MIB:.0f} MiB"
