"""The optional on-disk LLM cache: an identical dream re-run makes no LLM calls."""

import sqlite3
from pathlib import Path

import pytest

from core.context import DreamContext
from core.settings import get_settings
from core.state import DreamInput
from graph.runner import run_dream
from nodes.answer_cache import AnswerCache
from nodes.create_workspace import new_workspace_id
from tests.support.openai_server import FakeOpenAI, Fault

DREAM = DreamInput(customer="Bakers", product="An oven", children_count=2, generations_count_int=3)
CALLS = (1 + 2 + 4) + 4


def use_cache(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    monkeypatch.setenv("CODREAMER_LLM_CACHE", str(path))
    get_settings.cache_clear()


def nodes_of(output: dict) -> list[dict]:
    return output["nodes"]


@pytest.mark.parametrize("workflow", ["true", "false"])
async def test_a_rerun_is_answered_from_the_cache(
    fake_llm: FakeOpenAI, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, workflow: str
) -> None:
    monkeypatch.setenv("USE_WORKFLOW", workflow)
    use_cache(monkeypatch, tmp_path / "cache" / "answers.sqlite")

    first = await run_dream(DREAM, DreamContext(), new_workspace_id())
    assert fake_llm.stats.calls == CALLS
    second = await run_dream(DREAM, DreamContext(), new_workspace_id())

    assert fake_llm.stats.calls == CALLS, "the re-run reached the LLM"
    assert nodes_of(second) == nodes_of(first)
    assert first["metadata"]["usage"]["cached_answers"] == 0
    assert second["metadata"]["usage"] == {
        "llm_calls": 0,
        "input_tokens": 0,
        "output_tokens": 0,
        "cached_answers": CALLS,
        "rate_limited": 0,
        "server_errors": 0,
        "retries": 0,
    }
    assert second["metadata"]["cost_usd"] in (None, 0)


async def test_without_the_setting_nothing_is_cached(
    fake_llm: FakeOpenAI, isolated_env: Path
) -> None:
    await run_dream(DREAM, DreamContext(), new_workspace_id())
    await run_dream(DREAM, DreamContext(), new_workspace_id())

    assert fake_llm.stats.calls == 2 * CALLS
    assert [path.name for path in isolated_env.rglob("*.sqlite")] == ["library.sqlite"]


async def test_a_different_dream_misses_the_cache(
    fake_llm: FakeOpenAI, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    use_cache(monkeypatch, tmp_path / "answers.sqlite")
    await run_dream(DREAM, DreamContext(), new_workspace_id())

    other = DREAM.model_copy(update={"product": "A mixer"})
    await run_dream(other, DreamContext(), new_workspace_id())
    await run_dream(DREAM, DreamContext(temperature=0.0), new_workspace_id())

    assert fake_llm.stats.calls == 3 * CALLS


async def test_only_accepted_answers_are_cached(
    fake_llm: FakeOpenAI, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A rejected answer (broken JSON) is asked again; the accepted retry is what is kept."""
    use_cache(monkeypatch, tmp_path / "answers.sqlite")
    fake_llm.faults = [Fault(body='{"children": [')]
    first = await run_dream(DREAM, DreamContext(), new_workspace_id())
    assert fake_llm.stats.calls == CALLS + 1

    second = await run_dream(DREAM, DreamContext(), new_workspace_id())

    assert fake_llm.stats.calls == CALLS + 1
    assert nodes_of(second) == nodes_of(first)


async def test_an_unusable_cache_file_only_costs_calls(
    fake_llm: FakeOpenAI, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A cache whose table is gone (or a locked file) is logged and bypassed, never fatal."""
    path = tmp_path / "answers.sqlite"
    use_cache(monkeypatch, path)
    await run_dream(DREAM, DreamContext(), new_workspace_id())
    with sqlite3.connect(path) as connection:
        connection.execute("DROP TABLE cache")

    output = await run_dream(DREAM, DreamContext(), new_workspace_id())

    assert fake_llm.stats.calls == 2 * CALLS
    assert output["metadata"]["totalNodes"] == 2 + 2 + 4 + 8


async def test_cache_keys_cover_the_model_and_the_whole_request(tmp_path: Path) -> None:
    cache = AnswerCache(tmp_path / "answers.sqlite")
    request = {"messages": [("human", "hi")], "max_tokens": 10}

    await cache.store(cache.key("model-a", request), "answer")

    assert await cache.lookup(cache.key("model-a", dict(reversed(request.items())))) == "answer"
    assert await cache.lookup(cache.key("model-b", request)) is None
    assert await cache.lookup(cache.key("model-a", {**request, "max_tokens": 11})) is None
