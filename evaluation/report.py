"""Evaluate a dream's graph: every score, the overall one, the summary and what was found."""

import asyncio
import math
from typing import Any

from core.state import Node
from evaluation.calibration import EMBEDDINGS
from evaluation.graph_view import GraphView, Score, Verdict, view_of
from evaluation.judge import JudgeCache, JudgeOutcome, judge_links
from evaluation.links import link_problem, links_to_embed, relationships
from evaluation.measures import diversity, quality
from evaluation.shape import completeness, graph_shape, grounding, path_to_product
from evaluation.summary import summarize
from evaluation.vectors import GraphVectors, embed_graph

EVALUATION_VERSION = 1
"""Raise it when a score's definition or calibration changes: evaluations of different
versions do not compare."""
WEIGHTS = {
    "completeness": 0.1,
    "quality": 0.3,
    "relationships": 0.25,
    "diversity": 0.15,
    "pathToProduct": 0.1,
    "grounding": 0.1,
}
"""The weights of the overall score (normalised over the scores present: without grounding the
other five share its 0.1). Quality and relationships weigh most: they judge the ideas; the
shape scores weigh least, as a finished dream nearly always has its shape (even the embedded
SmolLM2-135M's dream of platitudes scored 1 on both)."""
FLOOR = 0.05
"""A score counts as at least this in the overall one (a geometric mean of a 0 would be 0
whatever the rest)."""


async def evaluate_graph(
    nodes: list[Node],
    metadata: dict[str, Any],
    *,
    judge_model: str | None = None,
    judge_cache: JudgeCache | None = None,
) -> dict[str, Any]:
    """The `evaluation` of a dream's graph (see the README). The embedding measures run in a
    thread, beside the judge when `judge_model` names one; `judge_cache` keeps its ratings.

    Raises `EmbeddingsUnavailableError` when the offline model is missing and
    `JudgeUnavailableError` when the judge's endpoint is unreachable or refuses it.
    """
    view = view_of(nodes)
    embedding = asyncio.create_task(asyncio.to_thread(_embed, view))
    try:
        judged = await judge_links(view, judge_model, judge_cache) if judge_model else None
    except BaseException:
        embedding.cancel()
        raise
    problems, vectors = await embedding
    return await asyncio.to_thread(_evaluation, view, metadata, problems, vectors, judged)


def overall(scores: dict[str, float]) -> float:
    """The weighted geometric mean of the scores (each at least `FLOOR`), rounded to 4 places.

    Geometric, not arithmetic: a graph failing on one count cannot buy it back with the
    others. With every other score at 1, a graph whose ideas are all off topic (quality 0)
    scores 0.37, an F (an arithmetic mean: 0.67, a C); one without a single real rationale
    (relationships 0) 0.44, a D (0.72, a B); one repeating a single idea (diversity 0) 0.61,
    a C (0.83, a B).
    """
    weights = {name: WEIGHTS[name] for name in scores if name in WEIGHTS}
    total = sum(weights.values())
    logs = sum(weight * math.log(max(scores[name], FLOOR)) for name, weight in weights.items())
    return round(math.exp(logs / total), 4)


def _embed(view: GraphView) -> tuple[list[str | None], GraphVectors]:
    problems = [link_problem(view, link) for link in view.links]
    return problems, embed_graph(view, links_to_embed(view, problems))


def _evaluation(
    view: GraphView,
    metadata: dict[str, Any],
    problems: list[str | None],
    vectors: GraphVectors,
    judged: JudgeOutcome | None,
) -> dict[str, Any]:
    verdicts: dict[tuple[str, str], Verdict] = judged.verdicts if judged is not None else {}
    shape = graph_shape(view, metadata)
    measured: dict[str, Score | None] = {
        "completeness": completeness(view, shape),
        "quality": quality(view, vectors, verdicts),
        "relationships": relationships(view, vectors, problems, verdicts),
        "diversity": diversity(view, vectors),
        "pathToProduct": path_to_product(view, shape),
        "grounding": grounding(view),
    }
    present = {name: score for name, score in measured.items() if score is not None}
    scores = {name: round(score.value, 4) for name, score in present.items()}
    scores["overall"] = overall(scores) if view.grown else 0.0  # nothing grown: 0 everywhere
    details: dict[str, Any] = {
        "nearDuplicates": [],
        "offTopic": [],
        "weakLinks": [],
        "copied": [],
    }
    for name, score in present.items():
        details[name] = score.figures
        details.update(score.found)
    if judged is not None:
        details["judge"] = judged.details()
    edges = sum(len(node["edge"]) for node in view.nodes)
    return {
        "scores": scores,
        "summary": summarize(scores, details),
        "metadata": {
            "nodeCount": len(view.nodes),
            "edgeCount": edges,
            "avgEdgesPerNode": round(edges / len(view.nodes), 2) if view.nodes else 0.0,
        },
        "details": details,
        "evaluatedWith": {
            "embeddings": EMBEDDINGS,
            "judgeModel": judged.model if judged is not None else None,
            "version": EVALUATION_VERSION,
        },
    }
