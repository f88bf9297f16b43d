"""Whole dreams in Daytona sandboxes (loopback Daytona API, real SDK): files, lifecycle, faults."""

import asyncio
import json

import pytest

import nodes.save_generation
from core.settings import get_settings
from graph import graph
from nodes.structured_call import LLMUnavailableError
from sandbox import SandboxError
from tests.support.daytona_server import FakeDaytona
from tests.support.openai_server import FakeOpenAI

DREAM = {
    "customer": "Bakers",
    "product": "An oven",
    "children_count": 2,
    "generations_count_int": 2,
}
SEED_FILES = {
    "graph-state.json",
    "generation.log",
    "errors.log",
    "checkpoint-gen1.json",
    "checkpoint-gen2.json",
    "final-graph.json",
    "connections.log",
    "results.json",
}


async def test_daytona_dream_keeps_the_sandbox_when_asked(
    on_daytona: FakeDaytona, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KEEP_DAYTONA_WORKSPACE", "true")
    get_settings.cache_clear()

    output = await graph.ainvoke(DREAM)

    metadata = output["metadata"]
    (live,) = on_daytona.live_sandboxes()
    assert metadata["daytonaWorkspaceId"] == live["id"]
    assert metadata["sandbox"] == "daytona" and metadata["workspaceKept"] is True
    assert metadata["workspacePath"] == "/workspace"
    folder = on_daytona.sandbox_root(live["id"]) / "workspace"
    assert SEED_FILES <= {path.name for path in folder.iterdir()}
    assert json.loads((folder / "results.json").read_text()) == output
    assert len(json.loads((folder / "checkpoint-gen2.json").read_text())["nodes"]) == 8


async def test_daytona_dream_deletes_its_sandbox_by_default(on_daytona: FakeDaytona) -> None:
    output = await graph.ainvoke(DREAM)

    assert output["metadata"]["totalNodes"] == 8
    assert output["metadata"]["workspaceKept"] is False
    assert output["metadata"]["daytonaWorkspaceId"]
    assert on_daytona.live_sandboxes() == []
    assert (
        "DELETE",
        f"/api/sandbox/{output['metadata']['daytonaWorkspaceId']}",
    ) in on_daytona.requests


async def test_daytona_sandbox_is_deleted_when_the_llm_is_down(
    on_daytona: FakeDaytona, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    get_settings.cache_clear()

    with pytest.raises(LLMUnavailableError):
        await graph.ainvoke(DREAM)

    assert (
        len([m for m, path in on_daytona.requests if m == "POST" and path == "/api/sandbox"]) == 1
    )
    assert on_daytona.live_sandboxes() == []


async def test_daytona_sandbox_is_deleted_when_a_node_raises(
    on_daytona: FakeDaytona, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(generation: int) -> str:
        raise RuntimeError("injected failure")

    monkeypatch.setattr(nodes.save_generation, "checkpoint_file", broken)

    with pytest.raises(RuntimeError, match="injected failure"):
        await graph.ainvoke(DREAM)

    assert on_daytona.live_sandboxes() == []


async def test_daytona_sandbox_is_deleted_when_the_run_is_cancelled(
    on_daytona: FakeDaytona, fake_llm: FakeOpenAI
) -> None:
    fake_llm.latency = 5.0
    try:
        run = asyncio.create_task(graph.ainvoke(DREAM))
        while fake_llm.stats.in_flight == 0:
            await asyncio.sleep(0.05)
        assert len(on_daytona.live_sandboxes()) == 1
        run.cancel()
        with pytest.raises(asyncio.CancelledError):
            await run
    finally:
        fake_llm.latency = 0.0

    assert on_daytona.live_sandboxes() == []


@pytest.mark.parametrize("status", [500, 429])
async def test_daytona_create_failure_ends_the_dream_at_once(
    on_daytona: FakeDaytona, fake_llm: FakeOpenAI, status: int
) -> None:
    on_daytona.fail_create = [status]

    with pytest.raises(SandboxError, match=f"Daytona at .* could not create a sandbox.*{status}"):
        await graph.ainvoke(DREAM)

    assert fake_llm.stats.calls == 0
    assert on_daytona.live_sandboxes() == []
