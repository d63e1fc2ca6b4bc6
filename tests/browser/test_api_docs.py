"""/docs works in a real browser under its Content-Security-Policy, from the platform only."""

from playwright.async_api import Page

from tests.integration.stack import Stack


async def test_swagger_ui_renders_the_api_with_nothing_refused(stack: Stack, page: Page) -> None:
    """Swagger UI lists the routes; the browser refuses nothing and asks no other origin."""
    refusals: list[str] = []
    requested: list[str] = []
    page.on("console", lambda message: refusals.append(message.text))
    page.on("pageerror", lambda error: refusals.append(str(error)))
    page.on("request", lambda request: requested.append(request.url))
    await page.goto(stack.api_url + "/docs")
    await page.wait_for_selector("text=Publish Tender", timeout=15_000)
    assert [r for r in refusals if "Content Security Policy" in r or "Refused" in r] == []
    assert requested
    assert [url for url in requested if not url.startswith(stack.api_url)] == []
