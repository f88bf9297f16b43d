"""The warm pool on the real `daytona` SDK against the loopback Daytona API: filling, claiming
(atomically, across event loops standing for processes), refilling, shutdown, list and prune."""

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from daytona import AsyncSandbox

from core.settings import get_settings
from graph.runner import close_clients
from sandbox.base import OUR_LABEL
from sandbox.daytona import DREAM_LABEL, POOL_LABEL, WARM_LABEL, DaytonaBackend
from sandbox.factory import get_backend, warm_pool
from sandbox.pool import (
    PooledDaytonaBackend,
    WarmPool,
    claim_member,
    list_members,
    member_labels,
)
from tests.support.cli import SEED_ARGS, run_cli
from tests.support.daytona_server import FakeDaytona
from tests.support.live_server import LiveServer
from tests.support.openai_server import FakeOpenAI

DREAM = {
    "customer": "Bakers",
    "product": "An oven",
    "children_count": 2,
    "generations_count_int": 2,
}


@pytest.fixture
def pooled(fake_daytona: FakeDaytona, monkeypatch: pytest.MonkeyPatch) -> PooledDaytonaBackend:
    """Dreams on Daytona with DAYTONA_POOL_SIZE=2; the backend they get."""
    monkeypatch.setenv("USE_DAYTONA", "true")
    monkeypatch.setenv("DAYTONA_POOL_SIZE", "2")
    get_settings.cache_clear()
    backend = get_backend("daytona")
    assert isinstance(backend, PooledDaytonaBackend)
    return backend


def members(fake: FakeDaytona, pool_id: str | None = None) -> list[dict[str, Any]]:
    """The fake's unclaimed pool members (of one pool, if named)."""
    return [
        live
        for live in fake.live_sandboxes()
        if WARM_LABEL in live["labels"] and pool_id in (None, live["labels"][POOL_LABEL])
    ]


async def eventually(condition: Callable[[], Any], what: str, timeout: float = 20) -> Any:
    """The first truthy value of `condition()`, polled without blocking the event loop."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not (value := condition()):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.05)
    return value


def full_pool(fake: FakeDaytona, size: int) -> set[str] | None:
    """The ids of the unclaimed members, once there are `size` of them."""
    ids = {live["id"] for live in members(fake)}
    return ids if len(ids) == size else None


def creations(fake: FakeDaytona) -> int:
    return fake.requests.count(("POST", "/api/sandbox"))


async def test_pool_fills_with_labelled_started_members_and_stop_deletes_them(
    fake_daytona: FakeDaytona, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAYTONA_SNAPSHOT", "codreamer-dream")
    get_settings.cache_clear()
    fake_daytona.snapshots.add("codreamer-dream")
    backend = DaytonaBackend.from_settings(get_settings())
    pool = WarmPool(backend, 3)

    pool.start()
    filled = await eventually(lambda: full_pool(fake_daytona, 3), "3 members")
    deleted = await pool.stop()

    assert sorted(deleted) == sorted(filled)
    assert fake_daytona.live_sandboxes() == []


async def test_members_carry_our_labels_intervals_and_snapshot(
    fake_daytona: FakeDaytona, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAYTONA_SNAPSHOT", "codreamer-dream")
    monkeypatch.setenv("DAYTONA_AUTO_STOP_MINUTES", "15")
    monkeypatch.setenv("DAYTONA_AUTO_DELETE_MINUTES", "45")
    get_settings.cache_clear()
    fake_daytona.snapshots.add("codreamer-dream")
    pool = WarmPool(DaytonaBackend.from_settings(get_settings()), 2, pool_id="host-1-abcd")

    pool.start()
    try:
        await eventually(lambda: full_pool(fake_daytona, 2), "2 members")
        ready = members(fake_daytona)
    finally:
        await pool.stop()

    for live in ready:
        assert live["state"] == "started" and live["snapshot"] == "codreamer-dream"
        assert (live["auto_stop_interval"], live["auto_delete_interval"]) == (15, 45)
        assert {OUR_LABEL: "true", WARM_LABEL: "true", POOL_LABEL: "host-1-abcd"}.items() <= (
            live["labels"].items()
        )
        assert DREAM_LABEL not in live["labels"]


async def test_dream_claims_a_ready_member_and_the_pool_refills(
    pooled: PooledDaytonaBackend, fake_daytona: FakeDaytona, fake_llm: FakeOpenAI
) -> None:
    from graph import graph

    fake_daytona.create_latency = 0.5
    async with warm_pool():
        before = await eventually(lambda: full_pool(fake_daytona, 2), "a full pool")
        created_before = creations(fake_daytona)

        output = await graph.ainvoke(DREAM)

        claimed = output["metadata"]["daytonaWorkspaceId"]
        refilled = await eventually(
            lambda: (ids := full_pool(fake_daytona, 2)) and claimed not in ids and ids,
            "the pool refilled",
        )

    assert output["metadata"]["totalNodes"] == 8
    assert claimed in before  # the dream's sandbox was a member made before it started
    assert claimed not in refilled and len(refilled - before) == 1
    assert creations(fake_daytona) == created_before + 1  # the refill, not the dream
    assert ("DELETE", f"/api/sandbox/{claimed}") in fake_daytona.requests  # released, not kept
    assert fake_daytona.live_sandboxes() == []  # the pool's exit deleted the unclaimed ones


async def test_claimed_member_becomes_an_ordinary_dream_sandbox(
    pooled: PooledDaytonaBackend, fake_daytona: FakeDaytona
) -> None:
    member = await pooled.new_sandbox(member_labels("host-1-abcd"))

    workspace = await pooled.create("dream-x")
    connected = await pooled.connect("dream-x")

    assert workspace.sandbox_id == connected.sandbox_id == member.id
    assert workspace.path == connected.path == "/workspace"
    (live,) = fake_daytona.live_sandboxes()
    assert live["labels"][DREAM_LABEL] == "dream-x" and live["labels"][OUR_LABEL] == "true"
    assert WARM_LABEL not in live["labels"] and POOL_LABEL not in live["labels"]
    assert [info.id for info in await pooled.list()] == ["dream-x"]
    assert creations(fake_daytona) == 1  # the member's; the dream created none
    await workspace.write_file("a.txt", "claimed")
    assert await connected.read_file("a.txt") == b"claimed"
    await pooled.destroy("dream-x")
    assert fake_daytona.live_sandboxes() == []


async def test_without_a_ready_member_a_dream_creates_its_sandbox(
    pooled: PooledDaytonaBackend, fake_daytona: FakeDaytona
) -> None:
    workspace = await pooled.create("dream-x")

    (live,) = fake_daytona.live_sandboxes()
    assert live["id"] == workspace.sandbox_id and live["labels"][DREAM_LABEL] == "dream-x"


class ListedTogether(PooledDaytonaBackend):
    """Claimers that all list the pool before any of them claims: they race for one member."""

    def __init__(self, backend: DaytonaBackend, barrier: threading.Barrier) -> None:
        super().__init__(
            backend.config,
            auto_stop_minutes=backend.auto_stop_minutes,
            auto_delete_minutes=backend.auto_delete_minutes,
        )
        self.barrier = barrier

    async def find_sandboxes(self, labels: dict[str, str]) -> list[AsyncSandbox]:
        found = await super().find_sandboxes(labels)
        await asyncio.to_thread(self.barrier.wait, 10)
        return found


def in_own_loop(work: Callable[[], Awaitable[Any]]) -> Any:
    """Run `work` on a new event loop (its own SDK client: as another process would)."""

    async def run() -> Any:
        try:
            return await work()
        finally:
            await close_clients()

    return asyncio.run(run())


@pytest.mark.parametrize("members_ready", [1, 2])
async def test_concurrent_claims_never_get_the_same_member(
    pooled: PooledDaytonaBackend, fake_daytona: FakeDaytona, members_ready: int
) -> None:
    claimers = 4
    ready = {
        (await pooled.new_sandbox(member_labels("host-1-abcd"))).id for _ in range(members_ready)
    }
    barrier = threading.Barrier(claimers)
    racing = ListedTogether(pooled, barrier)

    def claim(index: int) -> str | None:
        workspace = in_own_loop(lambda: claim_member(racing, f"dream-{index}"))
        return None if workspace is None else workspace.sandbox_id

    won = await asyncio.gather(*(asyncio.to_thread(claim, i) for i in range(claimers)))

    winners = [sandbox_id for sandbox_id in won if sandbox_id is not None]
    assert sorted(winners) == sorted(ready)  # each member claimed exactly once
    labels = {live["id"]: live["labels"] for live in fake_daytona.live_sandboxes()}
    for index, sandbox_id in enumerate(won):
        if sandbox_id is not None:
            assert labels[sandbox_id][DREAM_LABEL] == f"dream-{index}"
    assert members(fake_daytona) == []
    claims = [p for m, p in fake_daytona.requests if p.endswith("/process/execute")]
    assert len(claims) > members_ready  # the losers did try a member someone else won


class StoppedAfterListing(PooledDaytonaBackend):
    """A claimer that finds its members listed as started, but stopped a moment later."""

    async def find_sandboxes(self, labels: dict[str, str]) -> list[AsyncSandbox]:
        found = await super().find_sandboxes(labels)
        for sandbox in found:
            await self.client().stop(sandbox)
            sandbox.state = "started"  # as listed
        return found


@pytest.mark.parametrize("when", ["before listing", "after listing"])
async def test_a_stopped_member_is_skipped_and_deleted(
    pooled: PooledDaytonaBackend, fake_daytona: FakeDaytona, when: str
) -> None:
    member = await pooled.new_sandbox(member_labels("host-1-abcd"))
    if when == "before listing":
        await pooled.client().stop(member)
        claimer: DaytonaBackend = pooled
    else:
        claimer = StoppedAfterListing(pooled.config, auto_stop_minutes=30, auto_delete_minutes=60)

    workspace = await claimer.create("dream-x")

    assert workspace.sandbox_id != member.id
    assert ("DELETE", f"/api/sandbox/{member.id}") in fake_daytona.requests
    (live,) = fake_daytona.live_sandboxes()
    assert live["id"] == workspace.sandbox_id and live["labels"][DREAM_LABEL] == "dream-x"


async def test_pool_replaces_a_member_that_auto_stopped(fake_daytona: FakeDaytona) -> None:
    backend = DaytonaBackend.from_settings(get_settings())
    pool = WarmPool(backend, 1, refresh_seconds=0.2)
    pool.start()
    try:
        (first,) = await eventually(lambda: members(fake_daytona), "a member")
        sandbox = await backend.client().get(first["id"])
        await backend.client().stop(sandbox)  # as Daytona's auto-stop would

        (second,) = await eventually(
            lambda: [m for m in members(fake_daytona) if m["id"] != first["id"]], "a new member"
        )
    finally:
        await pool.stop()

    assert second["state"] == "started"
    assert ("DELETE", f"/api/sandbox/{first['id']}") in fake_daytona.requests
    assert fake_daytona.live_sandboxes() == []


async def test_clean_server_shutdown_deletes_its_unclaimed_members(
    fake_daytona: FakeDaytona, fake_llm: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("USE_DAYTONA", "true")
    monkeypatch.setenv("DAYTONA_POOL_SIZE", "2")
    monkeypatch.setenv("KEEP_DAYTONA_WORKSPACE", "true")
    monkeypatch.setenv("CODREAMER_LIBRARY", "false")
    get_settings.cache_clear()
    server = LiveServer().start()
    try:
        await eventually(lambda: len(members(fake_daytona)) == 2, "the server's pool")
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
            response = await client.post("/api/v1/dream", json=DREAM)
        kept = response.json()["metadata"]["daytonaWorkspaceId"]
        await eventually(lambda: len(members(fake_daytona)) == 2, "the pool refilled")
    finally:
        await asyncio.to_thread(server.stop)

    assert response.status_code == 200, response.text
    (live,) = fake_daytona.live_sandboxes()  # the kept dream's; the pool's are deleted
    assert (
        live["id"] == kept
        and live["labels"][DREAM_LABEL] == response.json()["metadata"]["workspaceId"]
    )


async def test_cli_lists_and_prunes_a_dead_servers_pool(
    fake_daytona: FakeDaytona, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("USE_DAYTONA", "true")
    monkeypatch.setenv("COLUMNS", "250")
    backend = DaytonaBackend.from_settings(get_settings())
    left = [
        (await backend.new_sandbox(member_labels("gone-host-99-dead0000"))).id for _ in range(2)
    ]
    await backend.create("dream-crashed")

    listed = await asyncio.to_thread(run_cli, "sandboxes", "list")
    history = await asyncio.to_thread(run_cli, "list", "--workspaces", "--json")
    pruned = await asyncio.to_thread(run_cli, "sandboxes", "prune")

    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split() == ["dream-crashed"]  # stdout: dream ids only
    rows = [line for line in listed.stderr.splitlines() if "gone-host-99-dead0000" in line]
    assert len(rows) == 2 and all(any(i in row for row in rows) for i in left)
    assert all("started" in row for row in rows)
    assert "dream-crashed" not in str(rows)
    assert [dream["id"] for dream in json.loads(history.stdout)] == ["dream-crashed"]
    assert pruned.returncode == 0, pruned.stderr
    assert sorted(pruned.stdout.split()) == sorted(["dream-crashed", *left])
    assert fake_daytona.live_sandboxes() == []
    assert await list_members(backend) == []


async def test_cli_dream_claims_a_member_a_server_left(
    fake_daytona: FakeDaytona, fake_llm: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("USE_DAYTONA", "true")
    monkeypatch.setenv("DAYTONA_POOL_SIZE", "2")
    monkeypatch.setenv("KEEP_DAYTONA_WORKSPACE", "true")
    get_settings.cache_clear()
    backend = DaytonaBackend.from_settings(get_settings())
    member = await backend.new_sandbox(member_labels("server-1-abcd"))

    result = await asyncio.to_thread(
        run_cli, "dream", *SEED_ARGS, "--children", "1", "--generations", "1", "--json"
    )

    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert output["metadata"]["daytonaWorkspaceId"] == member.id
    assert creations(fake_daytona) == 1  # the member's: the CLI keeps no pool of its own
