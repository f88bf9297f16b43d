"""Legacy mode (`USE_WORKFLOW=false`): the same nodes, run one at a time by a plain loop.

No LangGraph, no checkpoints, one LLM call at a time: the original CoDreamer's breadth-first
search, kept for comparison and for callers that want the simplest possible execution.
"""

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import asdict, replace
from functools import cache
from typing import Annotated, Any, cast, get_args, get_origin, get_type_hints

from langchain_core.runnables import RunnableConfig

from core.context import DreamContext
from core.state import DreamState
from graph.lifecycle import releases_workspace_on_failure
from graph.routing import route_generation
from nodes.connect_to_product import connect_to_product
from nodes.create_workspace import create_workspace
from nodes.expand_generation import expand_generation
from nodes.finalize import finalize
from nodes.init_anchors import init_anchors
from nodes.record_dream import record_dream
from nodes.save_generation import save_generation

LEGACY_MODE = "legacy"


async def legacy_updates(
    run_input: dict[str, Any], context: DreamContext, workspace_id: str
) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """Run the dream node by node, yielding (node name, its update) like `stream_mode="updates"`."""
    sequential = replace(context, max_concurrency=1)
    state: dict[str, Any] = {**run_input, "mode": LEGACY_MODE}
    dream = cast(DreamState, state)  # the same dict as the nodes read it, filled in step by step
    config: RunnableConfig = {"configurable": {**asdict(sequential), "thread_id": workspace_id}}
    update = await create_workspace(dream, config)
    yield _applied(state, "create_workspace", update)
    yield _applied(state, "init_anchors", await _run(init_anchors, state))
    while (route := route_generation(dream)) != "connect_to_product":
        for send in route:
            yield _applied(state, "expand_generation", await _run(expand_generation, send.arg))
        yield _applied(state, "save_generation", await _run(save_generation, state))
    yield _applied(state, "connect_to_product", await _run(connect_to_product, state))
    yield _applied(state, "finalize", await _run(finalize, state))
    yield _applied(state, "record_dream", await record_dream(dream))


async def _run(node: Callable[[Any], Awaitable[dict[str, Any]]], state: Any) -> dict[str, Any]:
    """Run a node as the graph does: a failure releases the dream's sandbox."""
    return await releases_workspace_on_failure(node)(state)


def _applied(
    state: dict[str, Any], step: str, update: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    """Fold `update` into `state` with the reducers `DreamState` declares; (step, update)."""
    reducers = _reducers()
    for key, value in update.items():
        state[key] = reducers[key](state[key], value) if key in reducers and key in state else value
    return step, update


@cache
def _reducers() -> dict[str, Callable[[Any, Any], Any]]:
    hints = get_type_hints(DreamState, include_extras=True)
    return {
        key: get_args(hint)[1]
        for key, hint in hints.items()
        if get_origin(hint) is Annotated and callable(get_args(hint)[1])
    }
