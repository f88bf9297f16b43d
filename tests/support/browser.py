"""Debian's Chromium driven by Playwright for tests, with every request off one origin blocked,
and the web app at `/app/` opened in it against a live server."""

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.async_api import Dialog, Locator, Page, Route, async_playwright

from tests.support.live_server import LiveServer

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium); CI installs it"
)
HOSTILE_MARKUP = "<script>alert(1)</script> & </script><b>bold</b><img src=x onerror=alert(2)>"
"""Text that makes elements and runs script if it reaches a page as markup."""
SHOTS = Path("/tmp/webapp-shots")


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


@dataclass
class Seen:
    """What a page did while it was open: requests off the server (blocked), dialogs (dismissed
    unless `accept_dialogs`), and errors (uncaught, or logged to the console)."""

    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    accept_dialogs: bool = False


@asynccontextmanager
async def app_page(
    server: LiveServer, path: str = "/app/", width: int = 1400, height: int = 900
) -> AsyncIterator[tuple[Page, Seen]]:
    """The web app open at `path` in headless Chromium, started (`window.codreamerApp` set);
    only the server's origin is reachable."""
    seen = Seen()
    async with chromium_page(server.url + "/", seen.requests, width, height) as page:

        async def dialog(dialog: Dialog) -> None:
            seen.dialogs.append(dialog.message)
            if seen.accept_dialogs:
                await dialog.accept()
            else:
                await dialog.dismiss()

        page.on("dialog", dialog)
        page.on("pageerror", lambda error: seen.errors.append(str(error)))
        page.on(
            "console",
            lambda message: seen.errors.append(message.text) if message.type == "error" else None,
        )
        await page.goto(server.url + path)
        await page.wait_for_function("() => window.codreamerApp !== undefined", timeout=10_000)
        yield page, seen


def assert_clean(seen: Seen, *expected_statuses: int, dialogs: int = 0) -> None:
    """Nothing left the server's origin, `dialogs` dialogs opened (none unless told), and the
    page logged no error but Chromium's notes of the HTTP statuses the test asked for."""
    errors = [
        error
        for error in seen.errors
        if not any(f"status of {status}" in error for status in expected_statuses)
    ]
    assert seen.requests == []
    assert len(seen.dialogs) == dialogs, seen.dialogs
    assert errors == []


async def shot(target: Page | Locator, name: str) -> Path:
    """A screenshot of the page (whole) or of one element, as /tmp/webapp-shots/`name`.png."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    if isinstance(target, Page):
        await target.screenshot(path=str(path), full_page=True)
    else:
        await target.screenshot(path=str(path))
    return path
