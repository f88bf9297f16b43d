"""The CLI and server run dreams durably: a step's checkpoint is on disk before the next
step's LLM calls go out, so a crash never loses a finished step."""

import asyncio
from pathlib import Path
from typing import Any

import pytest

from core.context import DreamContext
from core.state import DreamInput
from graph.runner import run_dream
from graph.workflow import graph
from nodes import expand_generation as expand_module
from sandbox.local import LocalWorkspace
from tests.support.openai_server import FakeOpenAI

SLOW_CHECKPOINT_S = 0.3
DREAM = DreamInput(customer="Bakers", product="An oven", children_count=1, generations_count_int=3)


def checkpoints_on_disk(workspace: Path) -> int:
    return len(list(workspace.glob(".checkpoints/*/*/checkpoint.json")))


@pytest.fixture
def seen_at_expansion(monkeypatch: pytest.MonkeyPatch, isolated_env: Path) -> list[int]:
    """Checkpoint files on disk when each generation's expansion asks the model (K=1: one call
    per generation), with checkpoint writes made slow, as over a network to a sandbox."""
    seen: list[int] = []
    write = LocalWorkspace.write_file
    ask = expand_module.ask_model

    async def slow_write(self: LocalWorkspace, path: str, data: str | bytes) -> None:
        if path.endswith("checkpoint.json"):
            await asyncio.sleep(SLOW_CHECKPOINT_S)
        await write(self, path, data)

    async def observed_ask(context: DreamContext, dream_id: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(checkpoints_on_disk(isolated_env / "workspaces" / dream_id))
        return await ask(context, dream_id, *args, **kwargs)

    monkeypatch.setattr(LocalWorkspace, "write_file", slow_write)
    monkeypatch.setattr(expand_module, "ask_model", observed_ask)
    return seen


def durable(seen: list[int]) -> bool:
    """Whether every step before each expansion was on disk: the input, create_workspace and
    init_anchors before generation 1, then one expansion and one save per generation."""
    return all(count >= 3 + 2 * generation for generation, count in enumerate(seen))


async def test_the_runner_checkpoints_each_step_before_the_next(
    fake_llm: FakeOpenAI, seen_at_expansion: list[int]
) -> None:
    output = await run_dream(DREAM, DreamContext(), "dream-durable-runner")

    assert output["metadata"]["totalNodes"] == 5
    assert len(seen_at_expansion) == 3
    assert durable(seen_at_expansion), seen_at_expansion


async def test_the_check_sees_a_run_that_is_not_durable(
    fake_llm: FakeOpenAI, seen_at_expansion: list[int]
) -> None:
    config = {"configurable": {"thread_id": "dream-durable-async"}}

    await graph.ainvoke(DREAM.model_dump(), config, durability="async")

    assert len(seen_at_expansion) == 3
    assert not durable(seen_at_expansion), seen_at_expansion
