"""A whole dream through the compiled graph, against the loopback OpenAI-compatible server."""

import json
from collections import deque
from pathlib import Path

import pytest

from core.state import CUSTOMER_JOB, PRODUCT_FEATURE, total_node_count
from graph import graph
from sandbox.local import LocalWorkspace
from tests.support.openai_server import FakeOpenAI

SEED_FILES = [
    "graph-state.json",
    "generation.log",
    "errors.log",
    "final-graph.json",
    "connections.log",
    "results.json",
]


def dream_input(children: int, generations: int) -> dict:
    return {
        "customer": "Enterprise software companies using microservices",
        "product": "Distributed tracing and observability platform",
        "children_count": children,
        "generations_count_int": generations,
    }


def reachable_from(nodes: list[dict], start: str) -> set[str]:
    by_id = {node["id"]: node for node in nodes}
    seen, queue = {start}, deque([start])
    while queue:
        for edge in by_id[queue.popleft()]["edge"]:
            if edge["target_id"] not in seen:
                seen.add(edge["target_id"])
                queue.append(edge["target_id"])
    return seen


@pytest.mark.parametrize(("children", "generations"), [(2, 3), (3, 2), (1, 1)])
async def test_dream_grows_the_complete_graph(
    fake_llm: FakeOpenAI, children: int, generations: int
) -> None:
    output = await graph.ainvoke(dream_input(children, generations))

    nodes, metadata = output["nodes"], output["metadata"]
    assert len(nodes) == total_node_count(children, generations) == metadata["totalNodes"]
    ids = [node["id"] for node in nodes]
    assert len(set(ids)) == len(ids)
    by_id = {node["id"]: node for node in nodes}
    assert by_id[CUSTOMER_JOB]["content"] == dream_input(1, 1)["customer"]
    assert by_id[PRODUCT_FEATURE]["content"] == dream_input(1, 1)["product"]
    assert reachable_from(nodes, CUSTOMER_JOB) == set(ids)
    grown = [node for node in nodes if node["id"] not in (CUSTOMER_JOB, PRODUCT_FEATURE)]
    for node in grown:
        children_edges = [e for e in node["edge"] if e["target_id"] != PRODUCT_FEATURE]
        if node["generation"] < generations:
            assert len(children_edges) == children
        else:
            assert [e["target_id"] for e in node["edge"]] == [PRODUCT_FEATURE]
            assert node["edge"][0]["relationship"] == "is solved by"
    assert len(by_id[CUSTOMER_JOB]["edge"]) == children
    assert by_id[PRODUCT_FEATURE]["edge"] == []


async def test_dream_metadata_and_usage_match_the_server(fake_llm: FakeOpenAI) -> None:
    output = await graph.ainvoke(dream_input(2, 3))

    metadata = output["metadata"]
    parents_expanded = 1 + 2 + 4
    parents_of_leaves = 4
    assert fake_llm.stats.calls == parents_expanded + parents_of_leaves
    assert metadata["usage"] == {
        "llm_calls": fake_llm.stats.calls,
        "input_tokens": fake_llm.stats.input_tokens,
        "output_tokens": fake_llm.stats.output_tokens,
        "cached_answers": 0,
        "rate_limited": 0,
        "server_errors": 0,
        "retries": 0,
    }
    assert metadata["generations"] == 3 and metadata["childrenCount"] == 2
    assert metadata["sandbox"] == "local" and metadata["daytonaWorkspaceId"] is None
    assert metadata["mode"] == "workflow" and metadata["model"] == "fake-model"
    assert isinstance(metadata["generationTime"], int) and metadata["generationTime"] >= 0
    assert metadata["warnings"] == []


async def test_dream_writes_the_seed_files(fake_llm: FakeOpenAI, isolated_env: Path) -> None:
    output = await graph.ainvoke(dream_input(2, 3))

    workspace = isolated_env / "workspaces" / output["metadata"]["workspaceId"]
    assert Path(output["metadata"]["workspacePath"]) == workspace
    names = {path.name for path in workspace.iterdir()}
    assert set(SEED_FILES) | {f"checkpoint-gen{n}.json" for n in (1, 2, 3)} <= names
    assert json.loads((workspace / "results.json").read_text()) == output
    initial = json.loads((workspace / "graph-state.json").read_text())["nodes"]
    assert [node["id"] for node in initial] == [CUSTOMER_JOB, PRODUCT_FEATURE]
    for generation, expected in ((1, 4), (2, 8), (3, 16)):
        checkpoint = json.loads((workspace / f"checkpoint-gen{generation}.json").read_text())
        assert len(checkpoint["nodes"]) == expected
    final = json.loads((workspace / "final-graph.json").read_text())["nodes"]
    assert len(final) == 16 and all(
        PRODUCT_FEATURE not in [e["target_id"] for e in node["edge"]] for node in final
    )
    log_lines = (workspace / "generation.log").read_text().splitlines()
    assert [line.split(" ", 1)[1].split(":")[0] for line in log_lines] == [
        "generation 1/3",
        "generation 2/3",
        "generation 3/3",
    ]
    assert len((workspace / "connections.log").read_text().splitlines()) == 8
    assert (workspace / "errors.log").read_text() == ""


async def test_dream_in_a_thread_uses_the_thread_id_as_workspace_id(fake_llm: FakeOpenAI) -> None:
    config = {"configurable": {"thread_id": "dream-chosen-id"}}
    output = await graph.ainvoke(dream_input(1, 1), config)

    assert output["metadata"]["workspaceId"] == "dream-chosen-id"


def test_dream_runs_synchronously_through_invoke(fake_llm: FakeOpenAI) -> None:
    output = graph.invoke(dream_input(2, 1))

    assert output["metadata"]["totalNodes"] == 4


async def test_a_workspace_write_that_keeps_failing_is_a_warning(
    fake_llm: FakeOpenAI, isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = LocalWorkspace.write_file

    async def flaky_write(self: LocalWorkspace, path: str, data: str | bytes) -> None:
        if path == "checkpoint-gen1.json":
            raise OSError("disk full")
        await original(self, path, data)

    monkeypatch.setattr(LocalWorkspace, "write_file", flaky_write)

    output = await graph.ainvoke(dream_input(2, 2))

    assert output["metadata"]["totalNodes"] == 8
    (warning,) = output["metadata"]["warnings"]
    assert "checkpoint-gen1.json was not written after 3 attempts: disk full" in warning
    workspace = Path(output["metadata"]["workspacePath"])
    assert not (workspace / "checkpoint-gen1.json").exists()
    assert json.loads((workspace / "results.json").read_text())["metadata"]["warnings"] == [warning]


async def test_a_dream_with_a_thread_keeps_a_checkpoint_per_step(fake_llm: FakeOpenAI) -> None:
    config = {"configurable": {"thread_id": "dream-durable"}}
    await graph.ainvoke(dream_input(2, 2), config)

    history = [snapshot async for snapshot in graph.aget_state_history(config)]

    steps = [snapshot.metadata["step"] for snapshot in history]
    assert steps == sorted(steps, reverse=True) and steps[-1] == -1
    assert history[0].next == ()
    assert history[0].values["metadata"]["totalNodes"] == 8
