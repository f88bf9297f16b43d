"""Evaluations of finished dreams by id: read from the library (else the workspace), kept with
the stored dream, and compared two at a time (the original server's `/api/v1/eval` shapes)."""

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from core.settings import get_settings
from evaluation.compare import compare_evaluations
from evaluation.judge import JudgeCache
from evaluation.report import EVALUATION_VERSION, evaluate_graph
from library import DreamLibrary, get_library
from library.records import graph_record
from outputs.history import UnreadableResultsError, load_dream

JUDGEMENTS = ("codreamer", "judgements")


class GraphNotFoundError(LookupError):
    """No finished dream has this id (in the library or a workspace)."""


@dataclass
class StoredDream:
    """A finished dream, and its evaluation when the library keeps one."""

    output: dict[str, Any]
    evaluation: dict[str, Any] | None
    in_library: bool


class StoreJudgeCache:
    """The judge's ratings kept in the library's store, shared by every process using it."""

    def __init__(self, library: DreamLibrary) -> None:
        self._store = library.store

    def get(self, key: str) -> dict[str, Any] | None:
        item = self._store.get(JUDGEMENTS, key)
        return None if item is None else item.value

    def put(self, key: str, value: dict[str, Any]) -> None:
        self._store.put(JUDGEMENTS, key, value, index=False)


async def stored_dream(dream_id: str) -> StoredDream:
    """The dream from the library, or from its workspace when the library does not have it."""
    if get_settings().library:
        record = await asyncio.to_thread(get_library().get, dream_id)
        if record is not None:
            stored = {"nodes": record["nodes"], "metadata": record["metadata"]}
            return StoredDream(stored, record.get("evaluation"), in_library=True)
    try:
        output = await load_dream(dream_id)
    except UnreadableResultsError as error:
        raise GraphNotFoundError(f"dream {dream_id!r} has unreadable results: {error}") from None
    if output is None:
        raise GraphNotFoundError(f"no finished dream {dream_id!r}")
    return StoredDream(output, None, in_library=False)


async def evaluation_of(dream_id: str, *, refresh: bool = False) -> dict[str, Any]:
    """`{graphId, evaluation, graphMetadata}`: the stored evaluation while it is current (same
    version and judge), else a new one, which the library keeps."""
    dream = await stored_dream(dream_id)
    evaluation = dream.evaluation
    if refresh or not _current(evaluation):
        evaluation = await _evaluate(dream)
    return {
        "graphId": dream_id,
        "evaluation": evaluation,
        "graphMetadata": graph_metadata(dream.output),
    }


async def comparison_of(
    first_id: str, second_id: str, label1: str | None = None, label2: str | None = None
) -> dict[str, Any]:
    """`{graph1, graph2, comparison}`: each dream's evaluation with its label, and the verdict."""
    first, second = await asyncio.gather(evaluation_of(first_id), evaluation_of(second_id))
    label1, label2 = label1 or "Graph 1", label2 or "Graph 2"
    comparison = compare_evaluations(first["evaluation"], second["evaluation"], label1, label2)
    return {
        "graph1": {**first, "label": label1},
        "graph2": {**second, "label": label2},
        "comparison": comparison,
    }


def graph_metadata(output: dict[str, Any]) -> dict[str, Any]:
    """Who and what the dream was for, when it was made and how (as the library records it)."""
    record = graph_record(output)
    return {
        "customer": record["customer"],
        "product": record["product"],
        "createdAt": record["createdAt"],
        "implementation": record["metadata"]["implementation"],
    }


def _current(evaluation: dict[str, Any] | None) -> bool:
    if evaluation is None:
        return False
    made_with = evaluation.get("evaluatedWith") or {}
    return (
        made_with.get("version") == EVALUATION_VERSION
        and made_with.get("judgeModel") == get_settings().judge_model
    )


async def _evaluate(dream: StoredDream) -> dict[str, Any]:
    judge_model = get_settings().judge_model
    library = get_library() if get_settings().library else None
    cache: JudgeCache | None = StoreJudgeCache(library) if library is not None else None
    output = dream.output
    evaluation = await evaluate_graph(
        output["nodes"], output["metadata"], judge_model=judge_model, judge_cache=cache
    )
    evaluation["evaluatedAt"] = datetime.now(UTC).isoformat(timespec="seconds")
    if dream.in_library and library is not None:
        graph_id = output["metadata"]["workspaceId"]
        await asyncio.to_thread(library.save_evaluation, graph_id, evaluation)
    return evaluation
