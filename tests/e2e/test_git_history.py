"""Every workspace is a git repository: a commit at the start, one per generation, one at the end
(real git, locally and through the real SDK against the loopback Daytona)."""

import json
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

import nodes.save_generation
from core.settings import get_settings
from graph import graph
from sandbox.base import Workspace
from sandbox.git_history import HISTORY_WARNING, commit_step, start_history
from sandbox.local import LocalBackend
from tests.e2e.test_resume import dream_killed_in_generation_3, local_log
from tests.support.cli import run_cli
from tests.support.daytona_server import FakeDaytona
from tests.support.openai_server import FakeOpenAI

DREAM = {
    "customer": "Enterprise software companies using microservices",
    "product": "Distributed tracing and observability platform",
    "children_count": 2,
    "generations_count_int": 3,
}
MESSAGES = [
    "final: 16 nodes",
    "generation 3 of 3: 16 nodes",
    "generation 2 of 3: 8 nodes",
    "generation 1 of 3: 4 nodes",
    "start: 3 generations of 2 children per node",
]
"""`git log --format=%s` of a K=2, G=3 dream, newest first."""
TRACKED = {
    ".gitignore",
    "errors.log",
    "graph-state.json",
    "generation.log",
    "checkpoint-gen1.json",
    "checkpoint-gen2.json",
    "checkpoint-gen3.json",
    "final-graph.json",
    "connections.log",
    "results.json",
    "graph.html",
}


def git(folder: Path, *args: str) -> str:
    """What `git` prints in `folder`, its repository named explicitly (never one around it)."""
    result = run_git(folder, f"--git-dir={folder / '.git'}", f"--work-tree={folder}", *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def run_git(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)


def subjects(folder: Path) -> list[str]:
    return git(folder, "log", "--format=%s").splitlines()


def added_lines(diff: str) -> list[str]:
    return [line[1:] for line in diff.splitlines() if line[:1] == "+" and line[:3] != "+++"]


def commit_of(folder: Path, subject: str) -> str:
    (commit,) = git(folder, "log", "--format=%H", "--fixed-strings", f"--grep={subject}").split()
    return commit


async def local_dream() -> tuple[dict, Path]:
    """A K=2, G=3 dream in a thread of its own (a thread id used before would go on with it)."""
    thread_id = f"dream-git-{uuid.uuid4().hex[:8]}"
    output = await graph.ainvoke(DREAM, {"configurable": {"thread_id": thread_id}})
    return output, Path(output["metadata"]["workspacePath"])


async def test_git_history_has_a_commit_per_generation_and_one_at_the_end(
    fake_llm: FakeOpenAI,
) -> None:
    output, folder = await local_dream()

    assert subjects(folder) == MESSAGES
    assert set(git(folder, "log", "--format=%an <%ae> %cn <%ce>").splitlines()) == {
        "CoDreamer <codreamer@localhost> CoDreamer <codreamer@localhost>"
    }
    assert (folder / ".checkpoints").is_dir()
    assert set(git(folder, "ls-files").split()) == TRACKED
    assert git(folder, "status", "--porcelain") == ""
    assert output["metadata"]["warnings"] == []


async def test_git_history_commit_of_a_generation_holds_its_files(fake_llm: FakeOpenAI) -> None:
    _, folder = await local_dream()

    def touched(subject: str) -> set[str]:
        return set(
            git(folder, "show", "--name-only", "--format=", commit_of(folder, subject)).split()
        )

    assert touched("generation 2 of 3") == {"checkpoint-gen2.json", "generation.log"}
    assert touched("generation 1 of 3") == {
        "checkpoint-gen1.json",
        "generation.log",
        "graph-state.json",
    }
    assert touched("final:") == {
        "final-graph.json",
        "connections.log",
        "results.json",
        "graph.html",
    }
    assert touched("start:") == {".gitignore", "errors.log"}


async def test_git_diff_shows_the_dream_growing(fake_llm: FakeOpenAI) -> None:
    _, folder = await local_dream()

    added = git(folder, "diff", "--numstat", "HEAD~1", "HEAD", "--", "results.json").split()
    assert int(added[0]) > 100 and added[1:] == ["0", "results.json"]
    (line,) = added_lines(git(folder, "diff", "HEAD~3", "HEAD~2", "--", "generation.log"))
    assert line.endswith(" generation 2/3: 4 new nodes, 8 in total, 3 LLM calls so far")
    nodes_added = git(folder, "diff", "HEAD:checkpoint-gen1.json", "HEAD:checkpoint-gen2.json")
    assert sum(line.strip() == '"generation": 2,' for line in added_lines(nodes_added)) == 4


async def test_git_history_in_a_daytona_sandbox(
    fake_daytona: FakeDaytona, fake_llm: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("USE_DAYTONA", "true")
    monkeypatch.setenv("KEEP_DAYTONA_WORKSPACE", "true")
    get_settings.cache_clear()

    output = await graph.ainvoke(DREAM, {"configurable": {"thread_id": "dream-git-daytona"}})

    (live,) = fake_daytona.live_sandboxes()
    folder = fake_daytona.sandbox_root(live["id"]) / "workspace"
    assert (folder / ".checkpoints").is_dir()
    assert subjects(folder) == MESSAGES
    assert set(git(folder, "ls-files").split()) == TRACKED
    assert git(folder, "status", "--porcelain") == ""
    assert output["metadata"]["warnings"] == []


async def test_git_history_of_a_resumed_dream_has_each_step_once(
    fake_llm: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run dies after generation 2's commit, before its LangGraph checkpoint: the resumed
    run saves generation 2 again, which amends that commit instead of adding a second one."""
    original = nodes.save_generation.record_step

    async def dies_after_generation_2(workspace: Workspace, message: str, *args, **kwargs):
        warnings = await original(workspace, message, *args, **kwargs)
        if message.startswith("generation 2 of"):
            monkeypatch.setattr(nodes.save_generation, "record_step", original)
            raise RuntimeError("killed after the commit")
        return warnings

    monkeypatch.setattr(nodes.save_generation, "record_step", dies_after_generation_2)
    config = {"configurable": {"thread_id": "dream-git-resumed"}}
    with pytest.raises(RuntimeError, match="killed after the commit"):
        await graph.ainvoke(DREAM, config, durability="sync")

    output = await graph.ainvoke(None, config, durability="sync")

    folder = Path(output["metadata"]["workspacePath"])
    assert subjects(folder) == MESSAGES
    saved = git(folder, "show", commit_of(folder, "generation 2 of 3"), "--", "generation.log")
    added = added_lines(saved)
    assert len(added) == 2 and all("generation 2/3" in line for line in added)  # both runs'
    assert output["metadata"]["warnings"] == []


def test_git_history_of_a_dream_resumed_after_sigkill(
    fake_llm: FakeOpenAI, isolated_env: Path
) -> None:
    workspace_id = dream_killed_in_generation_3(fake_llm, isolated_env, local_log(isolated_env))
    folder = isolated_env / "workspaces" / workspace_id
    assert subjects(folder)[:2] == MESSAGES[2:4]
    fake_llm.reset()

    result = run_cli("resume", workspace_id, "--json")

    assert result.returncode == 0, result.stderr
    assert subjects(folder) == MESSAGES
    assert set(git(folder, "ls-files").split()) == TRACKED
    ignored = git(folder, "status", "--porcelain", "--ignored").splitlines()
    assert sorted(ignored) == ["!! .checkpoints/", "!! .lease.lock"]


async def test_a_step_committed_again_unchanged_adds_no_commit(isolated_env: Path) -> None:
    workspace = await LocalBackend(isolated_env / "workspaces").create("dream-steps")
    assert await start_history(workspace, "start") is True
    await workspace.write_file("a.txt", "1")
    assert await commit_step(workspace, "generation 1 of 1: 4 nodes") is True

    assert await start_history(workspace, "start") is False
    assert await commit_step(workspace, "generation 1 of 1: 4 nodes") is False
    await workspace.write_file("a.txt", "2")
    assert await commit_step(workspace, "generation 1 of 1: 4 nodes") is True

    folder = Path(workspace.path)
    assert subjects(folder) == ["generation 1 of 1: 4 nodes", "start"]
    assert git(folder, "show", "HEAD:a.txt") == "2"


async def test_git_history_ignores_the_callers_git_setup(
    fake_llm: FakeOpenAI, isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The workspaces sit inside another repository whose GIT_* variables, signing and failing
    hook the caller has set: the dream's history is still its own, and that repository is
    left untouched."""
    outer = isolated_env / "outer"
    assert run_git(isolated_env, "init", "-q", str(outer)).returncode == 0
    hook = outer / "hooks" / "pre-commit"
    hook.parent.mkdir()
    hook.write_text("#!/bin/sh\nexit 1\n")
    hook.chmod(0o755)
    (isolated_env / "gitconfig").write_text(
        f"[commit]\n\tgpgsign = true\n[core]\n\thooksPath = {hook.parent}\n"
    )
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(isolated_env / "gitconfig"))
    monkeypatch.setenv("GIT_DIR", str(outer / ".git"))
    monkeypatch.setenv("GIT_INDEX_FILE", str(outer / ".git" / "index"))
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Someone Else")
    monkeypatch.setenv("CODREAMER_WORKSPACES", str(outer / "workspaces"))
    get_settings.cache_clear()

    output, folder = await local_dream()

    monkeypatch.delenv("GIT_DIR")
    monkeypatch.delenv("GIT_INDEX_FILE")
    assert output["metadata"]["warnings"] == []
    assert subjects(folder) == MESSAGES
    assert "Someone Else" not in git(folder, "log", "--format=%an")
    assert "does not have any commits yet" in run_git(outer, "log").stderr
    assert not (outer / ".git" / "index").exists()


@pytest.mark.parametrize("broken_git", ["missing", "failing"])
async def test_a_workspace_without_working_git_finishes_with_one_warning(
    fake_llm: FakeOpenAI, isolated_env: Path, monkeypatch: pytest.MonkeyPatch, broken_git: str
) -> None:
    tools = isolated_env / "bin"
    tools.mkdir()
    if broken_git == "missing":
        (tools / "sh").symlink_to(shutil.which("sh") or "/bin/sh")
        monkeypatch.setenv("PATH", str(tools))  # the local sandbox's commands inherit it
    else:
        (tools / "git").write_text("#!/bin/sh\necho 'fatal: injected failure' >&2\nexit 128\n")
        (tools / "git").chmod(0o755)
        monkeypatch.setenv("PATH", f"{tools}:/usr/bin:/bin")

    output, folder = await local_dream()

    (warning,) = output["metadata"]["warnings"]
    assert warning.startswith(f"{HISTORY_WARNING}: git could not commit 'start: 3 generations")
    cause = "git is not installed" if broken_git == "missing" else "fatal: injected failure"
    assert cause in warning and warning.endswith("the dream's files are complete")
    assert output["metadata"]["totalNodes"] == 16
    assert json.loads((folder / "results.json").read_text()) == output
    assert (folder / ".git").exists() is False
