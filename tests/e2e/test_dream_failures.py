"""Every dream ends with a result or a clear error, from every entry point."""

import asyncio
import json
from pathlib import Path

import httpx
import pytest
from langserve import RemoteRunnable

from core.state import PRODUCT_FEATURE
from graph import graph
from graph.runner import resume_dream
from graph.workflow import studio_graph
from nodes.create_workspace import InvalidDreamInputError
from nodes.errors import NoUsableAnswerError
from tests.support.cli import SEED_ARGS, run_cli
from tests.support.live_server import LiveServer
from tests.support.openai_server import FakeOpenAI, Fault

PLAIN_TEXT = "[mock response for fake-model, fingerprint 1a2b3c4d]"
SMALL_DREAM = {"customer": "Bakers", "product": "An oven", "children_count": 2}
ROOT_ATTEMPTS = 3
"""The root's attempts with CODREAMER_LLM_RETRIES=2 (tests/conftest.py)."""


def plain_text_answers(fake_llm: FakeOpenAI, count: int = ROOT_ATTEMPTS) -> None:
    fake_llm.faults = [Fault(body=PLAIN_TEXT)] * count


async def test_a_root_that_cannot_grow_fails_naming_endpoint_model_and_answers(
    fake_llm: FakeOpenAI, isolated_env: Path
) -> None:
    plain_text_answers(fake_llm)

    with pytest.raises(NoUsableAnswerError) as failure:
        await graph.ainvoke(SMALL_DREAM, {"configurable": {"thread_id": "dream-root-fails"}})

    message = str(failure.value)
    assert fake_llm.url in message and "fake-model" in message
    assert "Customer Job" in message and "not JSON" in message and PLAIN_TEXT[:20] in message
    errors = (isolated_env / "workspaces" / "dream-root-fails" / "errors.log").read_text()
    assert errors.count("generation 1 parent Customer Job") == ROOT_ATTEMPTS


async def test_a_dream_whose_root_failed_can_be_resumed(
    fake_llm: FakeOpenAI, isolated_env: Path
) -> None:
    plain_text_answers(fake_llm)
    with pytest.raises(NoUsableAnswerError):
        await graph.ainvoke(SMALL_DREAM, {"configurable": {"thread_id": "dream-root-resumed"}})

    output = await resume_dream("dream-root-resumed")

    assert output["metadata"]["totalNodes"] == 16
    assert output["metadata"]["warnings"] == []


async def test_a_later_generation_that_grows_nothing_goes_on_to_the_product(
    fake_llm: FakeOpenAI,
) -> None:
    # Generation 1 grows its one child; that child's every attempt is rejected.
    fake_llm.faults = [Fault(), *[Fault(body="not json")] * ROOT_ATTEMPTS]

    output = await graph.ainvoke({**SMALL_DREAM, "children_count": 1})

    nodes = {node["id"]: node for node in output["nodes"]}
    assert len(nodes) == 3
    (child,) = (node for node in nodes.values() if node["generation"] == 1)
    assert [edge["target_id"] for edge in child["edge"]] == [PRODUCT_FEATURE]
    warnings = output["metadata"]["warnings"]
    assert any("generation 2 grew no node" in warning for warning in warnings)
    assert output["metadata"]["quality"]["path_to_product"] == 1.0


def test_the_cli_reports_a_root_failure_in_one_line(fake_llm: FakeOpenAI) -> None:
    plain_text_answers(fake_llm)

    result = run_cli("dream", *SEED_ARGS, "--children", "1", "--generations", "1")

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "no usable answer" in errors[0]


async def test_rest_answers_502_and_sse_ends_with_error(
    live_server: LiveServer, fake_llm: FakeOpenAI
) -> None:
    plain_text_answers(fake_llm)
    async with httpx.AsyncClient(base_url=live_server.url, timeout=60) as client:
        response = await client.post("/api/v1/dream", json=SMALL_DREAM)
        assert response.status_code == 502
        assert "no usable answer" in response.json()["detail"]

        plain_text_answers(fake_llm)
        events = []
        async with client.stream("POST", "/api/v1/dream/stream", json=SMALL_DREAM) as stream:
            async for line in stream.aiter_lines():
                if line.startswith("event:"):
                    events.append(line.split(":", 1)[1].strip())
                elif line.startswith("data:"):
                    last_data = json.loads(line.split(":", 1)[1])

    assert events[-1] == "error" and set(events[:-1]) == {"progress"}
    assert last_data["status"] == 502 and "no usable answer" in last_data["detail"]


async def test_langserve_returns_the_error(live_server: LiveServer, fake_llm: FakeOpenAI) -> None:
    plain_text_answers(fake_llm)
    remote = RemoteRunnable(f"{live_server.url}/dream/")

    with pytest.raises(httpx.HTTPStatusError) as failure:
        await remote.ainvoke(SMALL_DREAM)

    assert failure.value.response.status_code == 502
    assert "no usable answer" in failure.value.response.text


@pytest.mark.parametrize(
    ("dream_input", "named"),
    [
        ({"customer": "", "product": "An oven"}, "customer"),
        ({"customer": "Bakers", "product": "An oven", "children_count": 99}, "children_count"),
        (
            {"customer": "B", "product": "O", "children_count": 10, "generations_count_int": 5},
            "limit is 20000",
        ),
        ({"product": "An oven"}, "customer"),
    ],
)
async def test_studio_graph_applies_the_input_rules(
    fake_llm: FakeOpenAI, dream_input: dict, named: str
) -> None:
    with pytest.raises(InvalidDreamInputError, match=named):
        await studio_graph.ainvoke(dream_input)

    assert fake_llm.stats.calls == 0


async def test_studio_graph_fills_the_defaults(fake_llm: FakeOpenAI) -> None:
    output = await studio_graph.ainvoke({"customer": " Bakers ", "product": "An oven"})

    assert output["metadata"]["totalNodes"] == 16
    assert output["nodes"][0]["content"] == "Bakers"


@pytest.mark.parametrize(
    ("configurable", "named"),
    [
        ({"max_concurrency": 0}, "max_concurrency"),
        ({"max_concurrency": -4}, "max_concurrency"),
        ({"parents_per_task": 0}, "parents_per_task"),
        ({"llm_timeout": -1}, "llm_timeout"),
        ({"llm_retries": 1_000_000}, "llm_retries"),
        ({"temperature": 7}, "temperature"),
        ({"model": "gpt-unknown"}, "model"),
        ({"model": "embedded"}, "model"),
    ],
)
async def test_langserve_refuses_bad_run_settings_with_422(
    live_server: LiveServer, fake_llm: FakeOpenAI, configurable: dict, named: str
) -> None:
    customer = f"Refused for {named} {configurable[named]}"
    dream = {**SMALL_DREAM, "customer": customer}
    body = {"input": dream, "config": {"configurable": configurable}}
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as client:
        response = await client.post("/dream/invoke", json=body)

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == named
    assert not any(customer in prompt for prompt in fake_llm.stats.prompts)


async def test_langserve_batch_is_bounded(live_server: LiveServer, fake_llm: FakeOpenAI) -> None:
    body = {"inputs": [{**SMALL_DREAM, "customer": "Batched bakers"}] * 200}
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as client:
        response = await client.post("/dream/batch", json=body)

    assert response.status_code == 422
    assert "at most 8 dreams" in response.text
    assert not any("Batched bakers" in prompt for prompt in fake_llm.stats.prompts)


@pytest.mark.parametrize("route", ["/dream/invoke", "/dream/batch", "/api/v1/dream"])
async def test_a_dream_stops_when_its_client_goes(
    live_server: LiveServer, fake_llm: FakeOpenAI, route: str
) -> None:
    fake_llm.latency = 0.5
    dream = {**SMALL_DREAM, "generations_count_int": 4}
    body = {"inputs": [dream]} if route.endswith("batch") else {"input": dream}
    try:
        async with httpx.AsyncClient(base_url=live_server.url, timeout=1.2) as client:
            with pytest.raises(httpx.ReadTimeout):
                await client.post(route, json=dream if route.startswith("/api") else body)
        await asyncio.sleep(1.0)  # calls in flight when the client left still land
        settled = fake_llm.stats.calls
        await asyncio.sleep(2.0)  # a dream still running would start its next generation
    finally:
        fake_llm.latency = 0.0

    # A whole dream is 15 + 16 calls.
    assert fake_llm.stats.calls == settled < 31
