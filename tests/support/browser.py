"""Debian's Chromium driven by Playwright for tests, with every request off one origin blocked."""

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from playwright.async_api import Page, Route, async_playwright

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium); CI installs it"
)


@asynccontextmanager
async def chromium_page(
    allowed: str, blocked: list[str], width: int = 1400, height: int = 900
) -> AsyncIterator[Page]:
    """A headless Chromium page that reaches only URLs starting with `allowed`; every other
    request is aborted and its URL appended to `blocked`."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = await browser.new_page(viewport={"width": width, "height": height})

        async def block(route: Route) -> None:
            if route.request.url.startswith(allowed):
                await route.continue_()
            else:
                blocked.append(route.request.url)
                await route.abort()

        await page.route("**/*", block)
        try:
            yield page
        finally:
            await browser.close()
