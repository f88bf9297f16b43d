"""Cost per dream: the price table (or CODREAMER_PRICES) times the tokens the server counted."""

import json

import pytest

from core.settings import get_settings
from graph import graph
from tests.support.openai_server import FakeOpenAI

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
