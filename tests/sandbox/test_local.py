"""The local sandbox backend and the seed's service API on top of it."""

import json
from pathlib import Path

import pytest

from sandbox import SandboxGoneError, SandboxPathError, WorkspaceService
from sandbox.local import TIMEOUT_EXIT_CODE, LocalBackend


@pytest.fixture
def backend(tmp_path: Path) -> LocalBackend:
    return LocalBackend(tmp_path / "root")


async def test_local_files_round_trip_and_list(backend: LocalBackend) -> None:
    workspace = await backend.create("dream-a")

    await workspace.write_file("results.json", json.dumps({"ok": True}))
    await workspace.write_file("nested/deep.txt", b"bytes")
    await workspace.append_file("generation.log", "one\n")
    await workspace.append_file("generation.log", "two\n")

    assert json.loads(await workspace.read_file("results.json")) == {"ok": True}
    assert await workspace.read_file("generation.log") == b"one\ntwo\n"
    assert await workspace.list_files() == ["generation.log", "nested/deep.txt", "results.json"]


async def test_local_write_leaves_no_temporary_files(backend: LocalBackend) -> None:
    workspace = await backend.create("dream-a")
    for round_number in range(5):
        await workspace.write_file("results.json", str(round_number))

    assert await workspace.list_files() == ["results.json"]
    assert await workspace.read_file("results.json") == b"4"


@pytest.mark.parametrize("path", ["../escape.txt", "/etc/passwd", "a/../../b", "/tmp/x"])
async def test_local_refuses_paths_outside_the_workspace(backend: LocalBackend, path: str) -> None:
    workspace = await backend.create("dream-a")

    with pytest.raises(SandboxPathError, match="outside workspace"):
        await workspace.write_file(path, "x")
    with pytest.raises(SandboxPathError):
        await workspace.read_file(path)
    with pytest.raises(SandboxPathError):
        await workspace.execute("pwd", cwd=path)


async def test_local_refuses_a_symlink_out_of_the_workspace(backend: LocalBackend) -> None:
    workspace = await backend.create("dream-a")
    Path(workspace.path, "link").symlink_to("/etc")

    with pytest.raises(SandboxPathError):
        await workspace.read_file("link/hostname")


async def test_local_execute_runs_in_the_workspace_without_secrets(
    backend: LocalBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-must-not-leak")
    monkeypatch.setenv("DAYTONA_API_KEY", "dtn-must-not-leak")
    workspace = await backend.create("dream-a")
    await workspace.write_file("sub/file.txt", "hello")

    result = await workspace.execute("pwd; cat file.txt; env", cwd="sub", env={"EXTRA": "yes"})

    assert result.exit_code == 0
    assert result.output.splitlines()[0] == str(Path(workspace.path, "sub"))
    assert "hello" in result.output and "EXTRA=yes" in result.output
    assert "must-not-leak" not in result.output


async def test_local_execute_reports_exit_codes_and_timeouts(backend: LocalBackend) -> None:
    workspace = await backend.create("dream-a")

    failed = await workspace.execute("echo oops >&2; exit 3")
    slow = await workspace.execute("sleep 30", timeout=0.5)

    assert (failed.exit_code, failed.output.strip()) == (3, "oops")
    assert slow.exit_code == TIMEOUT_EXIT_CODE and "timed out" in slow.output


async def test_local_run_code_runs_python(backend: LocalBackend) -> None:
    workspace = await backend.create("dream-a")

    result = await workspace.run_code("import os; print(6 * 7); print(os.getcwd())")

    assert result.exit_code == 0
    assert result.output.splitlines() == ["42", workspace.path]


async def test_local_connect_and_destroy(backend: LocalBackend) -> None:
    created = await backend.create("dream-a")
    connected = await backend.connect("dream-a")

    assert connected.path == created.path
    assert [info.id for info in await backend.list()] == ["dream-a"]
    await backend.destroy("dream-a")
    assert await backend.list() == []
    with pytest.raises(SandboxGoneError):
        await backend.connect("dream-a")
    with pytest.raises(SandboxGoneError):
        await backend.connect("../root")


async def test_service_api_of_the_seed(backend: LocalBackend) -> None:
    service = WorkspaceService(backend)

    await service.create_workspace("dream-1")
    await service.create_workspace("dream-2")
    await service.write_file("dream-1", "notes.txt", "written")
    code_result = await service.execute_code("dream-1", "print(open('notes.txt').read())")
    command_output = await service.execute_command("dream-1", "echo from-shell")

    assert await service.read_file("dream-1", "notes.txt") == "written"
    assert code_result.output.strip() == "written"
    assert command_output.strip() == "from-shell"
    assert service.get_workspace_info("dream-1") == {"id": "dream-1", "exists": True}
    assert service.get_workspace_info("nope") is None
    assert service.get_active_workspaces() == ["dream-1", "dream-2"]
    with pytest.raises(RuntimeError, match="exited 1"):
        await service.execute_command("dream-1", "false")
    with pytest.raises(ValueError, match="not supported"):
        await service.execute_code("dream-1", "1", language="ruby")

    await service.destroy_workspace("dream-1")
    assert service.get_active_workspaces() == ["dream-2"]
    assert await service.destroy_all() == ["dream-2"]
    assert await backend.list() == []


async def test_local_remove_and_list_of_a_missing_folder(backend: LocalBackend) -> None:
    workspace = await backend.create("dream-a")
    await workspace.write_file(".checkpoints/ns/one.json", "1")
    await workspace.write_file("keep.txt", "k")

    await workspace.remove(".checkpoints")
    await workspace.remove("never-there.txt")

    assert await workspace.list_files() == ["keep.txt"]
    assert await workspace.list_files("missing-folder") == []
