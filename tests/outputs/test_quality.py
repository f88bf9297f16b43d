"""The quality report on graphs with known answers, and on a real dream."""

from core.state import CUSTOMER_JOB, PRODUCT_FEATURE
from graph import graph
from nodes.init_anchors import anchor
from outputs.quality import normalised, quality_report
from tests.support.openai_server import FakeOpenAI


def node(node_id: str, name: str, generation: int, parent: str, *targets: str) -> dict:
    edges = [{"target_id": t, "relationship": "r", "rationale": "w"} for t in targets]
    return {
        **anchor(node_id, name),
        "name": name,
        "generation": generation,
        "parent_id": parent,
        "edge": edges,
    }


def test_quality_report_on_a_constructed_graph() -> None:
    job = {**anchor(CUSTOMER_JOB, "job"), "edge": node("x", "x", 0, "", "a", "b")["edge"]}
    nodes = [
        job,
        anchor(PRODUCT_FEATURE, "product"),
        node("a", "Slow builds!", 1, CUSTOMER_JOB, "a1", "a2"),
        node("b", "slow  builds", 1, CUSTOMER_JOB, "b1"),
        node("a1", "Cache", 2, "a", PRODUCT_FEATURE),
        node("a2", "Parallel tests", 2, "a", PRODUCT_FEATURE),
        node("b1", "Cache", 2, "b"),
    ]

    report = quality_report(nodes, children_count=2, generations=2)

    # b1 has no link to the product, so b1 and its parent b reach nothing: 4 of 6 do.
    assert report["path_to_product"] == round(4 / 6, 4)
    # Customer Job and a have 2 children, b has 1.
    assert report["exact_k"] == round(2 / 3, 4)
    assert report["duplicate_sibling_labels"] == 1  # "Slow builds!" ~ "slow  builds"
    assert report["duplicate_labels"] == 2  # that pair, and "Cache" twice
    assert normalised("  Slow_Builds!! ") == "slow builds"


async def test_a_complete_dream_reaches_the_product_from_everywhere(fake_llm: FakeOpenAI) -> None:
    output = await graph.ainvoke(
        {
            "customer": "Bakers",
            "product": "An oven",
            "children_count": 3,
            "generations_count_int": 2,
        }
    )

    quality = output["metadata"]["quality"]
    assert quality["path_to_product"] == 1.0 and quality["exact_k"] == 1.0
    assert quality["duplicate_sibling_labels"] == 0
    assert quality["relevance"] is None  # only with CODREAMER_RELEVANCE=true
