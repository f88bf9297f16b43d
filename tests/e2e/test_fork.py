"""Fork a dream: a new dream keeps a source's generations 0..N exactly (same ids, same content)
and grows the rest again, paying only for what it grows; locally, on Daytona, over REST, through
the CLI, and the same done with Studio's time travel."""

import asyncio
import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client

from core.context import DreamContext
from core.settings import get_settings
from core.state import PRODUCT_FEATURE, DreamInput
from graph import graph
from graph.fork import InvalidForkError, fork_dream, graph_after, start_fork
from graph.runner import DreamNotFoundError, run_dream
from nodes.create_workspace import new_workspace_id
from tests.e2e import test_studio as studio
from tests.e2e.test_resume import expanded_points
from tests.e2e.test_studio import RUN_TIMEOUT, StudioServer
from tests.support.cli import SEED_ARGS, run_cli
from tests.support.daytona_server import FakeDaytona
from tests.support.live_server import LiveServer
from tests.support.openai_server import FakeOpenAI
from tests.support.ports import free_port

SOURCE = DreamInput(customer="Bakers", product="An oven", children_count=2, generations_count_int=3)
CONNECTIONS = 4
"""Product connections of a K=2, G=3 dream: one call per generation-2 parent of leaves."""
EXPANSIONS = {1: 1, 2: 2, 3: 4}
"""LLM calls that grow each generation of a K=2 dream: one per parent."""


def regrowth_calls(kept: int) -> int:
    """What a fork of a K=2, G=3 dream after generation `kept` asks the model."""
    return sum(calls for grown, calls in EXPANSIONS.items() if grown > kept) + CONNECTIONS


def seed_file(workspace: Path, name: str) -> bytes:
    return (workspace / name).read_bytes()


def saved_graph(workspace: Path, generation: int) -> list[dict[str, Any]]:
    """A dream's graph as it stood after `generation`, from its seed files."""
    name = f"checkpoint-gen{generation}.json" if generation else "graph-state.json"
    nodes: list[dict[str, Any]] = json.loads(seed_file(workspace, name))["nodes"]
    return nodes


def assert_kept(fork: dict[str, Any], source_folder: Path, fork_folder: Path, kept: int) -> None:
    """Generations 0..kept of the fork are the source's, and so are their seed files' bytes."""
    fork_nodes = {node["id"]: node for node in fork["nodes"]}
    assert list(graph_after(fork_nodes, kept).values()) == saved_graph(source_folder, kept)
    for name in ["graph-state.json", *(f"checkpoint-gen{n}.json" for n in range(1, kept + 1))]:
        assert seed_file(fork_folder, name) == seed_file(source_folder, name), name


def assert_only_regrown(fake_llm: FakeOpenAI, source: dict[str, Any], kept: int) -> None:
    """The model expanded each parent of generations kept..G-1 once and nothing before them."""
    parents = [
        f"{node['name']}: {node['content']}"
        for node in source["nodes"]
        if kept <= node["generation"] < 3 and node["id"] != PRODUCT_FEATURE
    ]
    assert sorted(expanded_points(fake_llm.stats.prompts)) == sorted(parents)
    assert fake_llm.stats.calls == regrowth_calls(kept)


async def settings_of(dream_id: str) -> dict[str, Any]:
    state = await graph.aget_state({"configurable": {"thread_id": dream_id}})
    settings: dict[str, Any] = state.values["settings"]
    return settings


@pytest.mark.parametrize("kept", [0, 1, 2])
async def test_fork_keeps_generations_up_to_n_and_grows_the_rest_again(
    fake_llm: FakeOpenAI, isolated_env: Path, kept: int
) -> None:
    source_id = new_workspace_id()
    source = await run_dream(SOURCE, DreamContext(), source_id)
    source_folder = isolated_env / "workspaces" / source_id
    results = seed_file(source_folder, "results.json")
    fake_llm.reset()

    fork = await fork_dream(source_id, kept, temperature=0.2)

    metadata = fork["metadata"]
    fork_id = metadata["workspaceId"]
    assert fork_id != source_id
    assert metadata["forkedFrom"] == {"id": source_id, "generation": kept}
    assert metadata["totalNodes"] == len(fork["nodes"]) == 16
    assert metadata["usage"]["llm_calls"] == regrowth_calls(kept)
    assert metadata["warnings"] == []
    assert_only_regrown(fake_llm, source, kept)
    fork_folder = isolated_env / "workspaces" / fork_id
    assert_kept(fork, source_folder, fork_folder, kept)
    assert json.loads(seed_file(fork_folder, "results.json")) == fork
    first_line = seed_file(fork_folder, "generation.log").decode().splitlines()[0]
    kept_count = len(saved_graph(source_folder, kept))
    assert first_line.endswith(
        f"forked from {source_id} after generation {kept}/3: {kept_count} nodes kept"
    )
    assert seed_file(source_folder, "results.json") == results
    assert await settings_of(fork_id) == {**await settings_of(source_id), "temperature": 0.2}


async def test_a_fork_starts_from_the_saved_generation_without_its_children(
    fake_llm: FakeOpenAI, isolated_env: Path
) -> None:
    source_id = new_workspace_id()
    fork_id = new_workspace_id()
    await run_dream(SOURCE, DreamContext(), source_id)
    fake_llm.reset()

    values = await start_fork(source_id, 2, fork_id, model="fake-model")

    nodes = values["nodes_by_id"]
    assert list(nodes.values()) == saved_graph(isolated_env / "workspaces" / source_id, 2)
    assert [node["edge"] for node in nodes.values() if node["generation"] == 2] == [[]] * 4
    assert values["usage"]["llm_calls"] == 0 and values["generation"] == 2
    state = await graph.aget_state({"configurable": {"thread_id": fork_id}})
    assert state.next == ("expand_generation",) * 4
    assert fake_llm.stats.calls == 0


async def test_a_stopped_dream_forks_after_what_it_saved_only(
    fake_llm: FakeOpenAI, isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source_id = new_workspace_id()
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    get_settings.cache_clear()
    with pytest.raises(Exception, match="unreachable"):
        await run_dream(SOURCE, DreamContext(), source_id)
    monkeypatch.setenv("OPENAI_BASE_URL", fake_llm.url)
    get_settings.cache_clear()

    with pytest.raises(InvalidForkError, match="stopped before generation 1 was saved") as refused:
        await fork_dream(source_id, 1)
    fork = await fork_dream(source_id, 0)

    assert refused.value.field == "generation"
    assert fork["metadata"]["totalNodes"] == 16
    assert fork["metadata"]["usage"]["llm_calls"] == fake_llm.stats.calls == regrowth_calls(0)


@pytest.mark.parametrize(
    ("generation", "overrides", "field", "message"),
    [
        (3, {}, "generation", "fork it after one of 0-2"),
        (1, {"temperature": 2.5}, "temperature", "less than or equal to 2"),
        (1, {"model": "gpt-elsewhere"}, "model", "'gpt-elsewhere' is not served here"),
    ],
)
async def test_a_fork_out_of_range_is_refused_naming_the_field(
    fake_llm: FakeOpenAI,
    isolated_env: Path,
    generation: int,
    overrides: dict[str, Any],
    field: str,
    message: str,
) -> None:
    source_id = new_workspace_id()
    await run_dream(SOURCE, DreamContext(), source_id)
    fake_llm.reset()
    before = sorted(path.name for path in (isolated_env / "workspaces").iterdir())

    with pytest.raises(Exception, match=message) as refused:
        await fork_dream(source_id, generation, **overrides)

    assert getattr(refused.value, "field", None) == field
    assert sorted(path.name for path in (isolated_env / "workspaces").iterdir()) == before
    assert fake_llm.stats.calls == 0


async def test_a_fork_of_an_unknown_dream_is_not_found(fake_llm: FakeOpenAI) -> None:
    with pytest.raises(DreamNotFoundError, match="no checkpoint of dream 'dream-unknown'"):
        await fork_dream("dream-unknown", 1)


def daytona_folder(fake: FakeDaytona, dream_id: str) -> Path:
    (live,) = [s for s in fake.live_sandboxes() if s["labels"]["codreamer-dream"] == dream_id]
    return fake.sandbox_root(live["id"]) / "workspace"


async def test_fork_on_daytona_from_a_kept_sandbox(
    on_daytona: FakeDaytona, fake_llm: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    source_id = new_workspace_id()
    monkeypatch.setenv("KEEP_DAYTONA_WORKSPACE", "true")
    get_settings.cache_clear()
    source = await run_dream(SOURCE, DreamContext(), source_id)
    source_folder = daytona_folder(on_daytona, source_id)
    results = seed_file(source_folder, "results.json")
    fake_llm.reset()

    fork = await fork_dream(source_id, 1)

    metadata = fork["metadata"]
    assert metadata["sandbox"] == "daytona" and metadata["workspaceKept"] is True
    assert metadata["forkedFrom"] == {"id": source_id, "generation": 1}
    assert metadata["daytonaWorkspaceId"] != source["metadata"]["daytonaWorkspaceId"]
    assert metadata["usage"]["llm_calls"] == regrowth_calls(1)
    assert_only_regrown(fake_llm, source, 1)
    fork_folder = daytona_folder(on_daytona, metadata["workspaceId"])
    assert_kept(fork, source_folder, fork_folder, 1)
    assert json.loads(seed_file(fork_folder, "results.json")) == fork
    assert seed_file(source_folder, "results.json") == results
    assert len(on_daytona.live_sandboxes()) == 2


async def test_fork_of_a_deleted_daytona_sandbox_is_not_found(
    on_daytona: FakeDaytona, fake_llm: FakeOpenAI
) -> None:
    source_id = new_workspace_id()
    await run_dream(SOURCE, DreamContext(), source_id)
    assert on_daytona.live_sandboxes() == []
    fake_llm.reset()

    with pytest.raises(DreamNotFoundError, match="KEEP_DAYTONA_WORKSPACE=true"):
        await fork_dream(source_id, 1)

    assert on_daytona.live_sandboxes() == []
    assert fake_llm.stats.calls == 0


async def test_fork_over_rest(live_server: LiveServer, fake_llm: FakeOpenAI) -> None:
    body = SOURCE.model_dump()
    async with httpx.AsyncClient(base_url=live_server.url, timeout=120) as client:
        source = (await client.post("/api/v1/dream", json=body)).json()
        source_id = source["metadata"]["workspaceId"]
        fake_llm.reset()
        response = await client.post(
            f"/api/v1/dreams/{source_id}/fork", json={"generation": 2, "temperature": 0.3}
        )
        fork = response.json()
        stored = await client.get(f"/api/v1/dreams/{fork['metadata']['workspaceId']}")

    assert response.status_code == 200, fork
    assert fork["metadata"]["forkedFrom"] == {"id": source_id, "generation": 2}
    assert fork["metadata"]["workspaceId"] != source_id
    assert fork["metadata"]["usage"]["llm_calls"] == regrowth_calls(2)
    assert_only_regrown(fake_llm, source, 2)
    assert stored.json() == fork
    assert (await settings_of(fork["metadata"]["workspaceId"]))["temperature"] == 0.3


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"generation": 3}, 422, "generation"),
        ({"generation": -1}, 422, "generation"),
        ({"generation": 1, "temperature": 3}, 422, "temperature"),
        ({"generation": 1, "model": "gpt-elsewhere"}, 422, "model"),
        ({"generation": 1, "children_count": 3}, 422, "children_count"),
        ({}, 422, "generation"),
    ],
)
async def test_a_bad_fork_over_rest_answers_422_naming_the_field(
    live_server: LiveServer, fake_llm: FakeOpenAI, body: dict[str, Any], status: int, field: str
) -> None:
    source_id = new_workspace_id()
    await run_dream(SOURCE, DreamContext(), source_id)
    fake_llm.reset()
    async with httpx.AsyncClient(base_url=live_server.url, timeout=60) as client:
        response = await client.post(f"/api/v1/dreams/{source_id}/fork", json=body)

    assert response.status_code == status, response.text
    assert response.json()["detail"][0]["loc"] == ["body", field]
    assert fake_llm.stats.calls == 0


async def test_a_fork_of_an_unknown_dream_over_rest_answers_404(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.url, timeout=60) as client:
        unknown = await client.post("/api/v1/dreams/dream-unknown/fork", json={"generation": 1})
        malformed = await client.post("/api/v1/dreams/..bad/fork", json={"generation": 1})

    assert unknown.status_code == 404
    assert "no checkpoint of dream 'dream-unknown'" in unknown.json()["detail"]
    assert malformed.status_code == 422


def test_fork_through_the_cli(fake_llm: FakeOpenAI, isolated_env: Path) -> None:
    dreamt = run_cli("dream", *SEED_ARGS, "--children", "2", "--generations", "3", "--json")
    assert dreamt.returncode == 0, dreamt.stderr
    source = json.loads(dreamt.stdout)
    source_id = source["metadata"]["workspaceId"]
    fake_llm.reset()

    result = run_cli("fork", source_id, "--from-generation", "1", "--temperature", "0.4", "--json")

    assert result.returncode == 0, result.stderr
    fork = json.loads(result.stdout)
    fork_id = fork["metadata"]["workspaceId"]
    assert result.stderr.startswith(f"dream: {fork_id}\n")
    assert re.search(r"generation 1/3: 4/16 nodes, 0 LLM calls", result.stderr)
    assert re.search(rf"generation 3/3: 16/16 nodes, {regrowth_calls(1) - 4} LLM", result.stderr)
    assert fork["metadata"]["forkedFrom"] == {"id": source_id, "generation": 1}
    assert_only_regrown(fake_llm, source, 1)
    workspaces = isolated_env / "workspaces"
    assert_kept(fork, workspaces / source_id, workspaces / fork_id, 1)


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--from-generation", "3"], 2, "error: --from-generation: dream 'dream-"),
        (["--from-generation", "1", "--temperature", "9"], 2, "error: --temperature: Input"),
        (["--from-generation", "1", "--model", "gpt-elsewhere"], 2, "error: --model: 'gpt-"),
        (["--from-generation", "-1"], 2, "Invalid value for '--from-generation'"),
    ],
)
def test_a_bad_fork_through_the_cli_is_a_usage_error(
    fake_llm: FakeOpenAI, args: list[str], code: int, message: str
) -> None:
    source_id = new_workspace_id()
    asyncio.run(run_dream(SOURCE, DreamContext(), source_id))
    fake_llm.reset()

    result = run_cli("fork", source_id, *args)

    assert result.returncode == code
    assert message in result.stderr and "Traceback" not in result.stderr
    assert fake_llm.stats.calls == 0


def test_a_fork_of_an_unknown_dream_through_the_cli_fails_clearly(fake_llm: FakeOpenAI) -> None:
    result = run_cli("fork", "dream-that-never-was", "--from-generation", "1")

    assert result.returncode == 1
    assert result.stderr.startswith("dream: dream-")
    assert "error: no checkpoint of dream 'dream-that-never-was'" in result.stderr


STUDIO_DREAM = {**SOURCE.model_dump()}


def after_generation(history: list[dict[str, Any]], generation: int) -> dict[str, Any]:
    """The thread's latest checkpoint right after `generation` was saved (as the README says to
    find it in Studio: `generation` N in its values, `expand_generation` next)."""
    return next(
        state
        for state in history
        if state["values"].get("generation") == generation
        and state["next"][:1] == ["expand_generation"]
    )


async def test_studio_time_travel_grows_a_thread_again_after_a_generation(
    studio_server: StudioServer,
) -> None:
    """What the README shows for Studio: from the checkpoint after generation 1, re-run as it
    was, then forked with another temperature (as_node="save_generation"); each grows
    generations 2-3 and the connections again, in the same thread and workspace."""
    llm = studio_server.llm
    async with get_client(url=studio_server.url) as client:
        thread_id = (await client.threads.create())["thread_id"]
        first = await asyncio.wait_for(
            client.runs.wait(thread_id, "codreamer", input=STUDIO_DREAM), RUN_TIMEOUT
        )
        after_1 = after_generation(await client.threads.get_history(thread_id, limit=100), 1)
        llm.reset()
        rerun = await asyncio.wait_for(
            client.runs.wait(thread_id, "codreamer", input=None, checkpoint=after_1["checkpoint"]),
            RUN_TIMEOUT,
        )
        rerun_calls = llm.stats.calls
        llm.reset()
        settings = {**after_1["values"]["settings"], "temperature": 0.1}
        await client.threads.update_state(
            thread_id,
            {"settings": settings},
            as_node="save_generation",
            checkpoint=after_1["checkpoint"],
        )
        forked = await asyncio.wait_for(
            client.runs.wait(thread_id, "codreamer", input=None), RUN_TIMEOUT
        )
        final = await client.threads.get_state(thread_id)

    assert rerun_calls == llm.stats.calls == regrowth_calls(1)
    for output in (rerun, forked):
        assert output["metadata"]["workspaceId"] == thread_id
        assert output["metadata"]["usage"]["llm_calls"] == 1 + regrowth_calls(1)
        assert len(output["nodes"]) == 16
        kept = {node["id"] for node in output["nodes"] if node["generation"] <= 1}
        assert kept == {node["id"] for node in first["nodes"] if node["generation"] <= 1}
    assert final["values"]["settings"]["temperature"] == 0.1


@pytest.fixture(scope="module")
def studio_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StudioServer]:
    """`langgraph dev` serving the dream, as tests/e2e/test_studio.py starts it."""
    workdir = tmp_path_factory.mktemp("studio")
    log = workdir / "langgraph-dev.log"
    command = [
        str(studio.LANGGRAPH),
        *("dev", "--no-browser", "--no-reload", "--host", "127.0.0.1"),
        *("--port", str(free_port()), "--config", str(studio.REPO / "langgraph.json")),
    ]
    with FakeOpenAI() as llm, log.open("w") as log_file:
        process = subprocess.Popen(
            command,
            cwd=workdir,
            env=studio.server_env(llm, workdir / "workspaces"),
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            url = studio.wait_until_ready(process, log)
            yield StudioServer(url=url, llm=llm, workspaces=workdir / "workspaces", log=log)
        finally:
            studio.stop(process)
