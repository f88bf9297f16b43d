"""Crash and resume: a dream SIGKILLed after generation 2 finishes with `codreamer resume`,
without paying again for any expansion that had finished."""

import json
import os
import re
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from core.settings import get_settings
from core.state import CUSTOMER_JOB, PRODUCT_FEATURE
from graph import graph
from tests.support.cli import CODREAMER, SEED_ARGS, run_cli
from tests.support.daytona_server import FakeDaytona
from tests.support.openai_server import FakeOpenAI

POINT = re.compile(r"<point>(.*?)</point>", re.DOTALL)


def expanded_points(prompts: list[str]) -> list[str]:
    """The parent each expansion prompt asked about (the last <point>, after the example)."""
    return [POINT.findall(prompt)[-1] for prompt in prompts if "Path so far:" in prompt]


def wait_for(condition, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def dream_killed_in_generation_3(fake_llm: FakeOpenAI, tmp_path: Path, log_of) -> str:
    """Start a K=2, G=3 dream, SIGKILL it while generation 3's calls are in flight; its id."""
    fake_llm.latency = 1.0
    stderr_path = tmp_path / "killed.stderr"
    with stderr_path.open("w") as stderr:
        process = subprocess.Popen(
            [CODREAMER, "dream", *SEED_ARGS, "--children", "2", "--generations", "3"],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env=dict(os.environ),
        )
    try:
        wait_for(lambda: stderr_path.read_text().startswith("dream: "), "the dream line")
        workspace_id = stderr_path.read_text().split()[1]
        wait_for(lambda: "generation 2/3" in log_of(workspace_id), "generation 2")
        wait_for(lambda: fake_llm.stats.in_flight > 0, "generation 3 calls")
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=30) == -signal.SIGKILL
        wait_for(lambda: fake_llm.stats.in_flight == 0, "the killed run's calls to drain")
    finally:
        process.kill()
        fake_llm.latency = 0.0
    return workspace_id


def local_log(root: Path) -> Callable[[str], str]:
    """The generation.log of a local dream under `root`, by its id ("" until it exists)."""

    def log_of(workspace_id: str) -> str:
        log = root / "workspaces" / workspace_id / "generation.log"
        return log.read_text() if log.exists() else ""

    return log_of


def assert_complete_after_resume(output: dict, fake_llm: FakeOpenAI, first_run: list[str]) -> None:
    nodes = {node["id"]: node for node in output["nodes"]}
    assert len(nodes) == output["metadata"]["totalNodes"] == 16
    leaves = [n for n in nodes.values() if n["generation"] == 3]
    assert len(leaves) == 8
    assert all([e["target_id"] for e in leaf["edge"]] == [PRODUCT_FEATURE] for leaf in leaves)
    assert len(nodes[CUSTOMER_JOB]["edge"]) == 2
    seen = Counter(expanded_points(first_run) + expanded_points(fake_llm.stats.prompts))
    generations_1_and_2 = [
        n for n in nodes.values() if n["generation"] in (0, 1) and n["id"] != PRODUCT_FEATURE
    ]
    for parent in generations_1_and_2:
        point = f"{parent['name']}: {parent['content']}"
        assert seen[point] == 1, f"{parent['id']} was expanded {seen[point]} times"
    assert expanded_points(first_run)
    assert fake_llm.stats.calls == 4 + 4


def test_resume_after_sigkill_on_the_local_sandbox(
    fake_llm: FakeOpenAI, isolated_env: Path
) -> None:
    workspace_id = dream_killed_in_generation_3(fake_llm, isolated_env, local_log(isolated_env))
    first_run = list(fake_llm.stats.prompts)
    fake_llm.reset()

    result = run_cli("resume", workspace_id, "--json")

    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert output["metadata"]["workspaceId"] == workspace_id
    assert_complete_after_resume(output, fake_llm, first_run)
    results = isolated_env / "workspaces" / workspace_id / "results.json"
    assert json.loads(results.read_text()) == output


def test_resume_after_sigkill_on_daytona(
    fake_llm: FakeOpenAI,
    fake_daytona: FakeDaytona,
    isolated_env: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("USE_DAYTONA", "true")

    def log_of(workspace_id: str) -> str:
        for live in fake_daytona.live_sandboxes():
            if live["labels"].get("codreamer-dream") == workspace_id:
                log = fake_daytona.sandbox_root(live["id"]) / "workspace" / "generation.log"
                return log.read_text() if log.exists() else ""
        return ""

    workspace_id = dream_killed_in_generation_3(fake_llm, isolated_env, log_of)
    assert len(fake_daytona.live_sandboxes()) == 1
    first_run = list(fake_llm.stats.prompts)
    fake_llm.reset()

    result = run_cli("resume", workspace_id, "--json")

    assert result.returncode == 0, result.stderr
    assert_complete_after_resume(json.loads(result.stdout), fake_llm, first_run)
    assert fake_daytona.live_sandboxes() == []


async def test_resume_through_python_after_a_failed_run(
    fake_llm: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = {"configurable": {"thread_id": "dream-python-resume"}}
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    get_settings.cache_clear()
    with pytest.raises(Exception, match="unreachable"):
        await graph.ainvoke(
            {"customer": "c", "product": "p", "children_count": 2, "generations_count_int": 2},
            config,
        )
    monkeypatch.setenv("OPENAI_BASE_URL", fake_llm.url)
    get_settings.cache_clear()

    output = await graph.ainvoke(None, config)

    assert output["metadata"]["totalNodes"] == 8
    assert output["metadata"]["workspaceId"] == "dream-python-resume"


def test_resume_of_an_unknown_dream_fails_clearly(fake_llm: FakeOpenAI) -> None:
    result = run_cli("resume", "dream-that-never-was")

    assert result.returncode == 1
    assert "no checkpoint of dream 'dream-that-never-was'" in result.stderr


def test_two_resumes_at_once_run_the_remaining_work_once(
    fake_llm: FakeOpenAI, isolated_env: Path
) -> None:
    workspace_id = dream_killed_in_generation_3(fake_llm, isolated_env, local_log(isolated_env))
    first_run = list(fake_llm.stats.prompts)
    fake_llm.reset()
    fake_llm.latency = 1.0
    try:
        resumes = [
            subprocess.Popen(
                [CODREAMER, "resume", workspace_id, "--json"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=dict(os.environ),
            )
            for _ in range(2)
        ]
        outcomes = [(process.wait(timeout=120), *process.communicate()) for process in resumes]
    finally:
        fake_llm.latency = 0.0

    outcomes.sort(key=lambda outcome: outcome[0])
    (won, stdout, _), (lost, _, stderr) = outcomes
    assert (won, lost) == (0, 1), stderr
    assert "is already running" in stderr and "Traceback" not in stderr
    assert_complete_after_resume(json.loads(stdout), fake_llm, first_run)
