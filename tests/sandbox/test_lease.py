"""The dream's lease: one runner at a time, a dead runner's lease ends, across processes."""

import time
from pathlib import Path

import httpx
import pytest

from sandbox.lease import (
    LEASE_FILE,
    DreamAlreadyRunningError,
    drop_lease,
    held_lease,
    take_lease,
)
from sandbox.local import LocalBackend, LocalWorkspace
from tests.support.cli import run_cli
from tests.support.daytona_server import FakeDaytona
from tests.support.live_server import LiveServer
from tests.support.openai_server import FakeOpenAI

ELSEWHERE = "another-host:4242:0badc0de"


def hold_from_elsewhere(workspace: Path, seconds: int) -> None:
    """A lease as a runner on another machine leaves it (its pid means nothing here)."""
    (workspace / LEASE_FILE).write_text(f"{ELSEWHERE} {int(time.time()) + seconds}\n")


@pytest.fixture
async def workspace(isolated_env: Path) -> LocalWorkspace:
    return await LocalBackend(isolated_env / "workspaces").create("dream-leased")


async def test_a_lease_is_held_renewed_and_dropped(workspace: LocalWorkspace) -> None:
    assert await take_lease(workspace, "me:1:a") is None
    assert await take_lease(workspace, "me:1:a") is None  # a renewal
    refusal = await take_lease(workspace, "you:2:b")
    assert refusal is not None and refusal.holder == "me:1:a"
    assert 55 <= refusal.seconds_left <= 60

    await drop_lease(workspace, "you:2:b")  # not the holder: nothing happens
    assert await take_lease(workspace, "you:2:b") is not None
    await drop_lease(workspace, "me:1:a")
    assert await take_lease(workspace, "you:2:b") is None


async def test_an_expired_lease_is_taken_over(
    workspace: LocalWorkspace, isolated_env: Path
) -> None:
    hold_from_elsewhere(Path(workspace.path), seconds=-1)

    assert await take_lease(workspace, "me:1:a") is None


async def test_a_second_runner_is_refused_while_the_first_holds_it(
    workspace: LocalWorkspace,
) -> None:
    async with held_lease(workspace):
        with pytest.raises(DreamAlreadyRunningError, match="already running"):
            async with held_lease(workspace):
                pass
    async with held_lease(workspace):  # dropped at the end of the first
        pass


async def test_a_dead_runner_of_this_machine_holds_nothing(workspace: LocalWorkspace) -> None:
    from sandbox.lease import new_holder

    host = new_holder().split(":")[0]
    dead = f"{host}:999999999:deadbeef"
    (Path(workspace.path) / LEASE_FILE).write_text(f"{dead} {int(time.time()) + 60}\n")

    async with held_lease(workspace):
        assert dead not in (Path(workspace.path) / LEASE_FILE).read_text()


async def test_the_lease_works_in_a_daytona_sandbox(fake_daytona: FakeDaytona) -> None:
    from core.settings import get_settings
    from sandbox.daytona import DaytonaBackend

    backend = DaytonaBackend.from_settings(get_settings())
    workspace = await backend.create("dream-leased-remotely")
    try:
        assert await take_lease(workspace, "me:1:a") is None
        refusal = await take_lease(workspace, "you:2:b")
        assert refusal is not None and refusal.holder == "me:1:a"
    finally:
        await backend.destroy("dream-leased-remotely")


async def stopped_dream(fake_llm: FakeOpenAI, dream_id: str) -> str:
    """A dream whose run failed after its first generation: resumable."""
    from graph import graph
    from tests.support.openai_server import Fault

    fake_llm.faults = [Fault(), *[Fault(status=401)]]
    with pytest.raises(Exception, match="HTTP 401"):
        await graph.ainvoke(
            {"customer": "c", "product": "p", "children_count": 1, "generations_count_int": 2},
            {"configurable": {"thread_id": dream_id}},
        )
    return dream_id


async def test_rest_resume_answers_409_while_another_runner_holds_the_dream(
    live_server: LiveServer, fake_llm: FakeOpenAI, isolated_env: Path
) -> None:
    dream_id = await stopped_dream(fake_llm, "dream-stopped-rest")
    hold_from_elsewhere(isolated_env / "workspaces" / dream_id, seconds=60)

    async with httpx.AsyncClient(base_url=live_server.url, timeout=60) as client:
        refused = await client.post(f"/api/v1/dreams/{dream_id}/resume")
        hold_from_elsewhere(isolated_env / "workspaces" / dream_id, seconds=-1)
        resumed = await client.post(f"/api/v1/dreams/{dream_id}/resume")
        unknown = await client.post("/api/v1/dreams/dream-nobody-ran/resume")

    assert refused.status_code == 409
    assert "already running" in refused.json()["detail"]
    assert resumed.status_code == 200
    assert resumed.json()["metadata"]["totalNodes"] == 4
    assert unknown.status_code == 404


async def test_cli_resume_exits_1_while_another_runner_holds_the_dream(
    fake_llm: FakeOpenAI, isolated_env: Path
) -> None:
    dream_id = await stopped_dream(fake_llm, "dream-stopped-cli")
    hold_from_elsewhere(isolated_env / "workspaces" / dream_id, seconds=60)

    result = run_cli("resume", dream_id)

    assert result.returncode == 1
    assert "already running" in result.stderr and "Traceback" not in result.stderr
