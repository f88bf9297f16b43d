"""Comparing two evaluations: the winner, a tie, the differences and the insights."""

import copy
from typing import Any

from evaluation import compare_evaluations, evaluate_graph
from tests.evaluation.graphs import edited, good_graph


def evaluation(overall: float, **scores: float) -> dict[str, Any]:
    """A minimal evaluation with the given scores."""
    return {
        "scores": {"quality": 0.5, "diversity": 0.5, **scores, "overall": overall},
        "summary": {"grade": "C"},
        "metadata": {"nodeCount": 14, "edgeCount": 21, "avgEdgesPerNode": 1.5},
        "details": {"diversity": {"nearDuplicatePairs": 0}},
        "evaluatedWith": {"embeddings": "local:all-MiniLM-L6-v2", "judgeModel": None, "version": 1},
    }


def test_the_higher_overall_wins_and_differences_are_second_minus_first() -> None:
    first = evaluation(0.6, quality=0.4, diversity=0.8)
    second = evaluation(0.75, quality=0.9, diversity=0.6)

    result = compare_evaluations(first, second, "Small model", "Big model")

    assert result["winner"] == "Big model"
    assert result["scoreDifferences"]["quality"] == {
        "graph1": 0.4,
        "graph2": 0.9,
        "difference": 0.5,
        "percentChange": 125.0,
    }
    assert result["scoreDifferences"]["diversity"]["difference"] == -0.2
    assert result["scoreDifferences"]["diversity"]["percentChange"] == -25.0
    assert result["scoreDifferences"]["overall"]["difference"] == 0.15
    insights = " ".join(result["insights"])
    assert "Big model wins overall by 0.15" in insights
    assert "Big model's biggest gain over Small model: quality 0.40 -> 0.90 (+0.50)." in insights
    assert "Big model's biggest loss to Small model: diversity 0.80 -> 0.60 (-0.20)." in insights
    assert compare_evaluations(second, first)["winner"] == "Graph 1"


def test_overall_scores_within_the_margin_tie() -> None:
    result = compare_evaluations(evaluation(0.70), evaluation(0.715))

    assert result["winner"] == "Tie"
    assert "tie" in result["insights"][0]


def test_a_zero_first_score_has_no_percent_change() -> None:
    result = compare_evaluations(evaluation(0.5, quality=0.0), evaluation(0.6, quality=0.3))

    assert result["scoreDifferences"]["quality"]["percentChange"] is None
    assert result["scoreDifferences"]["quality"]["difference"] == 0.3


def test_only_scores_in_both_are_compared() -> None:
    second = evaluation(0.8, grounding=0.9)

    result = compare_evaluations(evaluation(0.6), second)

    assert set(result["scoreDifferences"]) == {"quality", "diversity", "overall"}


async def test_a_good_graph_beats_one_with_duplicates() -> None:
    nodes, metadata = good_graph()
    good = await evaluate_graph(nodes, metadata)
    duplicated = copy.deepcopy(nodes)
    for node_id in ("stale-architecture-diagrams-b", "hidden-circular-calls-c"):
        duplicated = edited(
            duplicated,
            node_id,
            name="Queue wait time",
            content="Requests wait in message queues between services, and per-service "
            "metrics never show that time.",
        )
    worse = await evaluate_graph(duplicated, metadata)

    result = compare_evaluations(worse, good, "Duplicated", "Good")

    assert result["scoreDifferences"]["diversity"]["difference"] > 0.1
    assert "Near-duplicate pairs: 3 in Duplicated, 0 in Good." in result["insights"]
    assert "Duplicated has 14 nodes, Good 14." in result["insights"]
    assert any("Good's biggest gain over Duplicated: diversity" in i for i in result["insights"])
