"""The web app at `/app/` in real headless Chromium, against the real server (LLM = the
loopback fake, library on SQLite in the test's directory), with every request that is not
to the server blocked and recorded."""

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.async_api import expect

from core.settings import get_settings
from library import get_library
from tests.support.browser import HOSTILE_MARKUP, app_page, assert_clean, needs_chromium, shot
from tests.support.live_server import LiveServer
from tests.support.openai_server import FakeOpenAI, Fault
from webapp.routes import STATIC

SMALL: dict[str, Any] = {"children_count": 2, "generations_count_int": 2}
BAKERS: dict[str, Any] = {
    "customer": "Bakers who sell sourdough",
    "product": "A proofing oven",
    **SMALL,
}
NURSES: dict[str, Any] = {
    "customer": "Hospital nurses on night shifts",
    "product": "A shift app",
    **SMALL,
}
CAKES: dict[str, Any] = {
    "customer": "Bakers of wedding cakes",
    "product": "A cake decorating app",
    **SMALL,
}
NODES = 2 + 2 + 4  # anchors, then K=2 children and K*K=4 grandchildren
API_KEY = "webapp-secret"
pytestmark = needs_chromium


async def dream(server: LiveServer, body: dict[str, Any], key: str | None = None) -> str:
    """A dream run over the API (recorded in the library); its id."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    async with httpx.AsyncClient(base_url=server.url, timeout=60, headers=headers) as client:
        response = await client.post("/api/v1/dream", json=body)
        assert response.status_code == 200, response.text
        graph_id: str = response.json()["metadata"]["workspaceId"]
        return graph_id


async def searchable(server: LiveServer, *graph_ids: str) -> None:
    """Wait until the background indexing has these dreams' nodes."""
    deadline = time.monotonic() + 30
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        while time.monotonic() < deadline:
            stats = (await client.get("/api/v1/search/stats")).json()
            if {row["graphId"] for row in stats["graphBreakdown"]} >= set(graph_ids):
                return
            await asyncio.sleep(0.1)
    raise AssertionError(f"dreams {graph_ids} were not indexed in 30 s")


async def graph_record(server: LiveServer, graph_id: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        record: dict[str, Any] = (await client.get(f"/api/v1/graphs/{graph_id}")).json()
        return record


async def test_app_is_served_with_its_assets_and_health_stays_json(
    live_server: LiveServer,
) -> None:
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as client:
        health = await client.get("/")
        bare = await client.get("/app")
        index = await client.get("/app/")
        scripts = {
            path.name: await client.get(f"/app/static/{path.name}")
            for path in sorted(STATIC.glob("*.js"))
        }
        style = await client.get("/app/static/style.css")
        vis = await client.get("/app/vendor/vis-network.min.js")
        missing = await client.get("/app/static/nope.js")

    assert health.json()["status"] == "ok"
    assert (bare.status_code, bare.headers["location"]) == (308, "/app/")
    assert index.status_code == 200 and index.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in index.headers["content-security-policy"]
    assert "app.js" in scripts  # the entry module; it imports the others (ES modules)
    assert {
        name: (answer.status_code, "javascript" in answer.headers["content-type"])
        for name, answer in scripts.items()
    } == dict.fromkeys(scripts, (200, True))
    assert style.headers["content-type"].startswith("text/css")
    assert vis.status_code == 200 and "vis" in vis.text[:2000]
    assert missing.status_code == 404


async def test_a_dream_from_the_form_grows_live_then_draws_every_node(
    live_server: LiveServer, fake_llm: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fake_llm, "latency", 0.3)  # slow enough to see the count change
    async with app_page(live_server) as (page, seen):
        await page.evaluate(
            """() => {
                window.seenCounts = [];
                const count = document.querySelector('[data-testid="node-count"]');
                new MutationObserver(() => window.seenCounts.push(count.textContent))
                    .observe(count, { childList: true, characterData: true, subtree: true });
            }"""
        )
        await page.get_by_label("Customer", exact=True).fill(BAKERS["customer"])
        await page.get_by_label("Product", exact=True).fill(BAKERS["product"])
        await page.get_by_label("Children", exact=True).fill("2")
        await page.get_by_label("Generations", exact=True).fill("2")
        await page.get_by_role("button", name="Dream").click()
        await expect(page.get_by_role("button", name="Cancel")).to_be_enabled()
        await page.wait_for_function(
            "() => window.seenCounts.some((count) => Number(count) > 2)", timeout=20_000
        )
        await shot(page, "dream-running-1400")
        graph = page.get_by_test_id("graph")
        await expect(graph).to_have_attribute("data-node-count", str(NODES), timeout=30_000)
        await expect(page.locator("#run-status")).to_contain_text("Done: 8 nodes")
        counts = await page.evaluate("window.seenCounts")
        drawn = await page.evaluate("window.codreamerApp.network.body.data.nodes.length")
        calls = await page.text_content("#llm-calls")
        cost = await page.text_content("#cost")
        await page.get_by_test_id("node-search").fill("Customer Job")
        await page.get_by_test_id("node-item").first.click()
        detail = await page.get_by_test_id("node-detail").text_content()
        await shot(page, "dream-done-1400")

    numbers = [int(count) for count in counts]
    assert numbers == sorted(numbers) and len(set(numbers)) >= 3  # it grew in steps
    assert numbers[-1] == drawn == NODES
    assert int(calls or 0) == fake_llm.stats.calls > 0
    assert cost == "unknown"  # the fake model has no price
    assert detail is not None and BAKERS["customer"] in detail
    assert_clean(seen)


async def test_cancel_aborts_the_dream(
    live_server: LiveServer, fake_llm: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fake_llm, "latency", 1.0)
    async with app_page(live_server) as (page, seen):
        await page.get_by_label("Customer", exact=True).fill(NURSES["customer"])
        await page.get_by_label("Product", exact=True).fill(NURSES["product"])
        await page.get_by_role("button", name="Dream").click()
        await page.wait_for_function(
            "() => Number(document.querySelector('[data-testid=\"node-count\"]').textContent) >= 2"
        )
        await page.get_by_role("button", name="Cancel").click()
        await expect(page.locator("#run-status")).to_contain_text("Cancelled")
        await expect(page.get_by_role("button", name="Dream")).to_be_enabled()
        await asyncio.sleep(1.5)  # answers in flight arrive (latency 1 s)
        calls = fake_llm.stats.calls
        await asyncio.sleep(2.5)  # a dream still running would have asked the LLM again
        assert fake_llm.stats.calls == calls and fake_llm.stats.in_flight == 0
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as client:
        stored = (await client.get("/api/v1/graphs")).json()
    assert stored["total"] == 0  # the cancelled dream never finished
    assert_clean(seen)


async def test_a_failed_dream_shows_the_servers_reason(
    live_server: LiveServer, fake_llm: FakeOpenAI
) -> None:
    fake_llm.error_rate = 1.0  # every LLM answer is an HTTP 500
    async with app_page(live_server) as (page, seen):
        await page.get_by_label("Customer", exact=True).fill(BAKERS["customer"])
        await page.get_by_label("Product", exact=True).fill(BAKERS["product"])
        await page.get_by_role("button", name="Dream").click()
        status = page.locator("#run-status")
        await expect(status).to_contain_text("The dream failed", timeout=30_000)
        text = await status.text_content()
        await expect(page.get_by_role("button", name="Dream")).to_be_enabled()
    assert text is not None and ("(502)" in text or "(503)" in text), text
    assert_clean(seen)


async def test_mounting_twice_changes_nothing() -> None:
    from server import app
    from webapp.routes import mount_app

    before = len(app.router.routes)
    mount_app(app)
    assert len(app.router.routes) == before
    assert [getattr(r, "path", None) for r in app.router.routes].count("/app/static") == 1


async def test_dream_page_finds_a_node_and_shows_its_chain_from_the_customer_job(
    live_server: LiveServer, fake_llm: FakeOpenAI
) -> None:
    hostile_children = {
        "children": [
            {
                "name": "Hostile idea",
                "content": HOSTILE_MARKUP,
                "relationship": "r",
                "rationale": HOSTILE_MARKUP,
            },
            {"name": "Plain idea", "content": "Plain.", "relationship": "r", "rationale": "w"},
        ]
    }
    fake_llm.faults = [Fault(body=json.dumps(hostile_children))]
    graph_id = await dream(live_server, BAKERS)
    record = await graph_record(live_server, graph_id)
    by_id = {node["id"]: node for node in record["nodes"]}
    leaf = next(node for node in record["nodes"] if node["generation"] == 2)
    parent = by_id[leaf["parent_id"]]
    to_leaf = next(edge for edge in parent["edge"] if edge["target_id"] == leaf["id"])
    to_product = leaf["edge"][0]

    async with app_page(live_server, f"/app/#/graphs/{graph_id}") as (page, seen):
        graph = page.get_by_test_id("graph")
        await expect(graph).to_have_attribute("data-node-count", str(NODES))
        await expect(page.locator("#dream-title")).to_have_text(
            f"{BAKERS['customer']} → {BAKERS['product']}"
        )
        await page.get_by_test_id("node-search").fill(leaf["name"])
        await expect(page.get_by_test_id("node-item")).to_have_count(1)
        await page.get_by_test_id("node-item").click()
        detail = page.get_by_test_id("node-detail")
        await expect(detail).to_contain_text(leaf["content"])
        chain = await detail.text_content()
        await page.get_by_test_id("node-search").fill("hostile")
        await page.get_by_test_id("node-item").click()
        hostile_detail = await detail.text_content()
        quality = await page.locator("#quality").text_content()
        exports = await page.locator("#exports a").evaluate_all(
            "(links) => links.map((link) => link.getAttribute('href'))"
        )
        injected = await page.evaluate("document.querySelectorAll('main b, main img').length")
        width = await page.evaluate("document.scrollingElement.scrollWidth")
        await shot(page, "dream-page-1400")

        # A node that carries a verification gets its badge; only http(s) sources are links.
        verification = {
            "verified": True,
            "confidence": 0.8,
            "summary": HOSTILE_MARKUP,
            "sources": ["https://example.org/proof", "javascript:alert(3)"],
            "timestamp": "2026-01-01T00:00:00Z",
        }
        verified_id = "dream-20261129-000000-0000000f"
        get_library().record(
            {
                "nodes": [
                    {**node, "verification": verification} if node["id"] == leaf["id"] else node
                    for node in record["nodes"]
                ],
                "metadata": {**record["metadata"], "workspaceId": verified_id},
            }
        )
        await page.goto(f"{live_server.url}/app/#/graphs/{verified_id}?node={leaf['id']}")
        await expect(detail).to_contain_text(leaf["content"])
        badge = await page.get_by_test_id("verification-badge").text_content()
        sources = await detail.locator(".sources li").evaluate_all(
            "(items) => items.map((item) => [item.textContent, item.querySelector('a')?.href ?? null])"
        )
        verified_injected = await page.evaluate(
            "document.querySelectorAll('main b, main img').length"
        )

        # A shared link selects its node.
        await page.goto(f"{live_server.url}/app/#/graphs/{graph_id}?node={leaf['id']}")
        await expect(page.get_by_test_id("node-detail")).to_contain_text(leaf["content"])

        # An unknown dream says so.
        await page.goto(f"{live_server.url}/app/#/graphs/dream-20990101-000000-deadbeef")
        await expect(page.locator("#dream-status")).to_have_text(
            "No stored dream dream-20990101-000000-deadbeef."
        )

    assert chain is not None
    assert (
        chain.index("Customer Job")
        < chain.index(parent["name"])
        < chain.index(to_leaf["rationale"])
    )
    assert to_product["relationship"] in chain and to_product["rationale"] in chain
    assert "Product Feature" in chain
    assert hostile_detail is not None and hostile_detail.count(HOSTILE_MARKUP) == 2  # as text
    assert injected == verified_injected == 0
    assert badge == "Verified (confidence 80%)"
    assert width <= 1400
    assert sources == [
        ["https://example.org/proof", "https://example.org/proof"],
        ["javascript:alert(3)", None],
    ]
    assert quality is not None and "path to product" in quality
    assert exports == [
        f"/api/v1/dreams/{graph_id}/export?format={f}"
        for f in ("json", "graphml", "mermaid", "cypher", "html")
    ]
    assert_clean(seen, 404)  # Chromium logs the unknown dream's 404


async def test_library_filters_pages_and_deletes_with_confirmation(live_server: LiveServer) -> None:
    ids = {body["customer"]: await dream(live_server, body) for body in (BAKERS, NURSES, CAKES)}
    async with app_page(live_server) as (page, seen):
        await page.get_by_role("link", name="Library").click()
        rows = page.get_by_test_id("graph-row")
        await expect(rows).to_have_count(3)
        await page.get_by_label("Filter by customer").fill("bakers")
        await page.get_by_role("button", name="Filter").click()
        await expect(rows).to_have_count(2)
        await expect(page.locator("#page-info")).to_have_text("1-2 of 2")
        await shot(page, "library-1400")

        # Dismissed: nothing is deleted.
        await rows.filter(has_text=CAKES["customer"]).get_by_role("button", name="Delete").click()
        await expect(rows).to_have_count(2)
        seen.accept_dialogs = True
        await rows.filter(has_text=CAKES["customer"]).get_by_role("button", name="Delete").click()
        await expect(rows).to_have_count(1)
        await expect(rows).to_contain_text(BAKERS["customer"])
        await page.get_by_label("Filter by customer").fill("")
        await page.get_by_role("button", name="Filter").click()
        await expect(rows).to_have_count(2)
        await rows.filter(has_text=NURSES["customer"]).get_by_role("link").click()
        await expect(page.get_by_test_id("graph")).to_have_attribute("data-node-count", str(NODES))
        opened = page.url

    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as client:
        left = (await client.get("/api/v1/graphs")).json()
    assert {graph["id"] for graph in left["graphs"]} == {
        ids[BAKERS["customer"]],
        ids[NURSES["customer"]],
    }
    assert all(CAKES["customer"] in d for d in seen.dialogs)
    assert opened.endswith(f"#/graphs/{ids[NURSES['customer']]}")
    assert_clean(seen, dialogs=2)


async def test_library_pages_through_more_dreams_than_a_page(live_server: LiveServer) -> None:
    for number in range(11):
        await dream(live_server, {**BAKERS, "customer": f"Bakers {number}", **SMALL})
    async with app_page(live_server, "/app/#/library") as (page, seen):
        rows = page.get_by_test_id("graph-row")
        await expect(rows).to_have_count(10)
        await expect(page.get_by_role("button", name="Previous")).to_be_disabled()
        await page.get_by_role("button", name="Next").click()
        await expect(rows).to_have_count(1)
        await expect(page.locator("#page-info")).to_have_text("11-11 of 11")
        await expect(page.get_by_role("button", name="Next")).to_be_disabled()
    assert_clean(seen)


async def test_node_search_across_dreams_links_to_the_node(live_server: LiveServer) -> None:
    bakers, nurses = [await dream(live_server, body) for body in (BAKERS, NURSES)]
    await searchable(live_server, bakers, nurses)
    async with app_page(live_server, "/app/#/library") as (page, seen):
        await page.get_by_label("Idea to look for").fill(NURSES["customer"])
        await page.get_by_label("Minimum score").fill("0")
        await page.get_by_role("button", name="Search").click()
        hits = page.get_by_test_id("search-hit")
        await expect(hits.first).to_be_visible()
        top = hits.first.get_by_role("link")
        href = await top.get_attribute("href")
        name = await top.text_content()
        await shot(page, "search-1400")
        await top.click()
        await expect(page.get_by_test_id("graph")).to_have_attribute("data-node-count", str(NODES))
        await expect(page.get_by_test_id("node-detail")).to_contain_text(NURSES["customer"])
        heading = await page.get_by_test_id("node-detail").locator("h2").text_content()

    assert href == f"#/graphs/{nurses}?node=Customer%20Job"  # the nurses' own job ranks first
    assert heading == name == "Customer Job"
    assert_clean(seen)


@pytest.fixture
def api_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """CODREAMER_API_KEY set before the server starts (request it before `live_server`)."""
    monkeypatch.setenv("CODREAMER_API_KEY", API_KEY)
    get_settings.cache_clear()
    yield API_KEY


async def test_the_app_asks_for_the_api_key_once_and_refuses_a_wrong_one(
    api_key: str, live_server: LiveServer
) -> None:
    await dream(live_server, BAKERS, key=api_key)
    async with app_page(live_server, "/app/#/library") as (page, seen):
        key_input = page.get_by_label("API key", exact=True)
        await expect(key_input).to_be_visible()
        await expect(key_input).to_have_attribute("type", "password")
        await key_input.fill("not-the-key")
        await page.get_by_role("button", name="Use this key").click()
        await expect(page.get_by_role("alert")).to_contain_text("refused")
        await shot(page, "api-key-refused-1400")
        await key_input.fill(api_key)
        await page.get_by_role("button", name="Use this key").click()
        await expect(page.get_by_test_id("graph-row")).to_have_count(1)
        await expect(key_input).to_be_hidden()
        stored = await page.evaluate("sessionStorage.getItem('codreamer.apiKey')")

        # The key is kept: a dream from the form streams without asking again.
        await page.get_by_role("link", name="New dream").click()
        await page.get_by_label("Customer", exact=True).fill(NURSES["customer"])
        await page.get_by_label("Product", exact=True).fill(NURSES["product"])
        await page.get_by_role("button", name="Dream").click()
        await expect(page.get_by_test_id("graph")).to_have_attribute(
            "data-node-count", str(NODES), timeout=30_000
        )
        asked_again = await key_input.is_visible()

    assert stored == api_key and not asked_again
    assert_clean(seen, 401)  # Chromium logs each 401 answer as a console error


async def test_phone_width_has_no_horizontal_overflow(live_server: LiveServer) -> None:
    graph_id = await dream(live_server, {**BAKERS, "customer": "Bakers " + "sourdough" * 40})
    overflow: dict[str, int] = {}
    async with app_page(live_server, width=390, height=844) as (page, seen):
        views = {
            "new": "/app/#/",
            "library": "/app/#/library",
            "dream": f"/app/#/graphs/{graph_id}",
        }
        for name, path in views.items():
            await page.goto(live_server.url + path)
            await page.wait_for_function("() => window.codreamerApp !== undefined")
            if name == "library":
                await expect(page.get_by_test_id("graph-row")).to_have_count(1)
            if name == "dream":
                await expect(page.get_by_test_id("graph")).to_have_attribute(
                    "data-node-count", str(NODES)
                )
                await page.get_by_test_id("node-search").fill("Idea")
                await page.get_by_test_id("node-item").last.click()
            overflow[name] = await page.evaluate("document.scrollingElement.scrollWidth")
            await shot(page, f"{name}-390")

    assert all(width <= 390 for width in overflow.values()), overflow
    assert_clean(seen)
