"""The structural scores: how much of the expected graph is there, which nodes reach the
product, and how many were verified."""

from collections import Counter
from typing import Any, NamedTuple

from core.state import PRODUCT_FEATURE, Node
from evaluation.graph_view import DETAIL_LIMIT, GraphView, Score
from outputs.quality import normalised, quality_report, reaching_product

MIN_CONTENT_WORDS = 3
"""A grown node saying fewer words than this ("Latency.", "") is counted as missing."""
PRESENT_WEIGHT = 0.7
"""Completeness = 0.7 x share of the expected nodes grown with content + 0.3 x share of
parents with exactly K children: missing nodes matter most, uneven branching less."""


class Shape(NamedTuple):
    """K and G: from the dream's metadata, else inferred from the nodes."""

    children_count: int
    generations: int
    inferred: bool


def graph_shape(view: GraphView, metadata: dict[str, Any]) -> Shape:
    """K (`childrenCount`) and G (`generations`) from the metadata; when either is missing,
    G is the deepest generation grown and K the most children any node has."""
    known = [metadata.get("childrenCount"), metadata.get("generations")]
    if all(isinstance(value, int) and not isinstance(value, bool) and value > 0 for value in known):
        return Shape(int(known[0]), int(known[1]), inferred=False)  # type: ignore[arg-type]
    children = Counter(link.source for link in view.links if link.parent_to_child)
    deepest = max((node["generation"] for node in view.grown), default=0)
    return Shape(max(children.values(), default=0), deepest, inferred=True)


def completeness(view: GraphView, shape: Shape) -> Score:
    """Grown nodes with content against the K + K^2 + ... + K^G expected, and the share of
    parents with exactly K children (`outputs.quality`)."""
    expected = sum(shape.children_count**g for g in range(1, shape.generations + 1))
    empty = [
        node["id"]
        for node in view.grown
        if len(normalised(node["content"]).split()) < MIN_CONTENT_WORDS
    ]
    substantive = len(view.grown) - len(empty)
    present = min(substantive, expected) / expected if expected else 0.0
    exact_k = (
        quality_report(view.nodes, shape.children_count, shape.generations)["exact_k"]
        if view.grown and expected
        else 0.0
    )
    figures = {
        "expectedNodes": expected,
        "grownNodes": len(view.grown),
        "substantiveNodes": substantive,
        "presentShare": round(present, 4),
        "exactK": exact_k,
        "childrenCount": shape.children_count,
        "generations": shape.generations,
        "shapeInferred": shape.inferred,
        "emptyContent": empty[:DETAIL_LIMIT],
        "emptyContentCount": len(empty),
    }
    return Score(PRESENT_WEIGHT * present + (1 - PRESENT_WEIGHT) * exact_k, figures)


def path_to_product(view: GraphView, shape: Shape) -> Score:
    """Share of nodes (Product Feature aside) with a path to Product Feature (`outputs.quality`);
    0 for a graph with nothing grown."""
    if not view.grown:
        return Score(0.0, {"reaching": 0, "of": len(view.nodes), "missing": []})
    reaching = reaching_product(view.nodes) | {PRODUCT_FEATURE}
    missing = [node["id"] for node in view.nodes if node["id"] not in reaching]
    others = sum(node["id"] != PRODUCT_FEATURE for node in view.nodes)
    figures = {
        "reaching": others - len(missing),
        "of": others,
        "missing": missing[:DETAIL_LIMIT],
    }
    return Score(round((others - len(missing)) / others, 4), figures)


def grounding(view: GraphView) -> Score | None:
    """Share of grown nodes a web search verified; None when no node was checked."""
    checked = [node for node in view.grown if "verification" in node]
    if not checked:
        return None
    unverified = [node["id"] for node in view.grown if not _verified(node)]
    figures = {
        "verified": len(view.grown) - len(unverified),
        "checked": len(checked),
        "of": len(view.grown),
        "unverified": unverified[:DETAIL_LIMIT],
    }
    return Score((len(view.grown) - len(unverified)) / len(view.grown), figures)


def _verified(node: Node) -> bool:
    verification = node.get("verification")
    return verification is not None and verification.get("verified") is True
