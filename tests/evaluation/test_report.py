"""The evaluation's shape: the original's keys and ours, scores in [0, 1], the metadata, the
grade, and valid output for graphs with nothing grown."""

from typing import Any

import pytest

from core.state import CUSTOMER_JOB, PRODUCT_FEATURE, Node
from evaluation import EVALUATION_VERSION, evaluate_graph
from evaluation.report import overall
from evaluation.summary import grade
from tests.evaluation.graphs import CUSTOMER, PRODUCT, anchor, edited, good_graph

SCORES = {"completeness", "quality", "relationships", "diversity", "pathToProduct", "overall"}


def assert_shape(evaluation: dict[str, Any]) -> None:
    """The original's keys, with values of the right type and range, and our extras."""
    assert set(evaluation) >= {"scores", "summary", "metadata", "details", "evaluatedWith"}
    scores = evaluation["scores"]
    assert set(scores) - {"grounding"} == SCORES
    for value in scores.values():
        assert isinstance(value, float) and 0.0 <= value <= 1.0 and round(value, 4) == value
    summary = evaluation["summary"]
    assert set(summary) == {"grade", "strengths", "weaknesses", "recommendations"}
    assert summary["grade"] in {"A", "B", "C", "D", "F"}
    for name in ("strengths", "weaknesses", "recommendations"):
        assert all(isinstance(text, str) and text for text in summary[name])
    assert summary["recommendations"]
    assert set(evaluation["metadata"]) == {"nodeCount", "edgeCount", "avgEdgesPerNode"}
    details = evaluation["details"]
    assert {"nearDuplicates", "offTopic", "weakLinks", "copied"} <= set(details)
    assert evaluation["evaluatedWith"] == {
        "embeddings": "local:all-MiniLM-L6-v2",
        "judgeModel": None,
        "version": EVALUATION_VERSION,
    }


async def test_a_good_graph_evaluation_has_every_key_and_its_metadata() -> None:
    evaluation = await evaluate_graph(*good_graph())

    assert_shape(evaluation)
    # 2 anchors + 12 grown; 12 parent-to-child edges + 9 leaf-to-product ones.
    assert evaluation["metadata"] == {"nodeCount": 14, "edgeCount": 21, "avgEdgesPerNode": 1.5}
    assert evaluation["summary"]["strengths"]
    assert "grounding" not in evaluation["scores"]


async def test_a_bad_graph_evaluation_has_the_same_shape() -> None:
    nodes, metadata = good_graph()
    nodes = edited(nodes, "queue-wait-time-4", content="")
    nodes = edited(nodes, "cascading-failures-8", name="Sourdough", content="Bread rises.")

    evaluation = await evaluate_graph(nodes, metadata)

    assert_shape(evaluation)
    assert evaluation["summary"]["weaknesses"]


@pytest.mark.parametrize("metadata", [{"generations": 2, "childrenCount": 3}, {}])
async def test_an_anchors_only_graph_is_evaluated(metadata: dict[str, Any]) -> None:
    nodes: list[Node] = [anchor(CUSTOMER_JOB, CUSTOMER), anchor(PRODUCT_FEATURE, PRODUCT)]

    evaluation = await evaluate_graph(nodes, metadata)

    assert_shape(evaluation)
    assert all(value == 0.0 for value in evaluation["scores"].values())
    assert evaluation["summary"]["grade"] == "F"
    assert evaluation["summary"]["weaknesses"] == [
        "No nodes were grown: the graph holds only its anchors."
    ]
    assert evaluation["metadata"] == {"nodeCount": 2, "edgeCount": 0, "avgEdgesPerNode": 0.0}


async def test_an_empty_node_list_is_evaluated() -> None:
    evaluation = await evaluate_graph([], {})

    assert_shape(evaluation)
    assert evaluation["metadata"] == {"nodeCount": 0, "edgeCount": 0, "avgEdgesPerNode": 0.0}


async def test_weaknesses_name_the_culprits_and_counts() -> None:
    nodes, metadata = good_graph()
    nodes = edited(
        nodes,
        "slow-incident-resolution-9",
        name="Feeding the starter",
        content="A sourdough starter needs flour and water every day to stay active.",
    )

    weaknesses = (await evaluate_graph(nodes, metadata))["summary"]["weaknesses"]

    assert any(
        text.startswith("1 of 12 grown nodes is off topic, e.g. slow-incident-resolution-9 (0.")
        for text in weaknesses
    )


def test_the_overall_score_is_a_weighted_geometric_mean_with_a_floor() -> None:
    perfect = dict.fromkeys(SCORES - {"overall"}, 1.0)

    assert overall(perfect) == 1.0
    assert overall({**perfect, "quality": 0.0}) == overall({**perfect, "quality": 0.05})
    assert overall({**perfect, "quality": 0.0}) < 0.55  # one failed score sinks the grade
    assert overall({**perfect, "grounding": 0.5}) < overall(perfect)
    # Equal scores give that score, whatever the weights.
    assert overall(dict.fromkeys(perfect, 0.6)) == 0.6


@pytest.mark.parametrize(
    ("score", "letter"),
    [(0.9, "A"), (0.85, "A"), (0.84, "B"), (0.7, "B"), (0.6, "C"), (0.45, "D"), (0.39, "F")],
)
def test_grades(score: float, letter: str) -> None:
    assert grade(score) == letter


async def test_a_graph_without_a_single_edge_is_evaluated() -> None:
    nodes, metadata = good_graph()
    for node in nodes:
        node["edge"] = []

    evaluation = await evaluate_graph(nodes, metadata)

    assert_shape(evaluation)
    assert evaluation["scores"]["relationships"] == evaluation["scores"]["pathToProduct"] == 0.0
    assert evaluation["details"]["relationships"]["links"] == 0
    assert evaluation["metadata"]["edgeCount"] == 0
