"""Run a dream for any front end (CLI, REST, SSE): in the configured mode, as progress events."""

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, cast

from langchain_core.runnables import RunnableConfig
from langgraph.types import Durability
from typing_extensions import TypedDict

from core.context import (
    CONTEXT_FIELDS,
    DreamContext,
    InvalidRunSettingsError,
    resolve_context,
    validated_context,
)
from core.settings import get_settings
from core.state import DreamInput, DreamOutput, Node, total_node_count
from graph.legacy import legacy_updates
from graph.workflow import graph
from nodes.create_workspace import new_workspace_id
from nodes.llm import close_models, describe_model
from sandbox.base import SandboxGoneError
from sandbox.factory import close_backend_clients, default_sandbox, get_backend
from sandbox.lease import held_lease
from sandbox.lifecycle import open_or_create
from telemetry.tracing import flush_traces
from verification import close_search_clients

DURABILITY: Durability = "sync"
"""Each checkpoint is on disk before the next step starts: a crash never loses a finished step."""


class Progress(TypedDict):
    """One finished step of a dream, with its counts so far."""

    step: str
    generation: int | None
    """The generation a `save_generation` step finished, or the last one a fork kept (step
    "fork"); None for other steps."""
    generations: int
    nodes: int
    total: int
    llm_calls: int
    added: list[Node]
    """The nodes this step grew (a front end draws the graph as it grows)."""


DreamEvent = tuple[Literal["progress"], Progress] | tuple[Literal["result"], dict[str, Any]]


class DreamNotFoundError(SandboxGoneError):
    """No checkpoint of that dream exists in any workspace this process can reach."""


@dataclass
class Tracker:
    """Counts nodes and LLM calls from the stream of node updates."""

    generations: int
    total: int
    seen: set[str] = field(default_factory=set)
    calls: int = 0

    @classmethod
    def of(cls, values: dict[str, Any]) -> "Tracker":
        """A tracker for a dream with these state values (its input, or a checkpoint's)."""
        generations = values["generations_count_int"]
        return cls(
            generations=generations,
            total=total_node_count(values["children_count"], generations),
            seen=set(values.get("nodes_by_id", {})),
            calls=values.get("usage", {}).get("llm_calls", 0),
        )

    def observe(self, step: str, update: dict[str, Any]) -> Progress:
        grown = update.get("nodes_by_id") or {}
        added = [node for node_id, node in grown.items() if node_id not in self.seen]
        self.seen.update(grown)
        self.calls += (update.get("usage") or {}).get("llm_calls", 0)
        generation = update.get("generation") if step == "save_generation" else None
        return {
            "step": step,
            "generation": generation,
            "generations": self.generations,
            "nodes": len(self.seen),
            "total": self.total,
            "llm_calls": self.calls,
            "added": added,
        }


async def stream_dream(
    dream_input: DreamInput, context: DreamContext, workspace_id: str
) -> AsyncGenerator[DreamEvent, None]:
    """Progress after every step, then the result; legacy mode when USE_WORKFLOW=false.

    The dream's workspace is opened first and its lease held throughout: one dream, one runner.
    """
    run_input = dream_input.model_dump()
    context = resolve_context(context, None)
    workspace = await open_or_create(get_backend(context.sandbox), workspace_id)
    if get_settings().use_workflow:
        updates = _workflow_updates(run_input, context, workspace_id)
    else:
        updates = legacy_updates(run_input, context, workspace_id)
    async with held_lease(workspace):
        async for event in _events(updates, Tracker.of(run_input)):
            yield event


async def stream_resume(workspace_id: str) -> AsyncGenerator[DreamEvent, None]:
    """Finish a stopped dream from its latest checkpoint (a finished one just gives its result).

    Raises `DreamAlreadyRunningError` while another runner holds the dream's lease.
    """
    config: RunnableConfig = {"configurable": {"thread_id": workspace_id}}
    snapshot = await graph.aget_state(config)
    if not snapshot.values:
        raise DreamNotFoundError(f"no checkpoint of dream {workspace_id!r} in its workspace")
    if not snapshot.next:
        if "metadata" not in snapshot.values:
            raise DreamNotFoundError(f"dream {workspace_id!r} ended without a result")
        yield "result", {key: snapshot.values[key] for key in ("nodes", "metadata")}
        return
    backend = snapshot.values.get("sandbox") or default_sandbox()
    workspace = await get_backend(backend).connect(workspace_id)
    async with held_lease(workspace):
        updates = _workflow_updates(None, None, workspace_id)
        async for event in _events(updates, Tracker.of(snapshot.values)):
            yield event


async def run_dream(
    dream_input: DreamInput, context: DreamContext, workspace_id: str
) -> DreamOutput:
    """The dream's output, `{nodes, metadata}`."""
    return await _result_of(stream_dream(dream_input, context, workspace_id))


async def _result_of(events: AsyncGenerator[DreamEvent, None]) -> DreamOutput:
    """The result event's data; the events are closed here, so the lease is dropped now."""
    async with aclosing(events):
        async for event in events:
            if event[0] == "result":
                return cast(DreamOutput, event[1])  # finalize's update: `{nodes, metadata}`
    raise RuntimeError("the dream ended without a result")


async def resume_dream(workspace_id: str) -> DreamOutput:
    """The output of a stopped dream, finished from its checkpoints."""
    return await _result_of(stream_resume(workspace_id))


async def close_clients() -> None:
    """Close the LLM, search and sandbox clients of this event loop, and send the trace spans
    still batched; front ends call it at shutdown."""
    await close_models()
    await close_search_clients()
    await close_backend_clients()
    await asyncio.to_thread(flush_traces)


def served_config(config: dict[str, Any]) -> dict[str, Any]:
    """A LangServe request's config: run settings checked, concurrency clamped, a new thread.

    Raises `InvalidRunSettingsError` for a value out of range or a model this server does not
    serve. Endpoints, keys and the sandbox's credentials stay server-side; every served run
    gets its own workspace (the thread id), so it is checkpointed like a CLI dream.
    """
    given = {
        key: value
        for key, value in (config.get("configurable") or {}).items()
        if key in CONTEXT_FIELDS and value is not None
    }
    context = validated_context(given)
    check_served_model(context.model)
    configurable: dict[str, Any] = {
        **asdict(context),
        "max_concurrency": min(context.max_concurrency, get_settings().max_concurrency),
        "thread_id": new_workspace_id(),
    }
    return {**config, "configurable": configurable}


def check_served_model(spec: str) -> None:
    """Refuse a model the server was not set up to serve: CODREAMER_MODEL and
    CODREAMER_ALLOWED_MODELS only (so the embedded model only where the server runs it)."""
    settings = get_settings()
    served = {describe_model(name) for name in (settings.model, *settings.allowed_models)}
    if describe_model(spec) not in served:
        raise InvalidRunSettingsError(
            f"run setting model: {spec!r} is not served here; ask for one of "
            f"{', '.join(sorted(served))} (CODREAMER_ALLOWED_MODELS lists more)",
            "model",
        )


async def _workflow_updates(
    run_input: dict[str, Any] | None, context: DreamContext | None, workspace_id: str
) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    config: RunnableConfig = {"configurable": {"thread_id": workspace_id}}
    # LangGraph takes the input schema's fields as a dict too; its signature names only the model.
    graph_input = cast(DreamInput | None, run_input)
    updates = graph.astream(
        graph_input, config, context=context, stream_mode="updates", durability=DURABILITY
    )
    async for update in updates:
        for step, values in update.items():
            yield step, values or {}


async def _events(
    updates: AsyncIterator[tuple[str, dict[str, Any]]], tracker: Tracker
) -> AsyncIterator[DreamEvent]:
    output: dict[str, Any] = {}
    async for step, values in updates:
        yield "progress", tracker.observe(step, values)
        if step == "finalize":
            output = values
        elif step == "record_dream":  # the last step: the output, with its warning if any
            yield "result", {**output, **values}
