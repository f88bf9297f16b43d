"""Each score on a good graph and on a graph spoilt the way it should catch: the score falls by
a clear margin and the details name the culprits (real MiniLM embeddings)."""

import copy
from typing import Any

import pytest

from core.state import CUSTOMER_JOB, PRODUCT_FEATURE, Node
from evaluation import evaluate_graph, links
from tests.evaluation.graphs import (
    CUSTOMER,
    IDEAS,
    LEAVES,
    PRODUCT,
    build_graph,
    by_id,
    edited,
    good_graph,
    with_rationale,
)

MARGIN = 0.1
"""How far a spoilt graph's score falls below the good graph's, at least."""
SOURDOUGH = {
    "unexplained-tail-latency-6": (
        "Feeding the starter",
        "A sourdough starter needs flour and water every day to stay active.",
    ),
    "hidden-circular-calls-c": (
        "Scoring the loaves",
        "Bakers cut the top of each loaf so the bread opens evenly in the oven.",
    ),
}


async def evaluate(nodes: list[Node], metadata: dict[str, Any]) -> dict[str, Any]:
    return await evaluate_graph(nodes, metadata)


async def test_the_good_graph_scores_high_everywhere() -> None:
    evaluation = await evaluate(*good_graph())

    scores, details = evaluation["scores"], evaluation["details"]
    assert scores["completeness"] == 1.0 and scores["pathToProduct"] == 1.0
    assert min(scores["quality"], scores["relationships"], scores["diversity"]) > 0.75
    assert details["offTopic"] == details["copied"] == details["weakLinks"] == []
    assert details["nearDuplicates"] == []
    assert evaluation["summary"]["grade"] == "A"
    assert evaluation["summary"]["weaknesses"] == []


async def test_off_topic_children_lower_quality_and_are_listed() -> None:
    nodes, metadata = good_graph()
    good = await evaluate(nodes, metadata)
    for node_id, (name, content) in SOURDOUGH.items():
        nodes = edited(nodes, node_id, name=name, content=content)

    bad = await evaluate(nodes, metadata)

    assert bad["scores"]["quality"] < good["scores"]["quality"] - MARGIN
    assert set(bad["details"]["offTopic"]) == set(SOURDOUGH)
    assert bad["details"]["quality"]["offTopicCount"] == 2
    assert any("2 of 12 grown nodes are off topic" in w for w in bad["summary"]["weaknesses"])
    assert any("CODREAMER_MODEL" in r for r in bad["summary"]["recommendations"])


async def test_duplicate_ideas_lower_diversity_and_the_pairs_are_listed() -> None:
    nodes, metadata = good_graph()
    good = await evaluate(nodes, metadata)
    queue = by_id(nodes)["queue-wait-time-4"]
    # A copy in another branch (same name and content), and a sibling in other words.
    nodes = edited(
        nodes, "stale-architecture-diagrams-b", name=queue["name"], content=queue["content"]
    )
    nodes = edited(
        nodes,
        "slow-database-queries-5",
        name="Time spent in queues",
        content="Requests sit in message queues between services, which per-service metrics "
        "do not show.",
    )

    bad = await evaluate(nodes, metadata)

    assert bad["scores"]["diversity"] < good["scores"]["diversity"] - MARGIN
    pairs = {(pair["a"], pair["b"]) for pair in bad["details"]["nearDuplicates"]}
    assert ("queue-wait-time-4", "stale-architecture-diagrams-b") in pairs
    assert ("queue-wait-time-4", "slow-database-queries-5") in pairs
    first = bad["details"]["nearDuplicates"][0]
    assert first["similarity"] >= 0.99  # the exact copy comes first
    diversity = bad["details"]["diversity"]
    assert diversity["nearDuplicatePairs"] == 3 and diversity["duplicateNodes"] == 3
    assert diversity["siblingSpread"] < good["details"]["diversity"]["siblingSpread"]
    assert any("3 near-duplicate pairs" in w for w in bad["summary"]["weaknesses"])


async def test_equal_contents_under_other_names_are_duplicates() -> None:
    nodes, metadata = good_graph()
    content = by_id(nodes)["cascading-failures-8"]["content"]
    nodes = edited(nodes, "hidden-circular-calls-c", content=content)

    evaluation = await evaluate(nodes, metadata)

    assert evaluation["details"]["nearDuplicates"][0]["a"] == "cascading-failures-8"
    assert evaluation["details"]["nearDuplicates"][0]["b"] == "hidden-circular-calls-c"


async def test_empty_or_trivial_rationales_lower_relationships_and_are_listed() -> None:
    nodes, metadata = good_graph()
    good = await evaluate(nodes, metadata)
    emptied = [
        (CUSTOMER_JOB, "finding-slow-requests-1", ""),
        ("finding-slow-requests-1", "queue-wait-time-4", "   "),
        ("queue-wait-time-4", PRODUCT_FEATURE, ""),
        ("mapping-service-dependencies-3", "stale-architecture-diagrams-b", "Because."),
    ]
    for source, target, rationale in emptied:
        nodes = with_rationale(nodes, source, target, rationale)

    bad = await evaluate(nodes, metadata)

    assert bad["scores"]["relationships"] < good["scores"]["relationships"] - MARGIN
    weak = {(link["source"], link["target"]): link for link in bad["details"]["weakLinks"]}
    assert set(weak) == {(source, target) for source, target, _ in emptied}
    assert weak[(CUSTOMER_JOB, "finding-slow-requests-1")]["reason"] == "empty rationale"
    assert weak[("mapping-service-dependencies-3", "stale-architecture-diagrams-b")] == {
        "source": "mapping-service-dependencies-3",
        "target": "stale-architecture-diagrams-b",
        "reason": "a 1-word rationale",
        "score": 0.0,
    }
    assert any("4 of 21 links have a weak rationale" in w for w in bad["summary"]["weaknesses"])


async def test_a_rationale_about_something_else_is_a_weak_link() -> None:
    nodes, metadata = good_graph()
    unrelated = "Our grandmother always kept fresh basil on the kitchen windowsill in summer."
    nodes = with_rationale(nodes, "cascading-failures-8", PRODUCT_FEATURE, unrelated)

    evaluation = await evaluate(nodes, metadata)

    (weak,) = evaluation["details"]["weakLinks"]
    assert (weak["source"], weak["target"]) == ("cascading-failures-8", PRODUCT_FEATURE)
    assert weak["reason"].startswith("its rationale hardly relates to")


async def test_a_missing_relationship_label_makes_a_weak_link() -> None:
    nodes, metadata = good_graph()
    nodes = copy.deepcopy(nodes)
    by_id(nodes)["debugging-production-incidents-2"]["edge"][0]["relationship"] = " "

    evaluation = await evaluate(nodes, metadata)

    (weak,) = evaluation["details"]["weakLinks"]
    assert weak["reason"] == "no relationship label"


async def test_copied_text_scores_zero_quality_and_is_listed() -> None:
    nodes, metadata = good_graph()
    good = await evaluate(nodes, metadata)
    parent_text = by_id(nodes)["finding-slow-requests-1"]["content"]
    nodes = edited(nodes, "slow-database-queries-5", content=parent_text)
    nodes = edited(nodes, "cascading-failures-8", content=CUSTOMER)
    # The worked example of the prompt, word for word.
    nodes = edited(
        nodes,
        "hidden-circular-calls-c",
        content="Parents spend time every evening choosing a meal everyone will eat.",
    )

    bad = await evaluate(nodes, metadata)

    assert bad["scores"]["quality"] < good["scores"]["quality"] - MARGIN
    copied_from = bad["details"]["quality"]["copiedFrom"]
    assert copied_from == {
        "slow-database-queries-5": "finding-slow-requests-1",
        "cascading-failures-8": CUSTOMER_JOB,
        "hidden-circular-calls-c": "worked example",
    }
    assert sorted(bad["details"]["copied"]) == sorted(copied_from)
    lowest = {item["id"]: item["score"] for item in bad["details"]["quality"]["lowest"]}
    assert all(lowest[node_id] == 0.0 for node_id in copied_from)
    assert not set(bad["details"]["offTopic"]) & set(copied_from)  # copies are not off topic


async def test_restating_the_product_is_a_copy() -> None:
    nodes, metadata = good_graph()
    nodes = edited(nodes, "queue-wait-time-4", content=f"{PRODUCT}.")

    evaluation = await evaluate(nodes, metadata)

    assert evaluation["details"]["quality"]["copiedFrom"] == {"queue-wait-time-4": PRODUCT_FEATURE}


async def test_a_missing_generation_lowers_completeness() -> None:
    good = await evaluate(*good_graph())
    nodes, metadata = build_graph(tuple(idea for idea in IDEAS if idea.parent == CUSTOMER_JOB))

    bad = await evaluate(nodes, metadata)  # the metadata still says G=2

    assert bad["scores"]["completeness"] < good["scores"]["completeness"] - MARGIN
    completeness = bad["details"]["completeness"]
    assert (completeness["expectedNodes"], completeness["grownNodes"]) == (12, 3)
    assert completeness["exactK"] == 0.25  # the Customer Job has 3 children, its 3 none
    assert any("Only 3 of 12 expected nodes" in w for w in bad["summary"]["weaknesses"])


async def test_fewer_children_and_empty_contents_lower_completeness() -> None:
    good = await evaluate(*good_graph())
    kept = tuple(idea for idea in IDEAS if not idea.id.endswith(("-6", "-9", "-c")))
    nodes, metadata = build_graph(kept)
    fewer = await evaluate(nodes, metadata)
    nodes = edited(nodes, "queue-wait-time-4", content="Queues.")

    emptier = await evaluate(nodes, metadata)

    assert fewer["scores"]["completeness"] < good["scores"]["completeness"] - MARGIN
    assert fewer["details"]["completeness"]["exactK"] == 0.25
    assert emptier["scores"]["completeness"] < fewer["scores"]["completeness"]
    assert emptier["details"]["completeness"]["emptyContent"] == ["queue-wait-time-4"]


async def test_the_shape_is_inferred_without_metadata() -> None:
    nodes, _ = good_graph()

    evaluation = await evaluate(nodes, {})

    completeness = evaluation["details"]["completeness"]
    assert completeness["shapeInferred"] is True
    assert (completeness["childrenCount"], completeness["generations"]) == (3, 2)
    assert evaluation["scores"]["completeness"] == 1.0


async def test_unlinked_leaves_lower_path_to_product_and_are_listed() -> None:
    nodes, metadata = good_graph()
    good = await evaluate(nodes, metadata)
    nodes = copy.deepcopy(nodes)
    unlinked = ["unknown-impact-of-api-changes-a", "stale-architecture-diagrams-b"]
    unlinked.append("hidden-circular-calls-c")
    for node_id in unlinked:
        by_id(nodes)[node_id]["edge"] = []

    bad = await evaluate(nodes, metadata)

    assert bad["scores"]["pathToProduct"] < good["scores"]["pathToProduct"] - MARGIN
    path = bad["details"]["pathToProduct"]
    # The three leaves and their parent, which now reaches nothing: 9 of 13 reach the product.
    assert set(path["missing"]) == {*unlinked, "mapping-service-dependencies-3"}
    assert bad["scores"]["pathToProduct"] == round(9 / 13, 4)


async def test_grounding_appears_with_verification_and_follows_the_verified_share() -> None:
    nodes, metadata = good_graph()
    plain = await evaluate(nodes, metadata)
    verified = set(LEAVES[:6])
    nodes = copy.deepcopy(nodes)
    for node in nodes:
        if node["id"] in LEAVES:
            node["verification"] = {
                "verified": node["id"] in verified,
                "confidence": 0.8,
                "summary": "Checked.",
                "sources": ["https://example.com"],
                "timestamp": "2026-01-01T00:00:00Z",
            }

    some = await evaluate(nodes, metadata)
    for node in nodes:
        if "verification" in node:
            node["verification"]["verified"] = True
    more = await evaluate(nodes, metadata)

    assert "grounding" not in plain["scores"] and "grounding" not in plain["details"]
    assert some["scores"]["grounding"] == 0.5  # 6 of the 12 grown nodes
    assert more["scores"]["grounding"] == 0.75  # 9 of 12: the 3 inner nodes were not checked
    assert some["details"]["grounding"]["checked"] == 9
    assert set(some["details"]["grounding"]["unverified"]) == set(by_id(nodes)) - verified - {
        CUSTOMER_JOB,
        PRODUCT_FEATURE,
    }
    assert some["scores"]["overall"] < more["scores"]["overall"]
    assert any("CODREAMER_VERIFY" in r for r in plain["summary"]["recommendations"])


async def test_a_graph_with_every_fault_scores_and_grades_below_the_good_one() -> None:
    nodes, metadata = good_graph()
    good = await evaluate(nodes, metadata)
    for node_id, (name, content) in SOURDOUGH.items():
        nodes = edited(nodes, node_id, name=name, content=content)
    nodes = edited(nodes, "slow-database-queries-5", content=CUSTOMER)
    nodes = edited(nodes, "slow-incident-resolution-9", content="")
    for idea in IDEAS[:6]:
        nodes = with_rationale(nodes, idea.parent, idea.id, "It helps.")
    by_id(nodes)["cascading-failures-8"]["edge"] = []

    bad = await evaluate(nodes, metadata)

    assert bad["scores"]["overall"] < good["scores"]["overall"] - 1.5 * MARGIN
    assert good["summary"]["grade"] == "A" and bad["summary"]["grade"] >= "C"  # C, D or F
    assert len(bad["summary"]["weaknesses"]) >= 4
    assert len(bad["summary"]["recommendations"]) >= 3


async def test_original_nodes_with_only_id_content_and_edge_are_evaluated() -> None:
    nodes, _ = good_graph()
    bare: list[Any] = [
        {"id": node["id"], "content": node["content"], "edge": node["edge"]} for node in nodes
    ]

    evaluation = await evaluate(bare, {})

    completeness = evaluation["details"]["completeness"]
    assert (completeness["childrenCount"], completeness["generations"]) == (3, 2)
    assert evaluation["scores"]["pathToProduct"] == 1.0
    assert evaluation["details"]["copied"] == []


async def test_beyond_the_sample_a_fixed_sample_of_rationales_is_embedded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    nodes, metadata = good_graph()
    everything = await evaluate(nodes, metadata)
    monkeypatch.setattr(links, "LINK_SAMPLE", 8)

    sampled = await evaluate(nodes, metadata)
    again = await evaluate(nodes, metadata)

    assert sampled["details"]["relationships"]["embeddedLinks"] == 8
    assert everything["details"]["relationships"]["embeddedLinks"] == 21
    assert sampled["scores"] == again["scores"]  # the same graph, the same sample
    # The unsampled links take the sample's mean: an estimate near the full figure.
    assert sampled["scores"]["relationships"] == pytest.approx(
        everything["scores"]["relationships"], abs=0.1
    )
