"""OpenTelemetry traces of a dream, exported over OTLP/HTTP to a loopback receiver: ours (which
keeps every byte sent) and a third-party one (oteltap); and off by default."""

import asyncio
import json
import threading
from collections.abc import Iterator

import httpx
import pytest
from langchain_core.runnables import RunnableConfig
from oteltap import OtelTapHttpProtobufReceiver, OtelTapHttpProtobufReceiverSettings

from core.context import DreamContext
from core.settings import get_settings
from core.state import DreamInput
from graph.runner import run_dream
from graph.workflow import graph
from nodes.create_workspace import new_workspace_id
from telemetry.tracing import flush_traces, get_tracer, shutdown_tracing
from tests.support.cli import SEED_ARGS, run_cli
from tests.support.live_server import LiveServer
from tests.support.openai_server import FakeOpenAI, Fault
from tests.support.otlp_server import FakeCollector
from tests.support.ports import free_port

OPENAI_KEY = "sk-otel-test-openai-key-5678"
SERVER_KEY = "otel-test-server-key-1234"
STEPS = {
    "create_workspace",
    "init_anchors",
    "expand_generation",
    "save_generation",
    "connect_to_product",
    "finalize",
    "record_dream",
}
OK, ERROR = 1, 2


@pytest.fixture
def collector(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeCollector]:
    """The loopback receiver, with OTEL_EXPORTER_OTLP_ENDPOINT pointing at it; this process's
    tracing set up afresh for the test and stopped after it."""
    with FakeCollector() as receiver:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.url)
        shutdown_tracing()
        yield receiver
        shutdown_tracing()


def test_a_cli_dream_sends_a_trace_of_its_steps_and_llm_calls(
    fake_llm: FakeOpenAI, collector: FakeCollector, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    result = run_cli("dream", *SEED_ARGS, "--children", "2", "--generations", "2", "--json")

    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    usage = output["metadata"]["usage"]
    spans = collector.spans()
    [dream] = [span for span in spans if span.name == "dream"]
    assert dream.parent_id == "" and dream.status_code == OK
    assert dream.attributes == {
        "codreamer.dream.id": output["metadata"]["workspaceId"],
        "codreamer.k": 2,
        "codreamer.g": 2,
        "codreamer.resumed": False,
        "codreamer.model": "fake-model",
        "codreamer.status": "completed",
        "codreamer.nodes": output["metadata"]["totalNodes"],
        "codreamer.llm_calls": usage["llm_calls"],
    }
    assert dream.resource["service.name"] == "codreamer"
    assert {span.trace_id for span in spans} == {dream.trace_id}
    steps = {span.span_id: span for span in spans if span.parent_id == dream.span_id}
    assert {step.name for step in steps.values()} == STEPS
    assert all(dream.start_ns <= span.start_ns <= span.end_ns <= dream.end_ns for span in spans)
    calls = [span for span in spans if span.name == "chat fake-model"]
    assert len(calls) == usage["llm_calls"] == fake_llm.stats.calls
    assert {steps[call.parent_id].name for call in calls} == {
        "expand_generation",
        "connect_to_product",
    }
    assert (
        sum(call.attributes["gen_ai.usage.input_tokens"] for call in calls)
        == (usage["input_tokens"])
    )
    assert (
        sum(call.attributes["gen_ai.usage.output_tokens"] for call in calls)
        == (usage["output_tokens"])
    )
    assert calls[0].attributes["gen_ai.request.model"] == "fake-model"
    assert set(collector.content_types) == {"application/x-protobuf"}
    exported = b"".join(collector.bodies)
    assert OPENAI_KEY.encode() not in exported
    assert b"Enterprise software companies" not in exported  # no prompt, no answer


async def test_a_failed_dream_on_the_server_is_an_error_span_without_keys(
    fake_llm: FakeOpenAI, collector: FakeCollector, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The endpoint's 401 echoes the key it was sent (as OpenAI's does): spans carry it
    redacted."""
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    monkeypatch.setenv("CODREAMER_API_KEY", SERVER_KEY)
    get_settings.cache_clear()
    fake_llm.faults = [Fault(status=401, echo_key=True)]
    server = LiveServer().start()
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
            response = await client.post(
                "/api/v1/dream",
                json={"customer": "c", "product": "p", "generations_count_int": 1},
                headers={"Authorization": f"Bearer {SERVER_KEY}"},
            )
    finally:
        server.stop()  # its shutdown sends the spans still batched

    assert response.status_code == 503, response.text
    dream = collector.wait_for("dream")
    assert dream.status_code == ERROR
    assert dream.attributes["codreamer.status"] == "failed"
    assert dream.attributes["error.type"] == "LLMUnavailableError"
    assert "HTTP 401" in dream.status_message
    [call] = [span for span in collector.spans() if span.name == "chat fake-model"]
    assert call.status_code == ERROR and call.attributes["error.type"].endswith(
        "AuthenticationError"
    )
    assert "incorrect API key provided: ***" in call.status_message
    exported = b"".join(collector.bodies)
    assert OPENAI_KEY.encode() not in exported and SERVER_KEY.encode() not in exported


async def test_a_third_party_otlp_receiver_accepts_the_dream_trace(
    fake_llm: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """oteltap (a native OTLP/HTTP receiver nobody here wrote) decodes what we export."""
    port = free_port()
    settings = OtelTapHttpProtobufReceiverSettings(http_port=port)
    workspace_id = new_workspace_id()
    async with OtelTapHttpProtobufReceiver(settings) as tap:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{port}")
        shutdown_tracing()
        try:
            arrived = asyncio.ensure_future(tap.await_trace(lambda span: span.name == "dream", 30))
            dream_input = DreamInput(customer="c", product="p", generations_count_int=1)
            output = await run_dream(dream_input, DreamContext(), workspace_id)
            await asyncio.to_thread(flush_traces)
            span = await arrived
        finally:
            shutdown_tracing()

    attributes = {item.key: item.value for item in span.attributes}
    assert attributes["codreamer.dream.id"].string_value == workspace_id
    assert attributes["codreamer.status"].string_value == "completed"
    assert attributes["codreamer.nodes"].int_value == output["metadata"]["totalNodes"]


async def test_only_runs_of_the_dream_are_traced_as_dreams(
    fake_llm: FakeOpenAI, collector: FakeCollector
) -> None:
    """`update_state` runs the graph too (as `CoDreamerUpdateState`): no dream, no span."""
    workspace_id = new_workspace_id()
    dream_input = DreamInput(customer="c", product="p", generations_count_int=1)
    await run_dream(dream_input, DreamContext(), workspace_id)
    config: RunnableConfig = {"configurable": {"thread_id": workspace_id}}

    await graph.aupdate_state(config, {"warnings": ["edited"]}, as_node="save_generation")
    await asyncio.to_thread(flush_traces)

    names = [span.name for span in collector.spans()]
    assert names.count("dream") == 1 and "route_generation" not in names
    assert {span.trace_id for span in collector.spans()} == {collector.wait_for("dream").trace_id}


async def test_traces_are_off_without_an_endpoint(fake_llm: FakeOpenAI) -> None:
    shutdown_tracing()  # the next dream reads the environment again: no OTLP endpoint in it
    dream_input = DreamInput(customer="c", product="p", generations_count_int=1)

    await run_dream(dream_input, DreamContext(), new_workspace_id())

    assert get_tracer() is None
    assert not [t.name for t in threading.enumerate() if t.name.startswith("OtelBatch")]
