"""Dream evaluations in the web app, in real headless Chromium against the real server: the
Evaluation section of a dream's page, grades in the library, and two dreams compared. Every
request off the server is blocked and recorded; dreams are stored with `library.record`."""

import asyncio
import copy
import json
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, Route, expect

from core.settings import get_settings
from library import get_library
from tests.support.browser import HOSTILE_MARKUP, app_page, assert_clean, needs_chromium, shot
from tests.support.dreams import BAKERY_LINKED, linked_dream
from tests.support.live_server import LiveServer

UNKNOWN_ID = "dream-20990101-000000-deadbeef"
MALFORMED_ID = "%2E%2E"
"""`..` in a URL's fragment: not a dream id (422)."""
SCORES = ("completeness", "quality", "relationships", "diversity", "pathToProduct", "overall")
LABELS = {"label1": "Dream A", "label2": "Dream B"}
"""The labels the compare page asks the server for."""
SLOW = 60_000
"""ms: the first evaluation of a session loads the embedding model."""
TRACING_LINKED = linked_dream(
    "dream-20261104-080000-dddddddd",
    "Enterprise teams running microservices",
    "Distributed tracing platform",
    [
        (
            "Finding slow requests",
            "Engineers cannot find which of dozens of services makes a user request slow",
            "A request crosses many microservices, so its latency is not one service's fault",
        ),
        (
            "Debugging incidents",
            "On-call engineers spend hours locating the root cause of an outage across services",
            "A failure in one microservice surfaces as errors in many of the others",
        ),
        (
            "Mapping dependencies",
            "Architects lack an up-to-date map of which microservices call which",
            "Teams deploy their microservices independently, so the call graph keeps changing",
        ),
    ],
)
pytestmark = needs_chromium


def store(*outputs: dict[str, Any]) -> list[str]:
    """Record finished dreams in the library; their ids."""
    return [get_library().record(output)["id"] for output in outputs]


async def evaluation_over_http(server: LiveServer, graph_id: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.url, timeout=120) as client:
        return await client.post(f"/api/v1/eval/graph/{graph_id}")


async def comparison_over_http(server: LiveServer, body: dict[str, Any]) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.url, timeout=120) as client:
        return await client.post("/api/v1/eval/compare", json=body)


async def meters(page: Page) -> dict[str, float]:
    """Each score meter's value, by score name."""
    found: dict[str, str] = await page.locator("#evaluation meter").evaluate_all(
        "(all) => Object.fromEntries(all.map((m) => [m.dataset.testid.slice(6), m.getAttribute('value')]))"
    )
    return {name: float(value) for name, value in found.items()}


async def dom_injected(page: Page) -> int:
    """Elements hostile text would have made in the page had it gone in as markup."""
    count: int = await page.evaluate(
        "document.querySelectorAll('main b, main img, main script').length"
    )
    return count


async def test_evaluate_shows_the_grade_and_every_score_then_the_stored_one_on_reload(
    live_server: LiveServer,
) -> None:
    (graph_id,) = store(BAKERY_LINKED)
    held = asyncio.Event()

    async def hold(route: Route) -> None:  # keeps the evaluation in flight until released
        await held.wait()
        await route.fallback()

    async with app_page(live_server, f"/app/#/graphs/{graph_id}") as (page, seen):
        section = page.get_by_test_id("evaluation")
        await expect(section).to_be_visible()
        await expect(section).to_contain_text("Not evaluated yet")
        await expect(page.get_by_test_id("re-evaluate")).to_be_hidden()
        await page.route("**/api/v1/eval/graph/**", hold)
        await page.get_by_test_id("evaluate").click()
        await expect(page.get_by_test_id("evaluate")).to_be_disabled()
        await expect(section).to_have_attribute("aria-busy", "true")
        await expect(page.get_by_test_id("evaluation-status")).to_contain_text("Evaluating")
        held.set()
        await expect(page.get_by_test_id("grade")).to_be_visible(timeout=SLOW)
        await expect(section).to_have_attribute("aria-busy", "false")
        await page.unroute("**/api/v1/eval/graph/**", hold)
        grade = await page.get_by_test_id("grade").text_content()
        shown = await meters(page)
        labels = [
            await page.get_by_label(label, exact=True).get_attribute("data-testid")
            for label in ("Completeness", "Quality", "Path to product", "Overall")
        ]
        strengths = await page.get_by_test_id("strengths").locator("li").all_text_contents()
        weaknesses = await page.get_by_test_id("weaknesses").locator("li").all_text_contents()
        advice = await page.get_by_test_id("recommendations").locator("li").all_text_contents()
        facts = await page.get_by_test_id("evaluation-facts").text_content()
        await expect(page.get_by_test_id("evaluate")).to_be_hidden()
        await shot(section, "evaluation-1400")

        answer = (await evaluation_over_http(live_server, graph_id)).json()

        # Reloaded: the stored evaluation shows without asking for one.
        asked: list[str] = []
        page.on(
            "request",
            lambda request: asked.append(request.url) if "/eval/" in request.url else None,
        )
        await page.reload()
        await expect(page.get_by_test_id("grade")).to_have_text(grade or "?")
        await expect(page.get_by_test_id("evaluate")).to_be_hidden()
        reloaded = await meters(page)
        asked_on_reload = list(asked)

        # Re-evaluate asks for a new evaluation (refresh=true).
        async with page.expect_request("**/api/v1/eval/graph/**") as refreshed:
            await page.get_by_test_id("re-evaluate").click()
        await expect(page.get_by_test_id("evaluation-status")).to_have_text(
            f"Evaluated: grade {grade}.", timeout=SLOW
        )
        width = await page.evaluate("document.scrollingElement.scrollWidth")

    evaluation = answer["evaluation"]
    assert grade == evaluation["summary"]["grade"]
    assert shown == reloaded == evaluation["scores"]
    assert set(shown) == set(SCORES)  # no grounding: this dream was not verified
    assert labels == [
        f"score-{name}" for name in ("completeness", "quality", "pathToProduct", "overall")
    ]
    assert strengths == evaluation["summary"]["strengths"]
    assert weaknesses == evaluation["summary"]["weaknesses"]
    assert advice == evaluation["summary"]["recommendations"]
    assert facts is not None and "local:all-MiniLM-L6-v2" in facts and "Judge" in facts
    assert asked_on_reload == []  # the reload read the stored record only
    assert (await refreshed.value).url.endswith(f"/api/v1/eval/graph/{graph_id}?refresh=true")
    assert width <= 1400
    assert_clean(seen)


async def test_a_near_duplicate_or_off_topic_idea_links_to_its_node(
    live_server: LiveServer,
) -> None:
    (graph_id,) = store(BAKERY_LINKED)
    details = (await evaluation_over_http(live_server, graph_id)).json()["evaluation"]["details"]
    by_id = {node["id"]: node for node in BAKERY_LINKED["nodes"]}
    off_topic = details["offTopic"][0]
    pair = details["nearDuplicates"][0]

    async with app_page(live_server, f"/app/#/graphs/{graph_id}") as (page, seen):
        found = page.get_by_test_id("off-topic").get_by_test_id("node-link")
        await expect(found).to_have_count(len(details["offTopic"]))
        await expect(found.first).to_have_text(by_id[off_topic]["name"])
        await found.first.click()
        detail = page.get_by_test_id("node-detail")
        await expect(detail).to_contain_text(by_id[off_topic]["content"])
        selected = await page.evaluate("window.codreamerApp.network.getSelectedNodes()")
        url_after_off_topic = page.url

        twins = page.get_by_test_id("near-duplicates").get_by_test_id("node-link")
        await expect(twins).to_have_count(2 * len(details["nearDuplicates"]))
        await twins.nth(1).click()
        await expect(detail.locator("h2")).to_have_text(by_id[pair["b"]]["name"])
        weak = await page.get_by_test_id("weak-links").locator("li").all_text_contents()

        # The link in the URL is shareable: it opens the dream with that node selected.
        await page.goto(url_after_off_topic)
        await page.reload()
        await expect(detail).to_contain_text(by_id[off_topic]["content"])

    assert selected == [off_topic]
    assert url_after_off_topic.endswith(f"#/graphs/{graph_id}?node={off_topic}")
    assert all(
        link["reason"] in text for link, text in zip(details["weakLinks"], weak, strict=True)
    )
    assert_clean(seen)


async def test_a_judged_and_verified_dream_shows_its_judge_and_grounding(
    live_server: LiveServer,
) -> None:
    checks = {
        "idea-0": {"verified": True, "confidence": 0.9, "summary": "Found.", "sources": []},
        "idea-3": {"verified": False, "confidence": 0.1, "summary": "Not found.", "sources": []},
    }
    verified = copy.deepcopy(BAKERY_LINKED)
    verified["metadata"]["workspaceId"] = "dream-20261107-080000-abababab"
    for node in verified["nodes"]:
        if node["id"] in checks:
            node["verification"] = {**checks[node["id"]], "timestamp": "2026-11-07T08:00:00Z"}
    (graph_id,) = store(verified)
    evaluation = (await evaluation_over_http(live_server, graph_id)).json()["evaluation"]
    judge = {
        "model": "openai:gpt-4o-mini",
        "links": 8,
        "ratedLinks": 4,
        "unratedLinks": 0,
        "calls": 1,
        "cachedLinks": 0,
        "inputTokens": 1200,
        "outputTokens": 300,
        "costUsd": 0.0012,
        "lowRated": [{"source": "Customer Job", "target": "idea-3", "onTopic": 1, "connection": 2}],
        "lowRatedCount": 1,
    }
    judged = {**evaluation, "details": {**evaluation["details"], "judge": judge}}
    assert get_library().save_evaluation(graph_id, judged)  # as a judged evaluation is kept

    async with app_page(live_server, f"/app/#/graphs/{graph_id}") as (page, seen):
        await expect(page.get_by_test_id("grade")).to_have_text(evaluation["summary"]["grade"])
        grounding = await page.get_by_test_id("score-grounding").get_attribute("value")
        facts = await page.get_by_test_id("evaluation-facts").text_content()
        unverified = (
            await page.get_by_test_id("unverified")
            .get_by_test_id("node-link")
            .evaluate_all("(links) => links.map((link) => link.dataset.nodeId)")
        )
        low = await page.get_by_test_id("low-rated").locator("li").all_text_contents()
        await shot(page.get_by_test_id("evaluation"), "evaluation-judged-1400")

    assert grounding is not None and float(grounding) == evaluation["scores"]["grounding"] == 0.25
    assert unverified == evaluation["details"]["grounding"]["unverified"]
    assert facts is not None
    assert "openai:gpt-4o-mini" in facts and "$0.0012" in facts and "4 of 8" in facts
    assert low == ["Customer Job → Knitting patternson topic 1/5, connection 2/5"]
    assert_clean(seen)


async def test_library_shows_grades_and_compares_two_ticked_dreams(
    live_server: LiveServer,
) -> None:
    third = linked_dream(
        "dream-20261105-080000-eeeeeeee",
        "Nurses on night shifts",
        "A shift planning app",
        [("Swapping shifts", "Nurses trade night shifts by text message", "Rotas change weekly")],
    )
    bakery, tracing, _ = store(BAKERY_LINKED, TRACING_LINKED, third)
    graded = (await evaluation_over_http(live_server, tracing)).json()["evaluation"]

    async with app_page(live_server, "/app/#/library") as (page, seen):
        rows = page.get_by_test_id("graph-row")
        await expect(rows).to_have_count(3)
        grades = await page.get_by_test_id("graph-grade").all_text_contents()
        compare = page.get_by_role("button", name="Compare")
        await expect(compare).to_be_disabled()
        await page.get_by_role("checkbox", name="Compare Bakers").check()
        await expect(compare).to_be_disabled()
        await page.get_by_role("checkbox", name="Compare Enterprise").check()
        await expect(compare).to_be_enabled()
        await page.get_by_role("checkbox", name="Compare Nurses").check()
        await expect(compare).to_be_disabled()
        await expect(page.locator("#compare-pick")).to_contain_text("untick all but two")
        await page.get_by_role("checkbox", name="Compare Nurses").uncheck()
        await shot(page, "library-compare-1400")
        await compare.click()
        await expect(page.get_by_test_id("winner")).to_be_visible(timeout=SLOW)
        url = page.url
        winner = await page.get_by_test_id("winner").text_content()
        table = (
            await page.get_by_test_id("score-table")
            .locator("tbody tr")
            .evaluate_all(
                """(rows) => rows.map((row) => [
                row.dataset.testid.slice(8),
                ...[...row.querySelectorAll('td[data-value], span[data-value]')]
                    .map((cell) => cell.dataset.value),
            ])"""
            )
        )
        insights = await page.get_by_test_id("insights").locator("li").all_text_contents()
        cards = await page.locator(".compare-dream .title").all_text_contents()
        await shot(page, "compare-1400")
        await page.get_by_test_id("compare-b-link").click()
        await expect(page.locator("#dream-title")).to_have_text(
            "Enterprise teams running microservices → Distributed tracing platform"
        )

    body = {"graphId1": bakery, "graphId2": tracing, **LABELS}
    answer = (await comparison_over_http(live_server, body)).json()
    comparison = answer["comparison"]
    assert grades == [f"Grade {graded['summary']['grade']}"]  # only the evaluated dream
    assert url.endswith(f"#/compare/{bakery}/{tracing}")
    assert winner == comparison["winner"]
    expected = [
        [
            name,
            str(row["graph1"]),
            str(row["graph2"]),
            str(row["difference"]),
            "" if row["percentChange"] is None else str(row["percentChange"]),
        ]
        for name, row in comparison["scoreDifferences"].items()
    ]
    # the page shows the scores in its own order; numbers as JavaScript writes them
    assert sorted(table) == sorted(
        [[cell if not cell.endswith(".0") else cell[:-2] for cell in row] for row in expected]
    )
    assert table[0][0] == "overall"
    assert insights == comparison["insights"]
    assert cards == [
        f"{BAKERY_LINKED['nodes'][0]['content']} → {BAKERY_LINKED['nodes'][1]['content']}",
        "Enterprise teams running microservices → Distributed tracing platform",
    ]
    assert_clean(seen)


async def test_an_unknown_or_malformed_dream_shows_the_servers_reason(
    live_server: LiveServer,
) -> None:
    (known,) = store(BAKERY_LINKED)
    async with app_page(live_server, f"/app/#/graphs/{UNKNOWN_ID}") as (page, seen):
        await expect(page.locator("#dream-status")).to_have_text(f"No stored dream {UNKNOWN_ID}.")
        await page.get_by_test_id("evaluate").click()
        status = page.get_by_test_id("evaluation-status")
        await expect(status).to_contain_text("(404)", timeout=SLOW)
        evaluate_text = await status.text_content()
        await expect(page.get_by_test_id("evaluate")).to_be_enabled()

        await page.goto(f"{live_server.url}/app/#/compare/{known}/{UNKNOWN_ID}")
        compare_status = page.get_by_test_id("compare-status")
        await expect(compare_status).to_contain_text("(404)", timeout=SLOW)
        unknown_text = await compare_status.text_content()
        await page.goto(f"{live_server.url}/app/#/compare/{known}/{MALFORMED_ID}")
        await expect(compare_status).to_contain_text("(422)")
        malformed_text = await compare_status.text_content()
        await shot(page, "compare-422-1400")

    unknown = await evaluation_over_http(live_server, UNKNOWN_ID)
    compared = await comparison_over_http(
        live_server, {"graphId1": known, "graphId2": UNKNOWN_ID, **LABELS}
    )
    malformed = await comparison_over_http(
        live_server, {"graphId1": known, "graphId2": "..", **LABELS}
    )
    assert unknown.status_code == compared.status_code == 404
    assert malformed.status_code == 422
    assert evaluate_text == f"The evaluation failed (404): {unknown.json()['detail']}"
    assert unknown_text == f"Could not compare the dreams (404): {compared.json()['detail']}"
    problem = malformed.json()["detail"][0]
    assert malformed_text is not None and problem["msg"] in malformed_text
    assert "graphId2" in malformed_text
    assert_clean(seen, 404, 422)


async def test_an_unavailable_judge_shows_the_503_reason_and_keeps_the_evaluation(
    live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    (graph_id,) = store(BAKERY_LINKED)
    stored = (await evaluation_over_http(live_server, graph_id)).json()["evaluation"]
    monkeypatch.setenv("CODREAMER_JUDGE_MODEL", "nosuchprovider:judge")
    get_settings.cache_clear()
    async with app_page(live_server, f"/app/#/graphs/{graph_id}") as (page, seen):
        await expect(page.get_by_test_id("grade")).to_have_text(stored["summary"]["grade"])
        await page.get_by_test_id("re-evaluate").click()
        status = page.get_by_test_id("evaluation-status")
        await expect(status).to_contain_text("(503)", timeout=SLOW)
        text = await status.text_content()
        grade_after = await page.get_by_test_id("grade").text_content()
        await expect(page.get_by_test_id("re-evaluate")).to_be_enabled()

    refused = await evaluation_over_http(live_server, graph_id)
    assert refused.status_code == 503
    assert text == f"The evaluation failed (503): {refused.json()['detail']}"
    assert grade_after == stored["summary"]["grade"]  # the stored evaluation stays shown
    assert_clean(seen, 503)


async def test_hostile_text_in_a_dream_and_its_comparison_is_shown_as_text(
    live_server: LiveServer,
) -> None:
    hostile = linked_dream(
        "dream-20261106-080000-ffffffff",
        HOSTILE_MARKUP,
        "A proofing oven with a phone app",
        [
            (
                "Dough rises too slowly",
                "Cold mornings slow sourdough fermentation",
                "Cold kitchens",
            ),
            (
                HOSTILE_MARKUP,
                "Knitting wool colours for winter scarves " + HOSTILE_MARKUP,
                HOSTILE_MARKUP,
            ),
        ],
    )
    bakery, bad = store(BAKERY_LINKED, hostile)

    async def hostile_insights(route: Route) -> None:
        response = await route.fetch()
        answer = await response.json()
        answer["comparison"]["insights"].append(HOSTILE_MARKUP)
        await route.fulfill(response=response, body=json.dumps(answer))

    async with app_page(live_server, f"/app/#/graphs/{bad}") as (page, seen):
        await page.get_by_test_id("evaluate").click()
        await expect(page.get_by_test_id("grade")).to_be_visible(timeout=SLOW)
        evaluation_text = await page.get_by_test_id("evaluation").text_content()
        title = await page.locator("#dream-title").text_content()
        injected_on_dream = await dom_injected(page)

        await page.route("**/api/v1/eval/compare", hostile_insights)
        await page.goto(f"{live_server.url}/app/#/compare/{bakery}/{bad}")
        await expect(page.get_by_test_id("winner")).to_be_visible(timeout=SLOW)
        insights = await page.get_by_test_id("insights").locator("li").all_text_contents()
        card = await page.get_by_test_id("compare-b").text_content()
        injected_on_compare = await dom_injected(page)

    assert title == f"{HOSTILE_MARKUP} → A proofing oven with a phone app"
    assert evaluation_text is not None and HOSTILE_MARKUP in evaluation_text  # the off-topic idea
    assert insights[-1] == HOSTILE_MARKUP
    assert card is not None and HOSTILE_MARKUP in card
    assert injected_on_dream == injected_on_compare == 0
    assert_clean(seen)


async def test_phone_width_evaluation_and_compare_pages_do_not_overflow(
    live_server: LiveServer,
) -> None:
    bakery, tracing = store(BAKERY_LINKED, TRACING_LINKED)
    await evaluation_over_http(live_server, bakery)
    widths: dict[str, int] = {}
    async with app_page(live_server, f"/app/#/graphs/{bakery}", 390, 844) as (page, seen):
        await expect(page.get_by_test_id("grade")).to_be_visible()
        await page.locator(".figures summary").click()
        widths["dream"] = await page.evaluate("document.scrollingElement.scrollWidth")
        await shot(page.get_by_test_id("evaluation"), "evaluation-390")
        await page.get_by_test_id("off-topic").get_by_test_id("node-link").first.click()
        await expect(page.get_by_test_id("node-detail")).to_contain_text("Knitting")
        in_view = await page.get_by_test_id("node-detail").evaluate(
            "(detail) => detail.getBoundingClientRect().top < window.innerHeight"
        )

        await page.goto(f"{live_server.url}/app/#/library")
        await expect(page.get_by_test_id("graph-row")).to_have_count(2)
        widths["library"] = await page.evaluate("document.scrollingElement.scrollWidth")
        await shot(page, "library-graded-390")

        await page.goto(f"{live_server.url}/app/#/compare/{bakery}/{tracing}")
        await expect(page.get_by_test_id("winner")).to_be_visible(timeout=SLOW)
        widths["compare"] = await page.evaluate("document.scrollingElement.scrollWidth")
        table_fits = await page.get_by_test_id("score-table").evaluate(
            "(table) => table.scrollWidth <= table.parentElement.clientWidth"
        )
        await shot(page, "compare-390")

    assert all(width <= 390 for width in widths.values()), widths
    assert table_fits and in_view
    assert_clean(seen)
