"""The node scores read from embeddings: quality (on-topic, not copied) and diversity."""

from collections import defaultdict
from typing import Any

import numpy as np

from core.state import CUSTOMER_JOB, PRODUCT_FEATURE, Node
from evaluation.calibration import (
    COPY_COSINE,
    NEAR_DUPLICATE,
    OFF_TOPIC,
    TOPIC_HIGH,
    TOPIC_LOW,
    calibrated,
    sibling_spread,
)
from evaluation.graph_view import DETAIL_LIMIT, GraphView, Score, Verdict, rating_share
from evaluation.vectors import GraphVectors, near_duplicates, row_cosines
from nodes.copies import copied_sentence
from outputs.quality import normalised

PARENT_WEIGHT = 0.5
"""A node's quality: 0.5 x its calibrated similarity to its parent (does it follow from it?)
+ 0.5 x that to the dream's topic, customer and product in one text (is it about this dream?
An idea close to the customer alone can be a platitude about any business: the SmolLM2 dream's
ideas were closer to the customer than the tracing dream's, and far from the product)."""
MIN_COPIED_WORDS = 4
"""A shorter text inside another ("Slow requests") is not called a copy of it."""
CONTAINED_SHARE = 0.6
"""A text inside another that makes up this share of it (in characters) restates it."""
EXAMPLE = "worked example"


def quality(
    view: GraphView, vectors: GraphVectors, verdicts: dict[tuple[str, str], Verdict]
) -> Score:
    """Mean over grown nodes of their on-topic-ness (see `PARENT_WEIGHT`), averaged with the
    judge's on-topic rating where it rated the node's link; a node that copies its parent, an
    anchor or the prompt's worked example scores 0."""
    grown = view.grown
    if not grown:
        return Score(0.0, {"embedding": 0.0, "judge": None}, {"offTopic": [], "copied": []})
    rows = [vectors.row[node["id"]] for node in grown]
    parents = [vectors.row[_parent(view, node)] for node in grown]
    to_parent = row_cosines(vectors.nodes, rows, vectors.nodes, parents)
    to_anchor = {
        anchor: row_cosines(vectors.nodes, rows, vectors.nodes, [vectors.row[anchor]] * len(rows))
        if anchor in vectors.row
        else np.zeros(len(rows), dtype=np.float32)
        for anchor in (CUSTOMER_JOB, PRODUCT_FEATURE)
    }
    to_topic = vectors.nodes[rows] @ vectors.topic
    embedding = PARENT_WEIGHT * calibrated(to_parent) + (1 - PARENT_WEIGHT) * calibrated(
        to_topic, TOPIC_LOW, TOPIC_HIGH
    )
    copied: dict[str, str] = {}
    scores: list[float] = []
    judged: list[float] = []
    for place, node in enumerate(grown):
        near = {
            _parent(view, node): float(to_parent[place]),
            **{anchor: float(cosines[place]) for anchor, cosines in to_anchor.items()},
        }
        if (source := _copied_from(view, node, near)) is not None:
            copied[node["id"]] = source
            embedding[place] = 0.0
        score = float(embedding[place])
        verdict = verdicts.get((node["parent_id"] or "", node["id"]))
        if verdict is not None and node["id"] not in copied:
            judged.append(rating_share(verdict.on_topic))
            score = (score + judged[-1]) / 2
        scores.append(score)
    ranked = sorted(zip(scores, (node["id"] for node in grown), strict=True))
    off_topic = [
        node_id for score, node_id in ranked if score < OFF_TOPIC and node_id not in copied
    ]
    figures = {
        "embedding": round(float(np.mean(embedding)), 4),
        "judge": round(float(np.mean(judged)), 4) if judged else None,
        "judgedNodes": len(judged),
        "toParent": round(float(np.mean(to_parent)), 4),
        "toTopic": round(float(np.mean(to_topic)), 4),
        "toCustomer": round(float(np.mean(to_anchor[CUSTOMER_JOB])), 4),
        "toProduct": round(float(np.mean(to_anchor[PRODUCT_FEATURE])), 4),
        "offTopicCount": len(off_topic),
        "copiedCount": len(copied),
        "copiedFrom": dict(list(copied.items())[:DETAIL_LIMIT]),
        "lowest": [{"id": node_id, "score": round(score, 4)} for score, node_id in ranked[:5]],
    }
    found = {"offTopic": off_topic[:DETAIL_LIMIT], "copied": list(copied)[:DETAIL_LIMIT]}
    return Score(float(np.mean(scores)), figures, found)


def _parent(view: GraphView, node: Node) -> str:
    """The node's parent, or the customer for a node whose parent is missing."""
    parent = node["parent_id"]
    if parent in view.by_id:
        return parent
    return CUSTOMER_JOB if CUSTOMER_JOB in view.by_id else node["id"]


def _copied_from(view: GraphView, node: Node, near: dict[str, float]) -> str | None:
    """What the node copies: the id of its parent or an anchor (`near`: their cosines with the
    node), or the prompt's worked example; None for a node of its own."""
    if copied_sentence(node["content"]) is not None:
        return EXAMPLE
    for other, cosine in near.items():
        if other != node["id"] and (
            cosine >= COPY_COSINE or _restates(node["content"], view.by_id[other]["content"])
        ):
            return other
    return None


def _restates(text: str, other: str) -> bool:
    """`text` says what `other` says: equal once normalised, or one holds the other and the
    other is most of it."""
    a, b = normalised(text), normalised(other)
    if not a or not b:
        return False
    shorter, longer = sorted((a, b), key=len)
    return shorter == longer or (
        len(shorter.split()) >= MIN_COPIED_WORDS
        and shorter in longer
        and len(shorter) >= CONTAINED_SHARE * len(longer)
    )


def diversity(view: GraphView, vectors: GraphVectors) -> Score:
    """Mean of the siblings' spread (their pairs' cosines mapped by `sibling_spread`, averaged
    per parent, then over parents) and 1 - the share of grown nodes in a near-duplicate pair
    anywhere in the graph (cosine >= NEAR_DUPLICATE, or equal contents)."""
    grown = view.grown
    if not grown:
        return Score(0.0, {"nearDuplicatePairs": 0}, {"nearDuplicates": []})
    rows = np.array([vectors.row[node["id"]] for node in grown])
    matrix = vectors.nodes[rows]
    spread, similarity = _sibling_spread(grown, matrix)
    scan = near_duplicates(matrix, NEAR_DUPLICATE, DETAIL_LIMIT, _content_groups(grown))
    duplicate_share = float(scan.flagged.mean())
    parts = [1 - duplicate_share] + ([spread] if spread is not None else [])
    figures: dict[str, Any] = {
        "siblingSpread": None if spread is None else round(spread, 4),
        "meanSiblingSimilarity": None if similarity is None else round(similarity, 4),
        "duplicateShare": round(duplicate_share, 4),
        "duplicateNodes": int(scan.flagged.sum()),
        "nearDuplicatePairs": scan.pairs,
        "threshold": NEAR_DUPLICATE,
    }
    pairs = [
        {"a": grown[a]["id"], "b": grown[b]["id"], "similarity": round(cosine, 4)}
        for a, b, cosine in scan.top
    ]
    return Score(float(np.mean(parts)), figures, {"nearDuplicates": pairs})


def _sibling_spread(grown: list[Node], matrix: np.ndarray) -> tuple[float | None, float | None]:
    """Mean spread and mean cosine over parents with two children or more (None: no such)."""
    families: dict[str | None, list[int]] = defaultdict(list)
    for place, node in enumerate(grown):
        families[node["parent_id"]].append(place)
    spreads, similarities = [], []
    for places in families.values():
        if len(places) < 2:
            continue
        block = matrix[places] @ matrix[places].T
        pairs = block[np.triu_indices(len(places), k=1)]
        spreads.append(float(sibling_spread(pairs).mean()))
        similarities.append(float(pairs.mean()))
    if not spreads:
        return None, None
    return float(np.mean(spreads)), float(np.mean(similarities))


def _content_groups(grown: list[Node]) -> np.ndarray:
    """A group number per node shared by nodes with equal (normalised) contents; -1 for a node
    whose content is empty."""
    numbers: dict[str, int] = {}
    groups = [
        numbers.setdefault(text, len(numbers)) if (text := normalised(node["content"])) else -1
        for node in grown
    ]
    return np.array(groups, dtype=np.int64)
