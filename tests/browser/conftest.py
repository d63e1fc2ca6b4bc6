"""Fixtures for the browser tests: the real platform of the integration tests, and
Debian's Chromium driven headless by Playwright, with a fresh profile for each session.

Screenshots of what a citizen sees are kept under test-artifacts/screenshots/."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page, ViewportSize, async_playwright

from tests.integration.conftest import postgres_server, stack

__all__ = ["postgres_server", "stack"]  # the platform fixtures, shared with the integration tests

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).parents[2] / "test-artifacts" / "screenshots"
PHONE = ViewportSize(width=360, height=740)
MOST_BYTES = 100_000  # a page and what it loads, images aside, before compression


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    """Headless Chromium from Debian's package (./dev test installs it). Playwright gives
    each launch a fresh, temporary profile and removes it at the close."""
    if not CHROMIUM.exists():  # noqa: ASYNC240  # once, before the browser starts
        pytest.fail(f"{CHROMIUM} is missing: `./dev test` installs Debian's chromium package")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=ARGS, headless=True
        )
        yield launched
        await launched.close()


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    """A phone-sized window, as many citizens read the portal."""
    opened = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    yield opened
    await opened.close()


@pytest.fixture
async def page(context: BrowserContext) -> Page:
    return await context.new_page()


async def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


async def weight(page: Page) -> dict[str, Any]:
    """Bytes of the page and everything it loaded but images, uncompressed, and whether it
    fits the window's width (nothing scrolls sideways but the wide tables themselves)."""
    measured: dict[str, Any] = await page.evaluate(
        """() => {
            const entries = [
                ...performance.getEntriesByType("navigation"),
                ...performance.getEntriesByType("resource").filter(e => e.initiatorType !== "img"),
            ];
            return {
                bytes: entries.reduce((n, e) => n + e.decodedBodySize, 0),
                fits: document.documentElement.scrollWidth <= window.innerWidth,
            };
        }"""
    )
    return measured
