"""Verification across a crash, on Daytona, and in legacy mode: still each idea once."""

import json
from collections import Counter
from pathlib import Path

import pytest

from core.context import DreamContext
from core.settings import get_settings
from core.state import ANCHOR_IDS, DreamInput
from core.workspace_layout import VERIFICATION_LOG
from graph.runner import run_dream
from nodes.create_workspace import new_workspace_id
from tests.e2e.test_resume import dream_killed_in_generation_3, local_log
from tests.support.cli import run_cli
from tests.support.daytona_server import FakeDaytona
from tests.support.openai_server import FakeOpenAI
from tests.support.search_servers import FakeTavily


def test_a_resumed_dream_verifies_no_idea_twice(
    fake_llm: FakeOpenAI, fake_tavily: FakeTavily, isolated_env: Path
) -> None:
    workspace_id = dream_killed_in_generation_3(fake_llm, isolated_env, local_log(isolated_env))
    searched_before = len(fake_tavily.stats.queries)

    result = run_cli("resume", workspace_id, "--json")

    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    ideas = [node for node in output["nodes"] if node["id"] not in ANCHOR_IDS]
    assert len(ideas) == 14
    assert all("verification" in node for node in ideas)
    assert searched_before == 6  # generations 1 and 2, before the kill
    assert len(fake_tavily.stats.queries) == 14
    assert set(Counter(fake_tavily.stats.queries).values()) == {1}
    log = (isolated_env / "workspaces" / workspace_id / VERIFICATION_LOG).read_text()
    assert sorted(line.split()[2] for line in log.splitlines()) == sorted(n["id"] for n in ideas)
    assert output["metadata"]["verification"]["searches"] == 14


async def test_verification_log_is_written_in_the_daytona_sandbox(
    fake_llm: FakeOpenAI,
    fake_tavily: FakeTavily,
    fake_daytona: FakeDaytona,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dream_input = DreamInput(customer="Hospital nurses on night shifts", product="A pager app")
    context = DreamContext(sandbox="daytona", keep_workspace=True, verify=True)

    output = await run_dream(dream_input, context, new_workspace_id())

    (live,) = fake_daytona.live_sandboxes()
    log = fake_daytona.sandbox_root(live["id"]) / "workspace" / VERIFICATION_LOG
    lines = log.read_text().splitlines()
    assert len(lines) == 14 == output["metadata"]["verification"]["verified"]
    assert fake_tavily.api_key not in log.read_text()


async def test_legacy_mode_verifies_too(
    fake_llm: FakeOpenAI, fake_tavily: FakeTavily, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("USE_WORKFLOW", "false")
    get_settings.cache_clear()
    dream_input = DreamInput(customer="Dentists", product="A booking app", generations_count_int=2)

    output = await run_dream(dream_input, DreamContext(verify=True), new_workspace_id())

    assert output["metadata"]["mode"] == "legacy"
    assert output["metadata"]["verification"]["verified"] == 6
    assert len(set(fake_tavily.stats.queries)) == len(fake_tavily.stats.queries) == 6
