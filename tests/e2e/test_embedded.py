"""The embedded model for real: SmolLM2 served in-process by xllamacpp, reached by ChatOpenAI."""

import pytest

from core.settings import get_settings
from core.state import CUSTOMER_JOB, PRODUCT_FEATURE
from graph import graph
from nodes.embedded_llm import embedded_model_path


def test_embedded_model_ships_in_the_wheel() -> None:
    path = embedded_model_path()

    assert path.suffix == ".gguf" and path.stat().st_size > 50_000_000


async def test_embedded_dream_runs_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODREAMER_MODEL", "embedded")
    get_settings.cache_clear()

    output = await graph.ainvoke(
        {
            "customer": "Small bakeries that need to plan tomorrow's bread",
            "product": "A demand forecasting app",
            "children_count": 2,
            "generations_count_int": 1,
        }
    )

    metadata = output["metadata"]
    assert metadata["model"] == "embedded:SmolLM2-135M-Instruct"
    assert metadata["totalNodes"] == 4
    assert metadata["cost_usd"] is None
    assert metadata["usage"]["llm_calls"] >= 2 and metadata["usage"]["output_tokens"] > 0
    grown = [node for node in output["nodes"] if node["id"] not in (CUSTOMER_JOB, PRODUCT_FEATURE)]
    assert all(node["content"].strip() and node["name"].strip() for node in grown)
    assert all(node["edge"][-1]["target_id"] == PRODUCT_FEATURE for node in grown)
