"""The HTML viewer in real headless Chromium with the network blocked."""

import json
import shutil
from pathlib import Path

import pytest
from playwright.async_api import async_playwright

from graph import graph
from graph.viewer import to_html
from tests.openai_server import FakeOpenAI, Fault

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
HOSTILE = "<script>alert(1)</script> & </script><b>bold</b>"
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium); CI installs it"
)


async def test_viewer_renders_offline_and_shows_a_clicked_node(
    fake_llm: FakeOpenAI, isolated_env: Path
) -> None:
    hostile_children = {
        "children": [
            {"name": "Hostile idea", "content": HOSTILE, "relationship": "r", "rationale": "w"},
            {"name": "Plain idea", "content": "Plain.", "relationship": "r", "rationale": "w"},
        ]
    }
    fake_llm.faults = [Fault(body=json.dumps(hostile_children))]
    output = await graph.ainvoke(
        {
            "customer": "Bakers",
            "product": "An oven",
            "children_count": 2,
            "generations_count_int": 2,
        }
    )
    page_file = isolated_env / "graph.html"
    page_file.write_text(to_html(output), encoding="utf-8")
    hostile = next(node for node in output["nodes"] if node["name"] == "Hostile idea")

    requests: list[str] = []
    dialogs: list[str] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = await browser.new_page(viewport={"width": 1400, "height": 900})
        page.on("dialog", lambda dialog: dialogs.append(dialog.message))

        async def block(route) -> None:
            if route.request.url.startswith("file://"):
                await route.continue_()
            else:
                requests.append(route.request.url)
                await route.abort()

        await page.route("**/*", block)
        await page.goto(page_file.as_uri())
        await page.wait_for_function("window.codreamer !== undefined")

        count = await page.evaluate("window.codreamer.nodes.length")
        shown_count = await page.text_content("#count")
        drawn = await page.evaluate("window.codreamer.network.body.data.nodes.length")
        x, y = await page.evaluate(
            """(id) => {
                const network = window.codreamer.network;
                const point = network.canvasToDOM(network.getPositions([id])[id]);
                const box = document.getElementById("graph").getBoundingClientRect();
                return [box.left + point.x, box.top + point.y];
            }""",
            hostile["id"],
        )
        await page.mouse.click(x, y)
        title = await page.text_content("#title")
        content = await page.text_content("#content")
        rationale = await page.text_content("#edges")
        await page.fill("#search", "plain idea")
        searched = await page.text_content("#title")
        await page.screenshot(path=str(isolated_env / "viewer.png"))
        injected = await page.evaluate("document.querySelectorAll('b').length")
        await browser.close()

    assert count == drawn == int(shown_count) == output["metadata"]["totalNodes"] == 8
    assert (title, content) == ("Hostile idea", HOSTILE)
    assert "Product Feature" not in rationale and "leads to" in rationale
    assert searched == "Plain idea"
    assert injected == 0 and dialogs == []
    assert requests == []
    assert (isolated_env / "viewer.png").stat().st_size > 10_000
