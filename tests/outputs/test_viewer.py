"""The HTML viewer in real headless Chromium with the network blocked."""

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from playwright.async_api import Page

from core.workspace_layout import VIEWER_FILE
from graph import graph
from outputs.viewer import to_html
from tests.support.browser import chromium_page, needs_chromium
from tests.support.openai_server import FakeOpenAI, Fault

HOSTILE = "<script>alert(1)</script> & </script><b>bold</b>"
SCRIPT_BREAKER = "</script><script>alert(1)</script>"
COMMENT_OPENER = "<!--<script>"
pytestmark = needs_chromium


@dataclass
class Seen:
    """What a page tried while it was open: dialogs it raised, network requests it made."""

    dialogs: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


@asynccontextmanager
async def offline_page(page_file: Path) -> AsyncIterator[tuple[Page, Seen]]:
    """`page_file` open in headless Chromium with every non-file request blocked and recorded."""
    seen = Seen()
    async with chromium_page("file://", seen.requests) as page:
        page.on("dialog", lambda dialog: seen.dialogs.append(dialog.message))
        await page.goto(page_file.as_uri())
        await page.wait_for_function("() => window.codreamer !== undefined", timeout=10_000)
        yield page, seen


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

    async with offline_page(page_file) as (page, seen):
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

    assert count == drawn == int(shown_count) == output["metadata"]["totalNodes"] == 8
    assert (title, content) == ("Hostile idea", HOSTILE)
    assert "Product Feature" not in rationale and "leads to" in rationale
    assert searched == "Plain idea"
    assert injected == 0 and seen.dialogs == []
    assert seen.requests == []
    assert (isolated_env / "viewer.png").stat().st_size > 10_000


async def test_viewer_renders_every_node_when_texts_open_comments_and_end_scripts(
    fake_llm: FakeOpenAI,
) -> None:
    def children(answer: int) -> list[dict[str, str]]:
        """Two hostile children, told apart from their parent's (an answer that repeats its
        parent's text is asked again)."""
        return [
            {
                "name": f"{SCRIPT_BREAKER} {answer}.{number}",
                "content": f"{SCRIPT_BREAKER} <!-- {COMMENT_OPENER} {answer}",
                "relationship": SCRIPT_BREAKER,
                "rationale": f"line\u2028separator {SCRIPT_BREAKER} {answer}",
            }
            for number in (1, 2)
        ]

    fake_llm.faults = [
        Fault(body=json.dumps({"children": children(answer)})) for answer in range(3)
    ]
    output = await graph.ainvoke(
        {
            "customer": COMMENT_OPENER,
            "product": f"{SCRIPT_BREAKER} &amp; <!--",
            "children_count": 2,
            "generations_count_int": 2,
        }
    )
    page_file = Path(output["metadata"]["workspacePath"]) / VIEWER_FILE

    async with offline_page(page_file) as (page, seen):
        nodes = await page.evaluate("window.codreamer.nodes")
        drawn = await page.evaluate("window.codreamer.network.body.data.nodes.length")
        scripts = await page.evaluate("document.scripts.length")
        await page.evaluate("window.codreamer.show('Customer Job')")
        shown = await page.text_content("#content")

    assert page_file.read_text(encoding="utf-8") == to_html(output)
    assert nodes == output["nodes"] and drawn == len(nodes) == 8
    assert shown == COMMENT_OPENER
    grown = [node for node in nodes if node["parent_id"] is not None]
    assert len(grown) == 6 and all(node["content"].startswith(SCRIPT_BREAKER) for node in grown)
    assert scripts == 3 and seen.dialogs == [] and seen.requests == []
