"""The id rule, and backends refusing a malformed id before they touch a file or a sandbox."""

import uuid
from pathlib import Path

import pytest

from core.settings import get_settings
from nodes.create_workspace import new_workspace_id
from sandbox.base import (
    SandboxBackend,
    SandboxError,
    WorkspaceIdError,
    check_workspace_id,
    is_workspace_id,
)
from sandbox.daytona import DaytonaBackend
from sandbox.local import LocalBackend
from tests.support.daytona_server import FakeDaytona

MALFORMED_IDS = [
    "",
    ".",
    "..",
    "../etc",
    "a/b",
    "a\\b",
    ".hidden",
    "-flag",
    "a..b",
    "dream\n",
    "dream\x00x",
    "dream x",
    "dré",
    "x" * 129,
    "a" * 300,
]


@pytest.mark.parametrize(
    "workspace_id",
    [new_workspace_id(), str(uuid.uuid4()), "dream-x", "t1", "_a", "a.b", "v1.2-rc_3", "x" * 128],
)
def test_ids_generated_ids_and_studio_uuids_follow_the_rule(workspace_id: str) -> None:
    assert is_workspace_id(workspace_id)
    assert check_workspace_id(workspace_id) == workspace_id


@pytest.mark.parametrize("workspace_id", MALFORMED_IDS)
def test_ids_malformed_ids_are_refused_with_the_rule(workspace_id: str) -> None:
    assert not is_workspace_id(workspace_id)
    with pytest.raises(WorkspaceIdError, match="is not a valid dream id: use 1-128 letters"):
        check_workspace_id(workspace_id)


def test_ids_error_is_a_sandbox_error_and_a_value_error() -> None:
    assert issubclass(WorkspaceIdError, SandboxError)
    assert issubclass(WorkspaceIdError, ValueError)


async def refuses_every_operation(backend: SandboxBackend, workspace_id: str) -> None:
    for operation in (backend.create, backend.connect, backend.destroy):
        with pytest.raises(WorkspaceIdError):
            await operation(workspace_id)


@pytest.mark.parametrize("workspace_id", MALFORMED_IDS)
async def test_ids_local_backend_refuses_malformed_ids_untouched(
    workspace_id: str, tmp_path: Path
) -> None:
    root = tmp_path / "workspaces"
    backend = LocalBackend(root)

    await refuses_every_operation(backend, workspace_id)

    assert not root.exists()
    assert list(tmp_path.iterdir()) == []


async def test_ids_local_workspace_never_leads_outside_the_root(tmp_path: Path) -> None:
    root = tmp_path / "workspaces"
    outside = tmp_path / "outside"
    outside.mkdir()
    backend = LocalBackend(root)
    await backend.create("dream-a")
    (root / "dream-link").symlink_to(outside)

    with pytest.raises(WorkspaceIdError, match="leads outside"):
        await backend.connect("dream-link")
    with pytest.raises(WorkspaceIdError, match="leads outside"):
        await backend.destroy("dream-link")
    assert outside.is_dir()


async def test_ids_local_list_skips_folders_not_named_by_an_id(tmp_path: Path) -> None:
    root = tmp_path / "workspaces"
    backend = LocalBackend(root)
    await backend.create("dream-a")
    (root / ".hidden").mkdir()
    (root / "not an id").mkdir()

    assert [info.id for info in await backend.list()] == ["dream-a"]


@pytest.mark.parametrize("workspace_id", ["..", "a/b", "-flag", "a" * 300])
async def test_ids_daytona_backend_refuses_malformed_ids_before_any_call(
    workspace_id: str, fake_daytona: FakeDaytona
) -> None:
    backend = DaytonaBackend.from_settings(get_settings())

    await refuses_every_operation(backend, workspace_id)

    assert fake_daytona.requests == []
    assert fake_daytona.live_sandboxes() == []
