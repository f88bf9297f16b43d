"""The Daytona backend on the real `daytona` SDK, against the loopback Daytona API."""

import json

import pytest

from core.settings import get_settings
from sandbox import SandboxError, SandboxGoneError, SandboxPathError, WorkspaceService
from sandbox.base import OUR_LABEL
from sandbox.daytona import DREAM_LABEL, DaytonaBackend
from tests.support.daytona_server import FakeDaytona


@pytest.fixture
def backend(fake_daytona: FakeDaytona) -> DaytonaBackend:
    return DaytonaBackend.from_settings(get_settings())


async def test_daytona_create_labels_and_auto_intervals(
    backend: DaytonaBackend, fake_daytona: FakeDaytona
) -> None:
    workspace = await backend.create("dream-x")

    (live,) = fake_daytona.live_sandboxes()
    assert live["id"] == workspace.sandbox_id
    assert live["labels"][OUR_LABEL] == "true" and live["labels"][DREAM_LABEL] == "dream-x"
    assert (live["auto_stop_interval"], live["auto_delete_interval"]) == (30, 60)
    assert workspace.path == "/workspace"


async def test_daytona_files_round_trip(backend: DaytonaBackend, fake_daytona: FakeDaytona) -> None:
    workspace = await backend.create("dream-x")

    await workspace.write_file("results.json", json.dumps({"ok": True}))
    await workspace.write_file("nested/deep.txt", b"bytes")
    await workspace.append_file("generation.log", "line one\n")
    await workspace.append_file("generation.log", "line 'two' $HOME\n")

    assert json.loads(await workspace.read_file("results.json")) == {"ok": True}
    assert await workspace.read_file("generation.log") == b"line one\nline 'two' $HOME\n"
    assert await workspace.list_files() == ["generation.log", "nested/deep.txt", "results.json"]
    root = fake_daytona.sandbox_root(workspace.sandbox_id)
    assert (root / "workspace" / "results.json").read_text() == '{"ok": true}'
    with pytest.raises(FileNotFoundError):
        await workspace.read_file("missing.json")
    await workspace.remove("nested")
    await workspace.remove("never-there")
    assert await workspace.list_files() == ["generation.log", "results.json"]
    assert await workspace.list_files("missing-folder") == []


async def test_daytona_commands_and_code(backend: DaytonaBackend) -> None:
    workspace = await backend.create("dream-x")
    await workspace.write_file("sub/data.txt", "hello\n")

    listed = await workspace.execute(
        "pwd && cat data.txt && echo $EXTRA", cwd="sub", env={"EXTRA": "yes"}
    )
    failed = await workspace.execute("exit 4")
    code = await workspace.run_code("print(6 * 7)")

    assert listed.exit_code == 0
    assert listed.output.split() == ["/workspace/sub", "hello", "yes"]
    assert failed.exit_code == 4
    assert (code.exit_code, code.output.strip()) == (0, "42")


@pytest.mark.parametrize("path", ["../etc/passwd", "/etc/passwd", "a/../../b"])
async def test_daytona_refuses_paths_outside_the_workspace(
    backend: DaytonaBackend, path: str
) -> None:
    workspace = await backend.create("dream-x")

    with pytest.raises(SandboxPathError):
        await workspace.write_file(path, "x")
    with pytest.raises(SandboxPathError):
        await workspace.execute("pwd", cwd=path)


async def test_daytona_connect_list_and_destroy(
    backend: DaytonaBackend, fake_daytona: FakeDaytona
) -> None:
    created = await backend.create("dream-x")
    await backend.create("dream-y")

    connected = await backend.connect("dream-x")

    assert connected.sandbox_id == created.sandbox_id
    assert sorted(info.id for info in await backend.list()) == ["dream-x", "dream-y"]
    await backend.destroy("dream-x")
    await backend.destroy("dream-x")
    assert [live["labels"][DREAM_LABEL] for live in fake_daytona.live_sandboxes()] == ["dream-y"]
    with pytest.raises(SandboxGoneError):
        await backend.connect("dream-x")


@pytest.mark.parametrize(("status", "named"), [(500, "HTTP 500"), (429, "rate limited (HTTP 429")])
async def test_daytona_create_failure_names_daytona_and_the_cause(
    backend: DaytonaBackend, fake_daytona: FakeDaytona, status: int, named: str
) -> None:
    fake_daytona.fail_create = [status]

    with pytest.raises(SandboxError, match=r"Daytona at http://127\.0\.0\.1") as raised:
        await backend.create("dream-x")

    assert named in str(raised.value)
    assert fake_daytona.live_sandboxes() == []


async def test_daytona_bad_key_is_refused(
    fake_daytona: FakeDaytona, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAYTONA_API_KEY", "wrong-key")
    get_settings.cache_clear()

    with pytest.raises(SandboxError, match="HTTP 401"):
        await DaytonaBackend.from_settings(get_settings()).create("dream-x")
    assert fake_daytona.live_sandboxes() == []


def test_daytona_without_a_key_is_a_settings_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DAYTONA_API_KEY", raising=False)
    get_settings.cache_clear()

    with pytest.raises(SandboxError, match="DAYTONA_API_KEY is not set"):
        DaytonaBackend.from_settings(get_settings())


async def test_service_api_of_the_seed_on_daytona(
    backend: DaytonaBackend, fake_daytona: FakeDaytona
) -> None:
    service = WorkspaceService(backend)
    leftover = await backend.create("dream-crashed-earlier")

    workspace = await service.create_workspace("dream-1")
    await service.write_file("dream-1", "notes.txt", "written")
    code = await service.execute_code("dream-1", "print(open('/workspace/notes.txt').read())")

    assert await service.read_file("dream-1", "notes.txt") == "written"
    assert code.output.strip() == "written"
    assert (await service.execute_command("dream-1", "echo hi")).strip() == "hi"
    assert service.get_workspace_info("dream-1") == {"id": workspace.sandbox_id, "exists": True}
    assert service.get_active_workspaces() == ["dream-1"]
    assert sorted(await service.destroy_all()) == ["dream-1", leftover.id]
    assert fake_daytona.live_sandboxes() == []
