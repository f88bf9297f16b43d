"""DAYTONA_SNAPSHOT and `codreamer sandboxes ssh`, on the real `daytona` SDK against the loopback
Daytona API."""

import asyncio
import json

import pytest

from core.settings import get_settings
from sandbox import SandboxError
from sandbox.daytona import DREAM_LABEL, DaytonaBackend
from tests.support.cli import SEED_ARGS, run_cli
from tests.support.daytona_server import FakeDaytona
from tests.support.openai_server import FakeOpenAI

SNAPSHOT = "codreamer-dream"


@pytest.fixture
def with_snapshot(fake_daytona: FakeDaytona, monkeypatch: pytest.MonkeyPatch) -> FakeDaytona:
    monkeypatch.setenv("DAYTONA_SNAPSHOT", SNAPSHOT)
    get_settings.cache_clear()
    return fake_daytona


async def test_daytona_dream_runs_in_a_sandbox_from_the_snapshot(
    with_snapshot: FakeDaytona, fake_llm: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    from graph import graph

    with_snapshot.snapshots.add(SNAPSHOT)
    monkeypatch.setenv("USE_DAYTONA", "true")
    monkeypatch.setenv("KEEP_DAYTONA_WORKSPACE", "true")
    get_settings.cache_clear()

    output = await graph.ainvoke(
        {
            "customer": "Bakers",
            "product": "An oven",
            "children_count": 2,
            "generations_count_int": 1,
        }
    )

    (live,) = with_snapshot.live_sandboxes()
    assert live["id"] == output["metadata"]["daytonaWorkspaceId"]
    assert live["snapshot"] == SNAPSHOT


async def test_without_a_snapshot_daytona_picks_its_default(fake_daytona: FakeDaytona) -> None:
    workspace = await DaytonaBackend.from_settings(get_settings()).create("dream-x")

    (live,) = fake_daytona.live_sandboxes()
    assert live["id"] == workspace.sandbox_id and live["snapshot"] is None


async def test_unknown_snapshot_is_an_error_naming_daytona_snapshot(
    with_snapshot: FakeDaytona,
) -> None:
    backend = DaytonaBackend.from_settings(get_settings())

    with pytest.raises(SandboxError) as raised:
        await backend.create("dream-x")

    message = str(raised.value)
    assert f"snapshot {SNAPSHOT!r} (DAYTONA_SNAPSHOT)" in message
    assert "HTTP 400" in message and f"Snapshot {SNAPSHOT} not found" in message
    assert "unset DAYTONA_SNAPSHOT" in message
    assert with_snapshot.live_sandboxes() == []


async def test_cli_dream_with_an_unknown_snapshot_exits_1_naming_it(
    with_snapshot: FakeDaytona, fake_llm: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("USE_DAYTONA", "true")

    result = await asyncio.to_thread(run_cli, "dream", *SEED_ARGS, "--children", "1")

    assert result.returncode == 1
    assert "DAYTONA_SNAPSHOT" in result.stderr and "Traceback" not in result.stderr
    assert fake_llm.stats.calls == 0


async def test_cli_ssh_prints_the_command_daytona_issues(fake_daytona: FakeDaytona) -> None:
    backend = DaytonaBackend.from_settings(get_settings())
    workspace = await backend.create("dream-kept")

    result = await asyncio.to_thread(run_cli, "sandboxes", "ssh", "dream-kept", "--minutes", "15")

    assert result.returncode == 0, result.stderr
    (grant,) = fake_daytona.ssh_grants
    assert grant["sandbox_id"] == workspace.sandbox_id and grant["minutes"] == 15
    assert result.stdout == f"ssh -p 2222 {grant['token']}@127.0.0.1\n"
    assert f"sandbox {workspace.sandbox_id} of dream-kept; access until" in result.stderr


async def test_cli_ssh_starts_a_stopped_sandbox(fake_daytona: FakeDaytona) -> None:
    backend = DaytonaBackend.from_settings(get_settings())
    workspace = await backend.create("dream-kept")
    sandbox = await backend.client().get(workspace.sandbox_id or "")
    await backend.client().stop(sandbox)

    result = await asyncio.to_thread(run_cli, "sandboxes", "ssh", "dream-kept")

    assert result.returncode == 0, result.stderr
    (live,) = fake_daytona.live_sandboxes()
    assert live["state"] == "started"
    assert fake_daytona.ssh_grants[0]["minutes"] == 60  # Daytona's default, asked explicitly


async def test_cli_ssh_to_a_dream_whose_sandbox_was_not_kept(
    fake_daytona: FakeDaytona, fake_llm: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("USE_DAYTONA", "true")
    dreamt = await asyncio.to_thread(
        run_cli, "dream", *SEED_ARGS, "--children", "1", "--generations", "1", "--json"
    )
    dream_id = json.loads(dreamt.stdout)["metadata"]["workspaceId"]

    result = await asyncio.to_thread(run_cli, "sandboxes", "ssh", dream_id)

    assert result.returncode == 1
    assert f"no sandbox for dream {dream_id!r}: it was not kept" in result.stderr
    assert "KEEP_DAYTONA_WORKSPACE=true" in result.stderr
    assert result.stdout == "" and fake_daytona.ssh_grants == []


@pytest.mark.parametrize(
    ("args", "code", "said"),
    [
        (["../etc"], 2, "is not a valid dream id"),
        (["dream-x", "--minutes", "0"], 2, "--minutes"),
        (["dream-never-run"], 1, "no sandbox for dream 'dream-never-run'"),
    ],
)
async def test_cli_ssh_refuses_bad_requests(
    fake_daytona: FakeDaytona, args: list[str], code: int, said: str
) -> None:
    result = await asyncio.to_thread(run_cli, "sandboxes", "ssh", *args)

    assert result.returncode == code
    assert said in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == "" and fake_daytona.ssh_grants == []


def test_cli_ssh_without_a_daytona_key_exits_1() -> None:
    result = run_cli("sandboxes", "ssh", "dream-x")

    assert result.returncode == 1 and "DAYTONA_API_KEY is not set" in result.stderr


async def test_ssh_access_names_the_dream_and_keeps_its_labels(fake_daytona: FakeDaytona) -> None:
    backend = DaytonaBackend.from_settings(get_settings())
    workspace = await backend.create("dream-kept")

    access = await backend.ssh_access("dream-kept", 5)

    assert access.sandbox_id == workspace.sandbox_id
    assert access.command.startswith("ssh -p 2222 ") and access.expires_at.tzinfo is not None
    (live,) = fake_daytona.live_sandboxes()
    assert live["labels"][DREAM_LABEL] == "dream-kept"
