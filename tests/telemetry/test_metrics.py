"""`GET /metrics` over real HTTP: what a dream moves, on every route, and who may read it.

Counters live for the whole test process, so each test compares a scrape before with one after.
"""

import asyncio
import json

import httpx
import pytest
from langserve import RemoteRunnable
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as openmetrics_families,
)
from prometheus_client.parser import text_string_to_metric_families

from core.settings import get_settings
from tests.support.daytona_server import FakeDaytona
from tests.support.live_server import LiveServer
from tests.support.openai_server import FakeOpenAI, Fault

SEED_BODY = {
    "customer": "Enterprise software companies using microservices",
    "product": "Distributed tracing and observability platform",
    "children_count": 2,
    "generations_count_int": 3,
}
API_KEY = "metrics-test-key-1234"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parsed(text: str) -> Samples:
    """Every sample of a Prometheus text exposition, by name and labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def scrape(client: httpx.AsyncClient) -> Samples:
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return parsed(response.text)


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


async def test_a_dream_moves_every_counter_by_its_usage(
    live_server: LiveServer, fake_llm: FakeOpenAI
) -> None:
    async with httpx.AsyncClient(base_url=live_server.url, timeout=60) as client:
        before = await scrape(client)
        response = await client.post("/api/v1/dream", json=SEED_BODY)
        after = await scrape(client)

    assert response.status_code == 200, response.text
    metadata = response.json()["metadata"]
    usage = metadata["usage"]
    model = {"model": "fake-model"}
    assert usage["llm_calls"] == fake_llm.stats.calls == 11
    assert moved(before, after, "codreamer_dreams_total", status="completed") == 1
    assert moved(before, after, "codreamer_dreams_total", status="failed") == 0
    assert moved(before, after, "codreamer_dreams_total", status="cancelled") == 0
    assert moved(before, after, "codreamer_llm_calls_total", **model) == usage["llm_calls"]
    assert moved(before, after, "codreamer_llm_call_duration_seconds_count", **model) == 11
    assert moved(before, after, "codreamer_llm_call_duration_seconds_sum", **model) > 0
    tokens = {
        kind: moved(before, after, "codreamer_llm_tokens_total", kind=kind, **model)
        for kind in ("input", "output")
    }
    assert tokens == {"input": usage["input_tokens"], "output": usage["output_tokens"]}
    assert tokens["input"] == fake_llm.stats.input_tokens > 0
    assert moved(before, after, "codreamer_nodes_total") == metadata["totalNodes"] == 16
    assert moved(before, after, "codreamer_dream_duration_seconds_count") == 1
    seconds = moved(before, after, "codreamer_dream_duration_seconds_sum")
    assert 0 < seconds <= metadata["generationTime"] / 1000 + 5
    assert value(after, "codreamer_sandboxes_live", backend="daytona") == value(
        before, "codreamer_sandboxes_live", backend="daytona"
    )
    assert value(after, "process_cpu_seconds_total") > 0  # the runtime's own collectors


async def test_a_dream_whose_llm_is_unreachable_counts_as_failed(
    live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("CODREAMER_LLM_RETRIES", "1")
    get_settings.cache_clear()

    async with httpx.AsyncClient(base_url=live_server.url, timeout=60) as client:
        before = await scrape(client)
        response = await client.post("/api/v1/dream", json=SEED_BODY)
        after = await scrape(client)

    assert response.status_code == 503
    assert moved(before, after, "codreamer_dreams_total", status="failed") == 1
    assert moved(before, after, "codreamer_dreams_total", status="completed") == 0
    assert moved(before, after, "codreamer_dream_duration_seconds_count") == 0
    assert moved(before, after, "codreamer_llm_calls_total", model="fake-model") == 0
    requests = moved(before, after, "codreamer_llm_call_duration_seconds_count", model="fake-model")
    assert requests >= 1  # failed requests are timed too


async def test_failed_llm_requests_are_timed_but_not_counted_as_calls(
    live_server: LiveServer, fake_llm: FakeOpenAI
) -> None:
    fake_llm.faults = [Fault(status=500), Fault(status=500)]

    async with httpx.AsyncClient(base_url=live_server.url, timeout=60) as client:
        before = await scrape(client)
        response = await client.post(
            "/api/v1/dream", json={**SEED_BODY, "generations_count_int": 1}
        )
        after = await scrape(client)

    assert response.status_code == 200, response.text
    usage = response.json()["metadata"]["usage"]
    assert usage["server_errors"] == 2
    calls = moved(before, after, "codreamer_llm_calls_total", model="fake-model")
    requests = moved(before, after, "codreamer_llm_call_duration_seconds_count", model="fake-model")
    assert calls == usage["llm_calls"] and requests == calls + 2


async def test_sse_and_langserve_dreams_are_counted_too(live_server: LiveServer) -> None:
    small = {**SEED_BODY, "generations_count_int": 1}
    async with httpx.AsyncClient(base_url=live_server.url, timeout=60) as client:
        before = await scrape(client)
        async with client.stream("POST", "/api/v1/dream/stream", json=small) as response:
            events = [line async for line in response.aiter_lines() if line.startswith("event:")]
        output = await RemoteRunnable(f"{live_server.url}/dream/").ainvoke(small)
        after = await scrape(client)

    assert events[-1] == "event: result"
    assert output["metadata"]["totalNodes"] == 2 + 2
    assert moved(before, after, "codreamer_dreams_total", status="completed") == 2
    assert moved(before, after, "codreamer_dreams_total", status="cancelled") == 0
    assert moved(before, after, "codreamer_nodes_total") == 2 * 4


async def test_a_client_that_hangs_up_counts_its_dream_as_cancelled(
    live_server: LiveServer, llm_server: FakeOpenAI
) -> None:
    llm_server.latency = 0.5  # the dream is still growing when the client goes
    try:
        async with httpx.AsyncClient(base_url=live_server.url, timeout=60) as client:
            before = await scrape(client)
            async with client.stream("POST", "/api/v1/dream/stream", json=SEED_BODY) as response:
                async for line in response.aiter_lines():
                    if line.startswith("data:") and json.loads(line[5:])["step"] == "init_anchors":
                        break
            for _ in range(100):  # the server notices the hang-up, then cancels
                after = await scrape(client)
                if moved(before, after, "codreamer_dreams_total", status="cancelled"):
                    break
                await asyncio.sleep(0.1)
    finally:
        llm_server.latency = 0.0

    assert moved(before, after, "codreamer_dreams_total", status="cancelled") == 1
    assert moved(before, after, "codreamer_dreams_total", status="completed") == 0
    assert moved(before, after, "codreamer_dreams_total", status="failed") == 0


async def test_a_daytona_sandbox_is_live_while_its_dream_runs(
    fake_llm: FakeOpenAI, fake_daytona: FakeDaytona, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("USE_DAYTONA", "true")
    get_settings.cache_clear()
    server = LiveServer().start()
    live = []
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
            before = value(await scrape(client), "codreamer_sandboxes_live", backend="daytona")
            async with client.stream("POST", "/api/v1/dream/stream", json=SEED_BODY) as response:
                async for line in response.aiter_lines():
                    if line.startswith("event:"):
                        samples = await scrape(client)
                        live.append(value(samples, "codreamer_sandboxes_live", backend="daytona"))
            after = value(await scrape(client), "codreamer_sandboxes_live", backend="daytona")
    finally:
        server.stop()

    assert live[0] == before + 1  # from the first step on, the dream holds its sandbox
    assert after == before and fake_daytona.live_sandboxes() == []


async def test_metrics_need_the_api_key_when_one_is_set(
    fake_llm: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CODREAMER_API_KEY", API_KEY)
    get_settings.cache_clear()
    server = LiveServer().start()
    try:
        async with httpx.AsyncClient(base_url=server.url) as client:
            anonymous = await client.get("/metrics")
            wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
            allowed = await client.get("/metrics", headers={"Authorization": f"Bearer {API_KEY}"})
    finally:
        server.stop()

    assert anonymous.status_code == wrong.status_code == 401
    assert anonymous.headers["www-authenticate"] == "Bearer"
    assert allowed.status_code == 200
    assert "codreamer_dreams_total" in allowed.text and API_KEY not in allowed.text


async def test_metrics_speak_openmetrics_when_asked(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        response = await client.get(
            "/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"}
        )

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    families = {family.name: family for family in openmetrics_families(response.text)}
    assert families["codreamer_dreams"].type == "counter"
    assert families["codreamer_dream_duration_seconds"].type == "histogram"
    assert families["codreamer_sandboxes_live"].type == "gauge"
    statuses = {s.labels["status"] for s in families["codreamer_dreams"].samples}
    assert statuses == {"completed", "failed", "cancelled"}  # each shown before it happens
