"""The parallel path gives what the sequential (legacy) path gives, on a deterministic server."""

import pytest

from core.context import DreamContext
from core.settings import get_settings
from core.state import DreamInput
from graph.runner import run_dream
from nodes.create_workspace import new_workspace_id
from tests.support.openai_server import FakeOpenAI

DREAM = DreamInput(customer="Bakers", product="An oven", children_count=3, generations_count_int=3)


def graph_of(output: dict) -> dict:
    """Nodes by id, edges included: everything but timing and workspace ids."""
    return {node["id"]: node for node in output["nodes"]}


async def test_workflow_and_legacy_grow_the_same_graph(
    fake_llm: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_llm.latency = 0.01
    workflow = await run_dream(DREAM, DreamContext(max_concurrency=64), new_workspace_id())
    workflow_calls, workflow_peak = fake_llm.stats.calls, fake_llm.stats.peak_in_flight
    fake_llm.reset()
    monkeypatch.setenv("USE_WORKFLOW", "false")
    get_settings.cache_clear()

    legacy = await run_dream(DREAM, DreamContext(max_concurrency=64), new_workspace_id())
    fake_llm.latency = 0.0

    assert graph_of(workflow) == graph_of(legacy)
    assert len(graph_of(workflow)) == 2 + 3 + 9 + 27
    assert workflow_calls == fake_llm.stats.calls == (1 + 3 + 9) + 9
    assert workflow_peak == 9 and fake_llm.stats.peak_in_flight == 1
    assert (workflow["metadata"]["mode"], legacy["metadata"]["mode"]) == ("workflow", "legacy")
