"""The workspace checkpointer: LangGraph's conformance suite, then real graphs run with it."""

import asyncio
import operator
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any, TypedDict

import pytest
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.conformance import checkpointer_test, validate
from langgraph.checkpoint.conformance.capabilities import (
    BASE_CAPABILITIES,
    EXTENDED_CAPABILITIES,
    DetectedCapabilities,
)
from langgraph.checkpoint.conformance.test_utils import (
    generate_checkpoint,
    generate_config,
    generate_metadata,
)
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.serde.types import ERROR, INTERRUPT
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Send

from core.sync_bridge import sync_and_async
from sandbox.base import SandboxGoneError
from sandbox.checkpointer import WorkspaceCheckpointSaver
from sandbox.local import LocalBackend, LocalWorkspace

CALLS: Counter[str] = Counter()
"""How often each node (and each fanned-out item) ran."""
FAIL_ONCE: set[str] = set()
"""Items whose next `work` attempt raises."""


class FanState(TypedDict):
    items: list[str]
    done: Annotated[list[str], operator.add]


class Item(TypedDict):
    item: str


async def plan(state: FanState) -> dict[str, Any]:
    CALLS["plan"] += 1
    return {}


def fan_out(state: FanState) -> list[Send]:
    return [Send("work", {"item": item}) for item in state["items"]]


async def work(task: Item) -> dict[str, Any]:
    CALLS[task["item"]] += 1
    await asyncio.sleep(0)  # the other items finish first
    if task["item"] in FAIL_ONCE:
        FAIL_ONCE.discard(task["item"])
        raise RuntimeError(f"{task['item']} fails once")
    return {"done": [task["item"]]}


async def summarize(state: FanState) -> dict[str, Any]:
    CALLS["summarize"] += 1
    return {}


def fan_graph(saver: WorkspaceCheckpointSaver) -> CompiledStateGraph:
    """plan -> one `work` per item (Send) -> summarize."""
    builder = StateGraph(FanState)
    builder.add_node(sync_and_async(plan))
    builder.add_node(sync_and_async(work))
    builder.add_node(sync_and_async(summarize))
    builder.add_edge(START, "plan")
    builder.add_conditional_edges("plan", fan_out, ["work"])
    builder.add_edge("work", "summarize")
    builder.add_edge("summarize", END)
    return builder.compile(checkpointer=saver)


class WatchedWorkspace:
    """A local workspace that counts its calls and, like a Daytona one, fails once destroyed."""

    def __init__(self, workspace: LocalWorkspace, calls: Counter[str]) -> None:
        self.workspace = workspace
        self.calls = calls

    def __getattr__(self, name: str) -> Any:
        if not self.workspace.root.is_dir():
            raise SandboxGoneError(f"workspace {self.workspace.id} was destroyed")
        self.calls[name] += 1
        return getattr(self.workspace, name)


class WatchedBackend:
    """A local backend handing out `WatchedWorkspace`s; `calls` counts connect and create too."""

    name = "local"

    def __init__(self, root: Path) -> None:
        self.local = LocalBackend(root)
        self.calls: Counter[str] = Counter()

    async def connect(self, workspace_id: str) -> WatchedWorkspace:
        self.calls["connect"] += 1
        return WatchedWorkspace(await self.local.connect(workspace_id), self.calls)

    async def create(self, workspace_id: str) -> WatchedWorkspace:
        self.calls["create"] += 1
        return WatchedWorkspace(await self.local.create(workspace_id), self.calls)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.local, name)


@pytest.fixture(autouse=True)
def fresh_counters() -> None:
    CALLS.clear()
    FAIL_ONCE.clear()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "workspaces"


@pytest.fixture
def saver(root: Path) -> WorkspaceCheckpointSaver:
    return WorkspaceCheckpointSaver(LocalBackend(root))


@pytest.mark.parametrize("capability", sorted(capability.value for capability in BASE_CAPABILITIES))
async def test_passes_the_langgraph_conformance_suite(root: Path, capability: str) -> None:
    @checkpointer_test(name="WorkspaceCheckpointSaver")
    async def fresh_saver() -> AsyncIterator[WorkspaceCheckpointSaver]:
        yield WorkspaceCheckpointSaver(LocalBackend(root))

    result = (await validate(fresh_saver, capabilities={capability})).results[capability]

    assert result.detected and result.tests_passed > 0
    assert result.tests_failed == 0, result.failures


def test_claims_none_of_the_optional_capabilities(saver: WorkspaceCheckpointSaver) -> None:
    assert DetectedCapabilities.from_instance(saver).missing == EXTENDED_CAPABILITIES


async def test_pending_writes_merge_like_the_in_memory_saver(
    saver: WorkspaceCheckpointSaver,
) -> None:
    checkpoint = generate_checkpoint()
    tuples = []
    for each in (saver, InMemorySaver()):
        config = await each.aput(generate_config("t1"), checkpoint, generate_metadata(), {})
        await each.aput_writes(config, [("x", 1), ("y", 2)], "task-b", "~b")
        await each.aput_writes(config, [("x", "not kept"), (ERROR, "first")], "task-b", "~b")
        await each.aput_writes(config, [(ERROR, "second"), (INTERRUPT, "stop")], "task-b", "~b")
        await each.aput_writes(config, [("x", 3)], "task-a", "~a")
        await each.aput_writes(config, [("z", 4)], "task-c")
        tuples.append(await each.aget_tuple(config))

    mine, reference = tuples
    assert mine is not None and reference is not None
    assert mine.pending_writes == reference.pending_writes
    assert [write[2] for write in mine.pending_writes or []] == [4, 3, "stop", "second", 1, 2]


async def test_each_put_and_put_writes_is_one_file_write(root: Path) -> None:
    backend = WatchedBackend(root)
    saver = WorkspaceCheckpointSaver(backend)

    config = await saver.aput(generate_config("t1"), generate_checkpoint(), generate_metadata(), {})
    assert backend.calls == {"connect": 1, "create": 1, "write_file": 1}

    backend.calls.clear()
    await saver.aput_writes(config, [("a", 1), ("b", 2)], "task-1")
    await saver.aput_writes(config, [("c", 3)], "task-2")
    await saver.aput(config, generate_checkpoint(), generate_metadata(step=1), {})
    assert backend.calls == {"write_file": 3}


async def test_reads_create_nothing_and_delete_keeps_the_workspace(
    saver: WorkspaceCheckpointSaver, root: Path
) -> None:
    assert await saver.aget_tuple(generate_config("ghost")) is None
    assert [item async for item in saver.alist(generate_config("ghost"))] == []
    await saver.adelete_thread("ghost")
    assert not root.exists()

    config = await saver.aput(generate_config("t1"), generate_checkpoint(), generate_metadata(), {})
    await saver.adelete_thread("t1")

    assert await saver.aget_tuple(config) is None
    assert [path.name for path in root.iterdir()] == ["t1"]
    assert not (root / "t1" / ".checkpoints").exists()


async def test_a_released_workspace_is_not_recreated_by_the_runs_later_puts(root: Path) -> None:
    backend = WatchedBackend(root)
    saver = WorkspaceCheckpointSaver(backend)
    first = await saver.aput(generate_config("t1"), generate_checkpoint(), generate_metadata(), {})
    await backend.destroy("t1")

    await saver.aput_writes(first, [("x", 1)], "task")
    await saver.aput(first, generate_checkpoint(), generate_metadata(step=1), {})
    assert not (root / "t1").exists()

    again = await saver.aput(generate_config("t1"), generate_checkpoint(), generate_metadata(), {})
    assert await saver.aget_tuple(again) is not None


async def test_without_a_backend_it_uses_the_one_the_settings_choose(root: Path) -> None:
    saver = WorkspaceCheckpointSaver()

    config = await saver.aput(generate_config("t1"), generate_checkpoint(), generate_metadata(), {})

    assert (root / "t1" / ".checkpoints").is_dir()
    assert await saver.aget_tuple(config) is not None


async def test_a_graph_run_keeps_its_history_in_the_workspace(
    saver: WorkspaceCheckpointSaver, root: Path
) -> None:
    graph = fan_graph(saver)
    config: RunnableConfig = {"configurable": {"thread_id": "t1"}}

    result = await graph.ainvoke({"items": ["a", "b", "c"]}, config)

    assert sorted(result["done"]) == ["a", "b", "c"]
    history = [snapshot async for snapshot in graph.aget_state_history(config)]
    assert [(snapshot.metadata or {}).get("step") for snapshot in history] == [3, 2, 1, 0, -1]
    assert history[0].values == result
    stored = {path.name for path in (root / "t1" / ".checkpoints" / "ns-").iterdir()}
    assert stored == {snapshot.config["configurable"]["checkpoint_id"] for snapshot in history}


async def test_a_run_without_thread_id_persists_nothing(
    saver: WorkspaceCheckpointSaver, root: Path
) -> None:
    graph = fan_graph(saver)
    with pytest.raises(ValueError, match="Checkpointer requires"):  # LangGraph's own rule
        await graph.ainvoke({"items": ["a"]}, {"configurable": {}})

    result = await graph.ainvoke({"items": ["a", "b"]}, {"configurable": {"user": "ada"}})

    assert sorted(result["done"]) == ["a", "b"]
    assert not root.exists()


async def test_a_failed_run_resumes_without_rerunning_finished_nodes(
    saver: WorkspaceCheckpointSaver,
) -> None:
    graph = fan_graph(saver)
    config: RunnableConfig = {"configurable": {"thread_id": "t1"}}
    FAIL_ONCE.add("b")

    with pytest.raises(RuntimeError, match="b fails once"):
        await graph.ainvoke({"items": ["a", "b", "c"]}, config)
    assert CALLS == {"plan": 1, "a": 1, "b": 1, "c": 1}

    result = await graph.ainvoke(None, config)

    assert sorted(result["done"]) == ["a", "b", "c"]
    assert CALLS == {"plan": 1, "a": 1, "b": 2, "c": 1, "summarize": 1}


def test_a_sync_invoke_checkpoints_too(saver: WorkspaceCheckpointSaver) -> None:
    graph = fan_graph(saver)
    config: RunnableConfig = {"configurable": {"thread_id": "sync"}}

    result = graph.invoke({"items": ["a", "b"]}, config)

    assert sorted(result["done"]) == ["a", "b"]
    assert graph.get_state(config).values == result
    assert len(list(graph.get_state_history(config))) == 5
