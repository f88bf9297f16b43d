"""Every way to run a dream records it in the library and makes its nodes searchable: Python
(sync and async), legacy mode, the SSE stream and LangServe. (The CLI and REST are covered in
test_cli.py and test_routes.py, Studio in tests/e2e/test_studio.py.)"""

import json

import httpx
import pytest
from langserve import RemoteRunnable

from core.context import DreamContext
from core.settings import get_settings
from core.state import DreamInput
from graph import graph
from graph.runner import run_dream
from library import get_library, wait_for_indexing
from nodes.create_workspace import new_workspace_id
from tests.support.live_server import LiveServer
from tests.support.openai_server import FakeOpenAI
from tests.support.postgres import PostgresServer

DREAM = {
    "customer": "Dog owners who work long hours",
    "product": "A dog-walking marketplace",
    "children_count": 2,
    "generations_count_int": 1,
}


def assert_searchable(output: dict) -> None:
    """The dream is in the library and a node of it is found by its own text."""
    wait_for_indexing(timeout=30)
    library = get_library()
    dream_id = output["metadata"]["workspaceId"]
    record = library.get(dream_id)
    assert record is not None and record["nodeCount"] == len(output["nodes"])
    grown = next(node for node in output["nodes"] if node["generation"] == 1)
    hits = library.search_nodes(f"{grown['name']}: {grown['content']}", limit=1, min_score=0.9)
    assert [(hit["graphId"], hit["node"]["id"]) for hit in hits] == [(dream_id, grown["id"])]


def test_python_invoke_records_the_dream(fake_llm: FakeOpenAI) -> None:
    assert_searchable(graph.invoke(DREAM))


async def test_python_ainvoke_records_the_dream(fake_llm: FakeOpenAI) -> None:
    assert_searchable(await graph.ainvoke(DREAM))


async def test_legacy_mode_records_the_dream(
    fake_llm: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("USE_WORKFLOW", "false")
    get_settings.cache_clear()

    output = await run_dream(DreamInput(**DREAM), DreamContext(), new_workspace_id())

    assert_searchable(output)
    assert get_library().get(output["metadata"]["workspaceId"])["metadata"]["implementation"] == (
        "legacy"
    )


async def test_sse_and_langserve_record_their_dreams(live_server: LiveServer) -> None:
    async with (
        httpx.AsyncClient(base_url=live_server.url, timeout=60) as client,
        client.stream("POST", "/api/v1/dream/stream", json=DREAM) as response,
    ):
        lines = [line async for line in response.aiter_lines() if line.startswith("data:")]
    streamed = json.loads(lines[-1].removeprefix("data:"))
    served = await RemoteRunnable(f"{live_server.url}/dream/").ainvoke(
        {**DREAM, "customer": "Cat owners who travel"}
    )

    assert_searchable(streamed)
    assert_searchable(served)
    assert get_library().stats()["totalGraphs"] == 2


def test_a_library_that_cannot_be_written_costs_a_warning_not_the_dream(
    fake_llm: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CODREAMER_DATABASE_URL", "postgresql://nobody:pw@127.0.0.1:1/none")
    get_settings.cache_clear()

    output = graph.invoke(DREAM)

    assert len(output["nodes"]) == 4
    (warning,) = output["metadata"]["warnings"]
    assert warning.startswith("not recorded in the library: the library database cannot be")
    assert "pw@" not in warning


def test_a_library_whose_write_fails_costs_a_warning_not_the_dream(
    fake_llm: FakeOpenAI, postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CODREAMER_DATABASE_URL", postgres_server.url)
    get_settings.cache_clear()
    postgres_server.reset()
    get_library()  # opened, its tables made
    postgres_server.reset()  # and gone under the open library

    output = graph.invoke(DREAM)

    assert len(output["nodes"]) == 4
    (warning,) = output["metadata"]["warnings"]
    assert warning.startswith("not recorded in the library: the dream could not be stored")


def test_library_off_records_nothing(fake_llm: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODREAMER_LIBRARY", "false")
    get_settings.cache_clear()

    output = graph.invoke(DREAM)

    assert output["metadata"]["warnings"] == []
    monkeypatch.setenv("CODREAMER_LIBRARY", "true")
    get_settings.cache_clear()
    assert get_library().graphs()["total"] == 0
