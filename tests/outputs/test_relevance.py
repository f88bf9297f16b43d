"""Embedding relevance with the offline all-MiniLM-L6-v2 model, on graphs with known answers."""

import pytest

from core.settings import get_settings
from core.state import CUSTOMER_JOB, PRODUCT_FEATURE
from graph import graph
from nodes.init_anchors import anchor
from outputs.relevance import relevance
from tests.support.openai_server import FakeOpenAI


def idea(node_id: str, text: str, parent: str) -> dict:
    return {**anchor(node_id, text), "name": text, "generation": 1, "parent_id": parent}


def dream_graph(*children: str) -> list[dict]:
    nodes = [
        anchor(CUSTOMER_JOB, "Software teams running many microservices"),
        anchor(PRODUCT_FEATURE, "Distributed tracing and observability platform"),
    ]
    return nodes + [idea(f"c{n}", text, CUSTOMER_JOB) for n, text in enumerate(children)]


def test_on_topic_ideas_score_higher_than_off_topic_ones() -> None:
    on_topic = relevance(
        dream_graph("Tracing requests across microservices", "Finding slow services")
    )
    off_topic = relevance(dream_graph("Baking sourdough bread", "Knitting winter scarves"))

    assert on_topic["to_parent"] > off_topic["to_parent"] + 0.2
    assert on_topic["to_product"] > off_topic["to_product"] + 0.2
    assert all(-1.0 <= value <= 1.0 for value in (*on_topic.values(), *off_topic.values()))


async def test_relevance_reaches_the_metadata_when_asked(
    fake_llm: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CODREAMER_RELEVANCE", "true")
    get_settings.cache_clear()

    output = await graph.ainvoke(
        {
            "customer": "Bakers",
            "product": "An oven",
            "children_count": 2,
            "generations_count_int": 1,
        }
    )

    figures = output["metadata"]["quality"]["relevance"]
    assert set(figures) == {"to_parent", "to_product"}
    assert output["metadata"]["warnings"] == []
