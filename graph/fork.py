"""Fork a dream: a new dream that keeps a source dream's generations up to N exactly and grows
the rest again, from the source's LangGraph checkpoint after generation N.

The source is read, never changed: its checkpoint after generation N (after `init_anchors` for
N=0) gives the fork its nodes, input, run settings and the warnings of the kept generations.
The fork gets a new workspace on the source's backend, the seed's files of the kept
generations, and a first checkpoint written as if `save_generation` (`init_anchors`) had just
run there; from then on it is a stopped dream that `graph.runner.stream_resume` finishes, with
its lease, progress, result and library record. Its usage starts at zero, so
`metadata.usage` (and the cost) count only what was grown again.
"""

import time
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import asdict
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.types import StateSnapshot

from core.context import CONTEXT_FIELDS, DreamContext, InvalidRunSettingsError, validated_context
from core.state import DreamOutput, ForkOrigin, Node, empty_usage, total_node_count
from core.workspace_layout import ERRORS_LOG, GENERATION_LOG, GRAPH_STATE_FILE, checkpoint_file
from graph.lifecycle import releases_workspace_on_failure
from graph.runner import (
    DreamEvent,
    DreamNotFoundError,
    Progress,
    Tracker,
    check_served_model,
    resume_dream,
    stream_resume,
)
from graph.workflow import graph
from nodes.create_workspace import new_workspace_id
from nodes.workspace_files import append_log, graph_json, write_file
from sandbox.base import Workspace
from sandbox.factory import default_sandbox, get_backend
from sandbox.git_history import record_step
from sandbox.lifecycle import open_or_create

FORK_STEP = "fork"
"""The step of the first progress event of a fork: the kept nodes, all `added` at once."""
GROWING_STEPS = frozenset({"expand_generation", "connect_to_product"})
"""What runs next after a generation is saved: the next one's expansions, or the product."""
KEPT_KEYS = (
    "customer",
    "product",
    "children_count",
    "generations_count_int",
    "mode",
    "generation",
    "nodes_by_id",
    "warnings",
)
"""State taken from the source's checkpoint as it is; the rest is the fork's own."""


class InvalidForkError(InvalidRunSettingsError):
    """The source cannot be forked at that generation; `field` is "generation"."""


async def fork_dream(
    source_id: str,
    generation: int,
    *,
    temperature: float | None = None,
    model: str | None = None,
) -> DreamOutput:
    """The output of a new dream forked from `source_id` after `generation` (see `start_fork`)."""
    workspace_id = new_workspace_id()
    await start_fork(source_id, generation, workspace_id, temperature=temperature, model=model)
    return await resume_dream(workspace_id)


async def stream_fork(
    source_id: str,
    generation: int,
    workspace_id: str,
    *,
    temperature: float | None = None,
    model: str | None = None,
) -> AsyncGenerator[DreamEvent, None]:
    """Progress of the fork `workspace_id` (first the kept nodes, as step "fork"), then its
    result."""
    values = await start_fork(
        source_id, generation, workspace_id, temperature=temperature, model=model
    )
    yield "progress", kept_progress(values)
    async with aclosing(stream_resume(workspace_id)) as events:
        async for event in events:
            yield event


async def start_fork(
    source_id: str,
    generation: int,
    workspace_id: str,
    *,
    temperature: float | None = None,
    model: str | None = None,
) -> dict[str, Any]:
    """Create the fork `workspace_id` (a new id: `new_workspace_id()`): its workspace, the kept
    generations' files and its first checkpoint; the state values it starts from. Nothing is
    grown yet.

    Generations 0..`generation` of the source are kept (0: only the anchors); the run settings
    are the source's, with `temperature` and `model` when given (a model this server serves).
    Raises `InvalidRunSettingsError` naming "generation", "temperature" or "model", and
    `DreamNotFoundError` when the source has no checkpoint this process can reach.
    """
    if generation < 0:
        raise InvalidForkError(f"fork after generation 0 or later, not {generation}", "generation")
    overrides = _overrides(temperature, model)
    source = await checkpoint_after(source_id, generation)
    settings = _settings(source.values["settings"], overrides)
    backend = get_backend(source.values["sandbox"])
    workspace = await open_or_create(backend, workspace_id)
    origin: ForkOrigin = {"id": source_id, "generation": generation}
    values = forked_values(source.values, settings, workspace, origin)
    as_node = "save_generation" if generation else "init_anchors"
    await _seed(values, as_node)
    return values


async def checkpoint_after(source_id: str, generation: int) -> StateSnapshot:
    """The source's latest checkpoint right after `generation` was saved (the anchors for 0).

    Raises `DreamNotFoundError` without any checkpoint, `InvalidForkError` when the source
    has no such generation or has not finished it.
    """
    config: RunnableConfig = {"configurable": {"thread_id": source_id}}
    latest = await graph.aget_state(config)
    if not latest.values:
        raise DreamNotFoundError(
            f"no checkpoint of dream {source_id!r} on the {default_sandbox()} backend: its "
            f"workspace is gone (a Daytona sandbox is deleted after its dream unless "
            f"KEEP_DAYTONA_WORKSPACE=true) or it never ran as a LangGraph workflow"
        )
    generations = latest.values.get("generations_count_int")
    if generations is not None and not 0 <= generation < generations:
        raise InvalidForkError(
            f"dream {source_id!r} has generations 1-{generations}; fork it after one of "
            f"0-{generations - 1} (0 keeps only the anchors), not {generation}",
            "generation",
        )
    async for snapshot in graph.aget_state_history(config):
        if snapshot.values.get("generation") == generation and _is_growing(snapshot):
            return snapshot
    raise InvalidForkError(
        f"dream {source_id!r} stopped before generation {generation} was saved; resume it "
        f"first (`codreamer resume {source_id}`) or fork it after an earlier generation",
        "generation",
    )


def forked_values(
    source: dict[str, Any], settings: DreamContext, workspace: Workspace, origin: ForkOrigin
) -> dict[str, Any]:
    """The fork's state: the source's kept keys as they are, its own workspace, settings and
    start time, and no usage yet."""
    return {
        **{key: source[key] for key in KEPT_KEYS if key in source},
        "settings": asdict(settings),
        "workspace_id": workspace.id,
        "sandbox": workspace.backend,
        "sandbox_id": workspace.sandbox_id,
        "workspace_path": workspace.path,
        "started_at": time.time(),
        "usage": empty_usage(),
        "searches": {"searches": 0, "credits": 0.0, "failed": 0},
        "forked_from": origin,
    }


def graph_after(nodes: dict[str, Node], generation: int) -> dict[str, Node]:
    """The graph as it stood when `generation` was saved: its nodes and their edges between
    them (the seed's `checkpoint-gen{N}.json`; the anchors alone for 0)."""
    kept = {node_id: node for node_id, node in nodes.items() if node["generation"] <= generation}
    return {
        node_id: {**node, "edge": [edge for edge in node["edge"] if edge["target_id"] in kept]}
        for node_id, node in kept.items()
    }


def kept_progress(values: dict[str, Any]) -> Progress:
    """The fork's first progress event: the last kept generation, every kept node added, no
    LLM call yet."""
    generations = values["generations_count_int"]
    tracker = Tracker(generations, total_node_count(values["children_count"], generations))
    progress = tracker.observe(FORK_STEP, {"nodes_by_id": values["nodes_by_id"]})
    return {**progress, "generation": values["generation"]}


def _is_growing(snapshot: StateSnapshot) -> bool:
    return bool(snapshot.next) and set(snapshot.next) <= GROWING_STEPS


def _overrides(temperature: float | None, model: str | None) -> dict[str, Any]:
    """The run settings the fork changes, checked alone before anything is read."""
    overrides = {
        key: value
        for key, value in (("temperature", temperature), ("model", model))
        if value is not None
    }
    validated_context(overrides)
    if model is not None:
        check_served_model(model)
    return overrides


def _settings(source: dict[str, Any], overrides: dict[str, Any]) -> DreamContext:
    """The source's run settings with the overrides, checked as a whole."""
    kept = {key: value for key, value in source.items() if key in CONTEXT_FIELDS}
    return validated_context({**kept, **overrides})


@releases_workspace_on_failure
async def _seed(values: dict[str, Any], /, as_node: str) -> None:
    """Write the kept generations' files (the seed's layout), commit them, and put the fork's
    first checkpoint as if `as_node` had just run in it; a failure releases the workspace."""
    workspace = await get_backend(values["sandbox"]).connect(values["workspace_id"])
    nodes, generation = values["nodes_by_id"], values["generation"]
    origin = values["forked_from"]
    files = {
        ERRORS_LOG: "",
        GRAPH_STATE_FILE: graph_json(graph_after(nodes, 0)),
        **{
            checkpoint_file(saved): graph_json(graph_after(nodes, saved))
            for saved in range(1, generation + 1)
        },
    }
    warnings: list[str] = []
    for name, text in files.items():
        warnings += await write_file(workspace, name, text)
    warnings += await append_log(
        workspace,
        GENERATION_LOG,
        f"forked from {origin['id']} after generation {generation}/"
        f"{values['generations_count_int']}: {len(nodes)} nodes kept",
    )
    message = f"fork of {origin['id']} after generation {generation}: {len(nodes)} nodes"
    warnings += await record_step(workspace, message, warnings, start=True)
    config: RunnableConfig = {"configurable": {"thread_id": values["workspace_id"]}}
    update = {**values, "warnings": [*values.get("warnings", []), *warnings]}
    await graph.aupdate_state(config, update, as_node=as_node)
