"""Cost per dream, and the history of past dreams (CLI and REST)."""

import json

import httpx
import pytest

from graph import graph
from graph.settings import get_settings
from tests.live_server import LiveServer
from tests.openai_server import FakeOpenAI
from tests.test_cli import run_cli

DREAM = {
    "customer": "Bakers",
    "product": "An oven",
    "children_count": 2,
    "generations_count_int": 2,
}


async def test_cost_comes_from_the_price_table_and_the_servers_tokens(
    fake_llm: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CODREAMER_PRICES", json.dumps({"fake-model": [2.0, 8.0]}))
    get_settings.cache_clear()

    output = await graph.ainvoke(DREAM)

    expected = (fake_llm.stats.input_tokens * 2.0 + fake_llm.stats.output_tokens * 8.0) / 1e6
    assert output["metadata"]["cost_usd"] == pytest.approx(expected, abs=1e-6)
    assert output["metadata"]["cost_usd"] > 0


async def test_cost_is_null_for_a_model_without_a_price(fake_llm: FakeOpenAI) -> None:
    output = await graph.ainvoke(DREAM)

    assert output["metadata"]["cost_usd"] is None


async def test_history_lists_finished_and_stopped_dreams(
    live_server: LiveServer, fake_llm: FakeOpenAI, isolated_env
) -> None:
    first = await graph.ainvoke(DREAM)
    second = await graph.ainvoke({**DREAM, "customer": "Florists"})
    (isolated_env / "workspaces" / "dream-00000000-000000-stopped").mkdir()

    listed = run_cli("list", "--json")
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        served = (await client.get("/api/v1/dreams")).json()
        one = await client.get(f"/api/v1/dreams/{first['metadata']['workspaceId']}")
        missing = await client.get("/api/v1/dreams/dream-nope")
        escaping = await client.get("/api/v1/dreams/..%2F..%2Fetc")

    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == served
    by_id = {item["id"]: item for item in served}
    assert by_id[first["metadata"]["workspaceId"]]["customer"] == "Bakers"
    assert by_id[second["metadata"]["workspaceId"]]["customer"] == "Florists"
    assert by_id[second["metadata"]["workspaceId"]]["nodes"] == 8
    assert by_id["dream-00000000-000000-stopped"]["status"] == "incomplete"
    assert [item["id"] for item in served] == sorted(by_id, reverse=True)
    assert one.status_code == 200 and one.json() == first
    assert missing.status_code == 404 and escaping.status_code == 404
