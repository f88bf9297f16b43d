"""The FastAPI app over real HTTP: the seed's REST contract, SSE progress, LangServe, modes."""

import asyncio
import itertools
import json

import httpx
import pytest
from langserve import RemoteRunnable

from core.settings import get_settings
from core.state import CUSTOMER_JOB, PRODUCT_FEATURE
from tests.support.daytona_server import FakeDaytona
from tests.support.live_server import LiveServer
from tests.support.openai_server import FakeOpenAI

SEED_BODY = {
    "customer": "Enterprise software companies using microservices",
    "product": "Distributed tracing and observability platform",
    "children_count": 2,
    "generations_count_int": 3,
}
METADATA_KEYS = {
    "totalNodes",
    "generationTime",
    "generations",
    "childrenCount",
    "workspaceId",
    "daytonaWorkspaceId",
    "sandbox",
    "mode",
    "model",
    "usage",
}


def assert_seed_contract(body: dict, total: int) -> None:
    assert set(body) == {"nodes", "metadata"}
    assert METADATA_KEYS <= set(body["metadata"])
    assert len(body["nodes"]) == body["metadata"]["totalNodes"] == total
    for node in body["nodes"]:
        assert {"id", "content", "edge"} <= set(node)
        for edge in node["edge"]:
            assert set(edge) == {"target_id", "relationship", "rationale"}


async def test_health_names_model_sandbox_and_mode(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        response = await client.get("/")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "version": "0.1.0",
        "model": "fake-model",
        "sandbox": "local",
        "mode": "workflow",
    }


async def test_seed_curl_body_gets_nodes_and_metadata(
    live_server: LiveServer, fake_llm: FakeOpenAI
) -> None:
    async with httpx.AsyncClient(base_url=live_server.url, timeout=60) as client:
        response = await client.post("/api/v1/dream", json=SEED_BODY)

    assert response.status_code == 200, response.text
    body = response.json()
    assert_seed_contract(body, 16)
    assert body["metadata"]["mode"] == "workflow" and body["metadata"]["sandbox"] == "local"
    assert body["metadata"]["usage"]["llm_calls"] == fake_llm.stats.calls == 11


async def test_the_original_servers_shape_answers_bare_nodes(
    fake_llm: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CODREAMER_RESPONSE_SHAPE=nodes: `Node[]` and a `service` in the health check, as the
    original server answered (its frontend reads them)."""
    monkeypatch.setenv("CODREAMER_RESPONSE_SHAPE", "nodes")
    get_settings.cache_clear()
    server = LiveServer().start()
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
            health = (await client.get("/")).json()
            response = await client.post(
                "/api/v1/dream", json={**SEED_BODY, "generations_count_int": 2}
            )
    finally:
        server.stop()

    assert health["service"] == "CoDreamer" and health["status"] == "ok"
    assert response.status_code == 200, response.text
    nodes = response.json()
    assert isinstance(nodes, list) and len(nodes) == 2 + 2 + 4
    assert all({"id", "content", "edge"} <= set(node) for node in nodes)
    assert {CUSTOMER_JOB, PRODUCT_FEATURE} <= {node["id"] for node in nodes}


async def test_defaults_are_two_children_three_generations(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.url, timeout=60) as client:
        response = await client.post("/api/v1/dream", json={"customer": "c", "product": "p"})

    assert response.status_code == 200
    assert response.json()["metadata"]["totalNodes"] == 16


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"product": "p"}, "customer"),
        ({"customer": "", "product": "p"}, "customer"),
        ({"customer": "c", "product": "  "}, "product"),
        ({"customer": "c" * 2001, "product": "p"}, "customer"),
        ({"customer": "c", "product": "p", "children_count": 0}, "children_count"),
        ({"customer": "c", "product": "p", "children_count": 11}, "children_count"),
        ({"customer": "c", "product": "p", "generations_count_int": 0}, "generations_count_int"),
        ({"customer": "c", "product": "p", "generations_count_int": 7}, "generations_count_int"),
        ({"customer": "c", "product": "p", "children_count": "many"}, "children_count"),
        (
            {"customer": "c", "product": "p", "children_count": 10, "generations_count_int": 6},
            "generations_count_int",
        ),
        ({"customer": "c", "product": "p", "colour": "red"}, "colour"),
    ],
)
async def test_invalid_bodies_get_422_naming_the_field(
    live_server: LiveServer, fake_llm: FakeOpenAI, body: dict, field: str
) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        response = await client.post("/api/v1/dream", json=body)

    assert response.status_code == 422
    assert field in response.text
    assert fake_llm.stats.calls == 0


async def test_a_body_that_is_not_json_gets_422(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        response = await client.post(
            "/api/v1/dream", content=b"customer=c", headers={"content-type": "application/json"}
        )

    assert response.status_code == 422
    assert "json" in response.text.lower()


async def test_unreachable_llm_is_a_503_naming_the_endpoint(
    live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("CODREAMER_LLM_RETRIES", "1")
    get_settings.cache_clear()

    async with httpx.AsyncClient(base_url=live_server.url, timeout=60) as client:
        response = await client.post("/api/v1/dream", json=SEED_BODY)

    assert response.status_code == 503
    assert "http://127.0.0.1:9/v1 is unreachable" in response.json()["detail"]


async def test_sse_stream_reports_progress_in_order_then_the_result(
    live_server: LiveServer,
) -> None:
    events: list[tuple[str, dict]] = []
    async with (
        httpx.AsyncClient(base_url=live_server.url, timeout=60) as client,
        client.stream("POST", "/api/v1/dream/stream", json=SEED_BODY) as response,
    ):
        assert response.headers["content-type"].startswith("text/event-stream")
        kind = None
        async for line in response.aiter_lines():
            if line.startswith("event:"):
                kind = line.split(":", 1)[1].strip()
            elif line.startswith("data:"):
                events.append((kind, json.loads(line.split(":", 1)[1])))

    kinds = [kind for kind, _ in events]
    assert kinds[-1] == "result" and set(kinds[:-1]) == {"progress"}
    progress = [data for kind, data in events if kind == "progress"]
    assert [p["generation"] for p in progress if p["generation"]] == [1, 2, 3]
    assert [p["nodes"] for p in progress] == sorted(p["nodes"] for p in progress)
    assert progress[0]["step"] == "create_workspace" and progress[-1]["step"] == "record_dream"
    assert progress[-1]["llm_calls"] == 11 and progress[-1]["total"] == 16
    assert_seed_contract(events[-1][1], 16)
    added = [node["id"] for p in progress for node in p["added"]]  # each node once, as it grew
    assert sorted(added) == sorted(node["id"] for node in events[-1][1]["nodes"])
    assert all(len(p["added"]) == p["nodes"] - q["nodes"] for q, p in itertools.pairwise(progress))


async def test_langserve_remote_runnable_invokes_and_streams(live_server: LiveServer) -> None:
    remote = RemoteRunnable(f"{live_server.url}/dream/")

    output = await remote.ainvoke({**SEED_BODY, "generations_count_int": 2})
    chunks = [chunk async for chunk in remote.astream({**SEED_BODY, "generations_count_int": 1})]

    assert_seed_contract(output, 8)
    assert chunks and "finalize" in json.dumps(chunks)


async def test_langserve_configurable_settings_reach_the_nodes(
    live_server: LiveServer, fake_llm: FakeOpenAI
) -> None:
    fake_llm.latency = 0.05
    try:
        remote = RemoteRunnable(f"{live_server.url}/dream/")
        output = await remote.ainvoke(
            {**SEED_BODY, "children_count": 4, "generations_count_int": 2},
            config={"configurable": {"max_concurrency": 2, "thread_id": "client-chosen"}},
        )
    finally:
        fake_llm.latency = 0.0

    assert output["metadata"]["totalNodes"] == 2 + 4 + 16
    assert fake_llm.stats.peak_in_flight == 2
    assert output["metadata"]["workspaceId"].startswith("dream-")


async def test_langserve_stream_events_encode_sends(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.url, timeout=60) as client:
        response = await client.post(
            "/dream/stream_events", json={"input": {**SEED_BODY, "generations_count_int": 1}}
        )

    assert response.status_code == 200
    assert "event: end" in response.text and "expand_generation" in response.text
    assert "event: error" not in response.text


async def test_langserve_rejects_bad_input(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        response = await client.post(
            "/dream/invoke", json={"input": {"customer": "c", "product": "p", "children_count": 99}}
        )

    assert response.status_code == 422
    assert "children_count" in response.text


async def test_ten_concurrent_dreams_keep_to_themselves(
    live_server: LiveServer, fake_llm: FakeOpenAI
) -> None:
    fake_llm.latency = 0.05
    try:
        async with httpx.AsyncClient(base_url=live_server.url, timeout=120) as client:
            responses = await asyncio.gather(
                *(
                    client.post(
                        "/api/v1/dream", json={**SEED_BODY, "customer": f"Customer number {n}"}
                    )
                    for n in range(10)
                )
            )
    finally:
        fake_llm.latency = 0.0

    bodies = [response.json() for response in responses]
    assert all(response.status_code == 200 for response in responses)
    assert len({body["metadata"]["workspaceId"] for body in bodies}) == 10
    for number, body in enumerate(bodies):
        anchors = {node["id"]: node["content"] for node in body["nodes"]}
        assert anchors[CUSTOMER_JOB] == f"Customer number {number}"
        assert anchors[PRODUCT_FEATURE] == SEED_BODY["product"]
        assert body["metadata"]["totalNodes"] == 16


@pytest.mark.parametrize("mode", ["legacy", "workflow-local", "workflow-daytona"])
async def test_every_mode_keeps_the_same_contract(
    fake_llm: FakeOpenAI, fake_daytona: FakeDaytona, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    monkeypatch.setenv("USE_WORKFLOW", "false" if mode == "legacy" else "true")
    monkeypatch.setenv("USE_DAYTONA", "true" if mode == "workflow-daytona" else "false")
    get_settings.cache_clear()
    server = LiveServer().start()
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
            response = await client.post("/api/v1/dream", json=SEED_BODY)
            health = (await client.get("/")).json()
    finally:
        server.stop()

    assert response.status_code == 200, response.text
    body = response.json()
    assert_seed_contract(body, 16)
    assert body["metadata"]["mode"] == ("legacy" if mode == "legacy" else "workflow")
    assert body["metadata"]["sandbox"] == ("daytona" if mode == "workflow-daytona" else "local")
    assert (
        health["mode"] == body["metadata"]["mode"]
        and health["sandbox"] == body["metadata"]["sandbox"]
    )
    assert fake_llm.stats.calls == 11
    if mode == "legacy":
        assert fake_llm.stats.peak_in_flight == 1
    assert fake_daytona.live_sandboxes() == []
