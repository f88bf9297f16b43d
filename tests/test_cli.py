"""The `codreamer` command, run as a user runs it (a subprocess), against the loopback server."""

import asyncio
import json
import sys
from pathlib import Path

import pytest

from core.settings import get_settings
from sandbox.daytona import DaytonaBackend
from tests.support.cli import SEED_ARGS, run_cli
from tests.support.daytona_server import FakeDaytona
from tests.support.openai_server import FakeOpenAI


def test_cli_dream_prints_the_seed_output_as_json(fake_llm: FakeOpenAI, isolated_env: Path) -> None:
    result = run_cli("dream", *SEED_ARGS, "--children", "2", "--generations", "3", "--json")

    assert result.returncode == 0, result.stderr
    first_line = result.stderr.splitlines()[0]
    output = json.loads(result.stdout)
    assert first_line == f"dream: {output['metadata']['workspaceId']}"
    assert len(output["nodes"]) == output["metadata"]["totalNodes"] == 16
    assert output["metadata"]["usage"]["llm_calls"] == fake_llm.stats.calls == 11
    assert "generation 3/3: 16/16 nodes" in result.stderr
    workspace = Path(output["metadata"]["workspacePath"])
    assert workspace.parent == isolated_env / "workspaces"
    assert f"workspace: {workspace}" in result.stderr.splitlines()
    assert f"viewer: {workspace / 'graph.html'}" in result.stderr.splitlines()
    assert "vis.Network" in (workspace / "graph.html").read_text()
    assert json.loads((workspace / "results.json").read_text()) == output


def test_cli_dream_without_json_prints_only_to_stderr(fake_llm: FakeOpenAI) -> None:
    result = run_cli("dream", *SEED_ARGS, "--children", "1", "--generations", "1")

    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "dream complete" in result.stderr


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--children", "0"], "--children"),
        (["--children", "11"], "--children"),
        (["--generations", "0"], "--generations"),
        (["--generations", "7"], "--generations"),
        (["--children", "10", "--generations", "6"], "--children/--generations"),
        (["--children", "abc"], "--children"),
    ],
)
def test_cli_rejects_bad_counts_with_exit_2(
    fake_llm: FakeOpenAI, args: list[str], named: str
) -> None:
    result = run_cli("dream", *SEED_ARGS, *args)

    assert result.returncode == 2
    assert named in result.stderr
    assert fake_llm.stats.calls == 0


@pytest.mark.parametrize(
    ("customer", "product", "named"),
    [
        ("", "A product", "--customer"),
        ("   ", "A product", "--customer"),
        ("A customer", "", "--product"),
        ("x" * 2001, "A product", "--customer"),
        ("A customer", "y" * 2001, "--product"),
    ],
)
def test_cli_rejects_bad_texts_with_exit_2(
    fake_llm: FakeOpenAI, customer: str, product: str, named: str
) -> None:
    result = run_cli("dream", "--customer", customer, "--product", product)

    assert result.returncode == 2
    assert named in result.stderr
    assert fake_llm.stats.calls == 0


def test_cli_reports_an_unreachable_llm_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("CODREAMER_LLM_RETRIES", "1")

    result = run_cli("dream", *SEED_ARGS, "--children", "1", "--generations", "1")

    assert result.returncode == 1
    assert "http://127.0.0.1:9/v1" in result.stderr and "unreachable" in result.stderr


def test_cli_dream_on_daytona_leaves_no_sandbox(
    fake_llm: FakeOpenAI, fake_daytona: FakeDaytona, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("USE_DAYTONA", "true")

    result = run_cli("dream", *SEED_ARGS, "--children", "2", "--generations", "3", "--json")

    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert output["metadata"]["totalNodes"] == 16
    assert output["metadata"]["sandbox"] == "daytona" and output["metadata"]["daytonaWorkspaceId"]
    assert f"sandbox: {output['metadata']['daytonaWorkspaceId']} deleted" in result.stderr
    viewer = Path(".codreamer", "viewers", f"{output['metadata']['workspaceId']}.html").resolve()
    assert f"viewer: {viewer}" in result.stderr.splitlines() and viewer.exists()
    assert fake_daytona.live_sandboxes() == []
    # The SDK's traced async generators, left early, used to print OpenTelemetry tracebacks.
    assert "Traceback" not in result.stderr and "Failed to detach context" not in result.stderr


async def test_cli_sandboxes_list_and_prune_find_crashed_runs(
    fake_daytona: FakeDaytona, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("USE_DAYTONA", "true")
    backend = DaytonaBackend.from_settings(get_settings())
    await backend.create("dream-crashed-1")
    await backend.create("dream-crashed-2")

    listed = await asyncio.to_thread(run_cli, "sandboxes", "list")
    pruned = await asyncio.to_thread(run_cli, "sandboxes", "prune")

    assert listed.returncode == 0, listed.stderr
    assert sorted(listed.stdout.split()) == ["dream-crashed-1", "dream-crashed-2"]
    assert pruned.returncode == 0, pruned.stderr
    assert sorted(pruned.stdout.split()) == ["dream-crashed-1", "dream-crashed-2"]
    assert fake_daytona.live_sandboxes() == []


def test_cli_refuses_to_prune_local_workspaces() -> None:
    result = run_cli("sandboxes", "prune", "--backend", "local")

    assert result.returncode == 2 and "kept on purpose" in result.stderr


def test_cli_serve_refuses_bad_settings_at_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODREAMER_MAX_CONCURRENCY", "0")

    result = run_cli("serve", "--port", "3459")

    assert result.returncode == 2
    assert "CODREAMER_MAX_CONCURRENCY" in result.stderr


def test_cli_names_a_misspelt_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODREAMER_MAX_CONCURENCY", "8")

    dream = run_cli("dream", *SEED_ARGS)
    serve = run_cli("serve", "--port", "3459")

    assert dream.returncode == serve.returncode == 2
    assert "CODREAMER_MAX_CONCURENCY" in dream.stderr and "a typo?" in serve.stderr


def test_cli_rerun_with_the_llm_cache_makes_no_calls(
    fake_llm: FakeOpenAI, isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CODREAMER_LLM_CACHE", str(isolated_env / "answers.sqlite"))
    args = ("dream", *SEED_ARGS, "--children", "2", "--generations", "2")
    assert run_cli(*args).returncode == 0
    calls = fake_llm.stats.calls

    rerun = run_cli(*args)

    assert rerun.returncode == 0, rerun.stderr
    assert fake_llm.stats.calls == calls == 3 + 2
    assert "0 (5 answers from the LLM cache)" in rerun.stderr


def test_an_unexpected_error_is_one_line_and_a_crash_log(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], isolated_env: Path
) -> None:
    import cli
    from codreamer_cli import library as library_commands

    async def broken() -> list:
        raise RuntimeError("boom")

    monkeypatch.setattr(library_commands, "list_dreams", broken)
    monkeypatch.setattr(sys, "argv", ["codreamer", "list", "--workspaces"])
    with pytest.raises(SystemExit) as exited:
        cli.main()

    assert exited.value.code == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("error: unexpected RuntimeError: boom") and "--debug" in line
    (log,) = (isolated_env / ".codreamer" / "logs").iterdir()
    assert str(log) in line
    assert "Traceback" in log.read_text() and "RuntimeError: boom" in log.read_text()

    monkeypatch.setattr(sys, "argv", ["codreamer", "--debug", "list", "--workspaces"])
    with pytest.raises(RuntimeError, match="boom"):
        cli.main()
