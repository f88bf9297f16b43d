"""LangGraph Studio: `langgraph dev` serves the dream from langgraph.json, offline.

One `langgraph dev --no-browser` per module, on 127.0.0.1, with the LLM a loopback server. It
runs with its working directory in a temp dir (`--config` names the repo's langgraph.json), so
its `.langgraph_api/` and any `.env` lookup stay out of the repo.
"""

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, fields
from pathlib import Path

import httpx
import pytest
from langgraph_sdk import get_client

from core.context import DreamContext
from tests.support.env import ENV_VARS
from tests.support.openai_server import FakeOpenAI
from tests.support.ports import free_port

REPO = Path(__file__).resolve().parents[2]
LANGGRAPH = Path(sys.executable).with_name("langgraph")
STARTUP_TIMEOUT = 90.0
RUN_TIMEOUT = 120.0
API_URL = re.compile(r"API: \S*?(http://127\.0\.0\.1:\d+)")
DREAM_INPUT = {
    "customer": "Home cooks who plan meals for a busy family",
    "product": "A meal-planning app with shared shopping lists",
    "children_count": 2,
    "generations_count_int": 2,
}


@dataclass
class StudioServer:
    url: str
    llm: FakeOpenAI
    workspaces: Path
    log: Path


def server_env(llm: FakeOpenAI, workspaces: Path) -> dict[str, str]:
    """The caller's environment without CoDreamer, LangGraph or tracing settings, plus ours."""
    dropped = ("LANGGRAPH_", "LANGSMITH_", "LANGCHAIN_", "DAYTONA_")
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ENV_VARS and not name.startswith(dropped)
    }
    env.update(
        LANGGRAPH_CLI_NO_ANALYTICS="1",
        LANGGRAPH_NO_VERSION_CHECK="true",
        OPENAI_BASE_URL=llm.url,
        CODREAMER_MODEL="fake-model",
        CODREAMER_WORKSPACES=str(workspaces),
        CODREAMER_LLM_RETRIES="2",
        NO_PROXY="127.0.0.1,localhost",
        PYTHONUNBUFFERED="1",
    )
    return env


def wait_until_ready(process: subprocess.Popen, log: Path) -> str:
    """The server's URL once it answers /ok (read from its log: a busy port makes it move)."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    url = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"langgraph dev exited with {process.returncode}:\n{log.read_text()}")
        if url is None and (match := API_URL.search(log.read_text())):
            url = match.group(1)
        if url is not None:
            try:
                if httpx.get(f"{url}/ok", timeout=2).status_code == 200:
                    return url
            except httpx.HTTPError:
                pass
        time.sleep(0.1)
    pytest.fail(f"langgraph dev did not answer /ok in {STARTUP_TIMEOUT}s:\n{log.read_text()}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StudioServer]:
    workdir = tmp_path_factory.mktemp("studio")
    workspaces = workdir / "workspaces"
    log = workdir / "langgraph-dev.log"
    command = [
        str(LANGGRAPH),
        "dev",
        "--no-browser",
        "--no-reload",
        "--host",
        "127.0.0.1",
        "--port",
        str(free_port()),
        "--config",
        str(REPO / "langgraph.json"),
    ]
    with FakeOpenAI() as llm, log.open("w") as log_file:
        process = subprocess.Popen(
            command,
            cwd=workdir,
            env=server_env(llm, workspaces),
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            url = wait_until_ready(process, log)
            yield StudioServer(url=url, llm=llm, workspaces=workspaces, log=log)
        finally:
            stop(process)


async def test_dream_runs_on_langgraph_dev(studio: StudioServer) -> None:
    studio.llm.reset()
    async with get_client(url=studio.url) as client:
        thread = await client.threads.create()
        thread_id = thread["thread_id"]
        result = await asyncio.wait_for(
            client.runs.wait(
                thread_id, "codreamer", input=DREAM_INPUT, context={"max_concurrency": 3}
            ),
            RUN_TIMEOUT,
        )
        history = await client.threads.get_history(thread_id, limit=100)

    assert isinstance(result, dict), result
    assert set(result) == {"nodes", "metadata"}, result
    nodes = result["nodes"]
    assert len(nodes) == 8
    assert len({node["id"] for node in nodes}) == 8
    assert {node["generation"] for node in nodes} == {0, 1, 2}
    metadata = result["metadata"]
    assert metadata["totalNodes"] == 8
    assert metadata["generations"] == 2
    assert metadata["childrenCount"] == 2
    assert metadata["model"] == "fake-model"
    assert metadata["sandbox"] == "local"
    assert metadata["warnings"] == []
    # 1 + 2 expansions, then the leaves of each of the 2 generation-2 parents in one call.
    assert metadata["usage"]["llm_calls"] == 5 == studio.llm.stats.calls
    assert Path(metadata["workspacePath"]).is_relative_to(studio.workspaces)
    assert Path(metadata["workspacePath"]).is_dir()

    assert len(history) >= 5
    assert history[0]["next"] == []
    assert history[-1]["next"] == ["__start__"]
    steps = [state["metadata"]["step"] for state in history]
    assert steps == sorted(steps, reverse=True)
    final = history[0]["values"]
    assert len(final["nodes"]) == 8
    assert final["settings"]["max_concurrency"] == 3
    assert final["settings"]["model"] == "fake-model"
    assert any("expand_generation" in state["next"] for state in history)


async def test_studio_runs_land_in_the_platforms_store(studio: StudioServer) -> None:
    studio.llm.reset()
    async with get_client(url=studio.url) as client:
        thread = await client.threads.create()
        result = await asyncio.wait_for(
            client.runs.wait(thread["thread_id"], "codreamer", input=DREAM_INPUT), RUN_TIMEOUT
        )
        dream_id = result["metadata"]["workspaceId"]
        record = await client.store.get_item(["codreamer", "graphs"], dream_id)
        deadline = time.monotonic() + 30
        while (vectors := await client.store.get_item(["codreamer", "vectors"], dream_id)) is None:
            assert time.monotonic() < deadline, "the dream's nodes were never indexed"
            await asyncio.sleep(0.2)
        summary = await client.store.get_item(["codreamer", "summaries"], dream_id)

    assert record["value"]["nodeCount"] == 8 == len(record["value"]["nodes"])
    assert record["value"]["customer"] == DREAM_INPUT["customer"]
    assert len(vectors["value"]["ids"]) == 8
    assert summary["value"]["indexedWith"] == vectors["value"]["model"]
    assert not list(studio.workspaces.parent.rglob("library.sqlite"))  # not our own database


async def test_studio_shows_the_run_settings(studio: StudioServer) -> None:
    async with get_client(url=studio.url) as client:
        assistants = await client.assistants.search(graph_id="codreamer")
        assert assistants, "langgraph dev registered no assistant for the codreamer graph"
        schemas = await client.assistants.get_schemas(assistants[0]["assistant_id"])

    context = schemas["context_schema"]
    assert context["title"] == "DreamContext"
    properties = context["properties"]
    for item in fields(DreamContext):
        assert properties[item.name]["description"] == item.metadata["description"]
    assert properties["max_concurrency"]["type"] == "integer"
    assert properties["sandbox"]["enum"] == ["local", "daytona"]

    inputs = schemas["input_schema"]["properties"]
    assert set(inputs) == {"customer", "product", "children_count", "generations_count_int"}
    assert all(value.get("description") for value in inputs.values())
    outputs = schemas["output_schema"]["properties"]
    assert set(outputs) == {"nodes", "metadata"}


@pytest.mark.parametrize(
    ("dream_input", "context", "named"),
    [
        ({**DREAM_INPUT, "customer": ""}, {}, "customer"),
        ({**DREAM_INPUT, "children_count": 10, "generations_count_int": 5}, {}, "limit is 20000"),
        ({**DREAM_INPUT, "children_count": 99}, {}, "children_count"),
        (DREAM_INPUT, {"max_concurrency": 0}, "max_concurrency"),
    ],
)
async def test_studio_runs_keep_the_input_rules(
    studio: StudioServer, dream_input: dict, context: dict, named: str
) -> None:
    studio.llm.reset()
    async with get_client(url=studio.url) as client:
        thread = await client.threads.create()
        run = await client.runs.create(
            thread["thread_id"], "codreamer", input=dream_input, context=context
        )
        joined = await asyncio.wait_for(
            client.runs.join(thread["thread_id"], run["run_id"]), RUN_TIMEOUT
        )
        ended = await client.runs.get(thread["thread_id"], run["run_id"])

    assert ended["status"] == "error"
    assert named in joined["__error__"]["message"]
    assert studio.llm.stats.calls == 0
