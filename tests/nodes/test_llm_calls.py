"""Retries and failures of LLM calls, seen through whole dreams against the loopback server."""

import time
from pathlib import Path
from uuid import uuid4

import httpx
import openai
import pytest
from tenacity import AsyncRetrying, RetryCallState

from core.state import PRODUCT_FEATURE
from graph import graph
from nodes import structured_call
from nodes.connect_to_product import UNJUDGED_RELATIONSHIP
from nodes.errors import NoUsableAnswerError
from nodes.expand_generation import node_id
from nodes.structured_call import AnswerRejectedError, LLMUnavailableError, retry_wait
from tests.support.openai_server import FakeOpenAI, Fault

SMALL_DREAM = {
    "customer": "Bakers",
    "product": "An oven",
    "children_count": 2,
    "generations_count_int": 1,
}


def errors_log(output: dict) -> str:
    return (Path(output["metadata"]["workspacePath"]) / "errors.log").read_text()


@pytest.fixture
def own_model(fake_llm: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> None:
    """A model name of this test's own: the window its 429s and 503s narrow (kept per endpoint
    and model) is no other test's."""
    monkeypatch.setenv("CODREAMER_MODEL", f"model-{uuid4().hex[:8]}")
    from core.settings import get_settings

    get_settings.cache_clear()


def test_node_id_is_a_slug_with_the_sequence_number() -> None:
    assert node_id("Slow Incident Response!", 26) == "slow-incident-response-1a"
    assert node_id("???", 3) == "idea-3"
    assert len(node_id("word " * 40, 1)) <= 43


@pytest.mark.parametrize(
    "fault",
    [
        Fault(status=500),
        Fault(status=503),
        Fault(status=429, retry_after=0.2),
        Fault(body='{"children": [{"name": "truncated'),
        Fault(body="not json at all"),
        Fault(
            body='{"children": [{"name": "one", "content": "c", "relationship": "r", "rationale": "w"}]}'
        ),
    ],
    ids=["500", "503", "429", "truncated-json", "not-json", "too-few-children"],
)
@pytest.mark.usefixtures("own_model")
async def test_a_failed_call_is_retried_and_logged(fake_llm: FakeOpenAI, fault: Fault) -> None:
    fake_llm.faults = [fault]

    output = await graph.ainvoke(SMALL_DREAM)

    usage = output["metadata"]["usage"]
    assert output["metadata"]["totalNodes"] == 4
    assert output["metadata"]["warnings"] == []
    assert fake_llm.stats.calls == 3
    assert usage["llm_calls"] == fake_llm.stats.answered == (3 if fault.status == 200 else 2)
    assert usage["rate_limited"] == fake_llm.stats.rate_limited == (fault.status == 429)
    assert usage["server_errors"] == fake_llm.stats.server_errors == (fault.status >= 500)
    assert usage["retries"] == 1
    assert "generation 1 parent Customer Job" in errors_log(output)


@pytest.mark.parametrize(
    "fault",
    [Fault(status=429, retry_after=0.05), Fault(status=503, retry_after=0.05)],
    ids=["429", "503"],
)
@pytest.mark.usefixtures("own_model")
async def test_rate_limits_and_overload_spend_no_retries(
    fake_llm: FakeOpenAI, monkeypatch: pytest.MonkeyPatch, fault: Fault
) -> None:
    monkeypatch.setenv("CODREAMER_LLM_RETRIES", "0")
    from core.settings import get_settings

    get_settings.cache_clear()
    fake_llm.faults = [fault] * 3

    output = await graph.ainvoke(SMALL_DREAM)

    usage = output["metadata"]["usage"]
    assert output["metadata"]["totalNodes"] == 4
    assert output["metadata"]["warnings"] == []
    assert (usage["llm_calls"], usage["retries"]) == (2, 3)
    assert usage["rate_limited"] + usage["server_errors"] == 3
    assert errors_log(output).count("no retry spent") == 3


@pytest.mark.usefixtures("own_model")
async def test_an_exhausted_quota_fails_the_dream(fake_llm: FakeOpenAI) -> None:
    fake_llm.faults = [Fault(status=429, code="insufficient_quota")]

    with pytest.raises(LLMUnavailableError, match="HTTP 429"):
        await graph.ainvoke(SMALL_DREAM)
    assert fake_llm.stats.calls == 1


@pytest.mark.usefixtures("own_model")
async def test_a_call_rate_limited_beyond_patience_fails_like_any_failed_call(
    fake_llm: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(structured_call, "RATE_LIMIT_PATIENCE_S", 0.0)
    fake_llm.faults = [Fault()] + [Fault(status=429, retry_after=0.01)] * 2

    output = await graph.ainvoke(SMALL_DREAM)

    assert "not judged" in output["metadata"]["warnings"][0]
    assert "rate limited for 0 s" in errors_log(output)
    assert output["metadata"]["usage"]["rate_limited"] == fake_llm.stats.rate_limited == 2


@pytest.mark.usefixtures("own_model")
async def test_a_429_waits_for_retry_after(fake_llm: FakeOpenAI) -> None:
    fake_llm.faults = [Fault(status=429, retry_after=1.0)]

    started = time.monotonic()
    output = await graph.ainvoke(SMALL_DREAM)

    assert output["metadata"]["totalNodes"] == 4
    assert time.monotonic() - started >= 1.0


async def test_more_children_than_asked_are_cut_to_k(fake_llm: FakeOpenAI) -> None:
    three = ",".join(
        f'{{"name": "n{i}", "content": "c", "relationship": "r", "rationale": "w"}}'
        for i in range(3)
    )
    fake_llm.faults = [Fault(body=f'{{"children": [{three}]}}')]

    output = await graph.ainvoke(SMALL_DREAM)

    assert output["metadata"]["totalNodes"] == 4
    assert fake_llm.stats.calls == 2


async def test_a_parent_that_keeps_failing_stays_a_leaf_linked_to_the_product(
    fake_llm: FakeOpenAI,
) -> None:
    dream = {**SMALL_DREAM, "children_count": 1, "generations_count_int": 2}
    fake_llm.faults = [Fault()] + [Fault(status=500)] * 3

    output = await graph.ainvoke(dream)

    nodes = {node["id"]: node for node in output["nodes"]}
    assert len(nodes) == 3
    warning, grew_nothing = output["metadata"]["warnings"]
    assert "was not expanded" in warning
    assert "generation 2 grew no node" in grew_nothing
    unexpanded = next(n for n in nodes.values() if n["generation"] == 1 and n["id"] in warning)
    assert [e["target_id"] for e in unexpanded["edge"]] == [PRODUCT_FEATURE]
    assert "was not expanded" in errors_log(output)


async def test_links_that_keep_failing_read_addressed_by(fake_llm: FakeOpenAI) -> None:
    fake_llm.faults = [Fault()] + [Fault(body="{}")] * 3

    output = await graph.ainvoke(SMALL_DREAM)

    leaves = [node for node in output["nodes"] if node["generation"] == 1]
    assert [leaf["edge"][0]["relationship"] for leaf in leaves] == [UNJUDGED_RELATIONSHIP] * 2
    assert "not judged" in output["metadata"]["warnings"][0]
    assert "not judged" in errors_log(output)


async def test_an_unreachable_endpoint_fails_the_dream_naming_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("CODREAMER_MODEL", "any-model")
    from core.settings import get_settings

    get_settings.cache_clear()

    with pytest.raises(LLMUnavailableError, match=r"http://127\.0\.0\.1:9/v1 is unreachable"):
        await graph.ainvoke(SMALL_DREAM)


async def test_a_refused_key_fails_the_dream(fake_llm: FakeOpenAI) -> None:
    fake_llm.faults = [Fault(status=401)]

    with pytest.raises(LLMUnavailableError, match="HTTP 401"):
        await graph.ainvoke(SMALL_DREAM)
    assert fake_llm.stats.calls == 1


async def test_max_concurrency_bounds_calls_in_flight(fake_llm: FakeOpenAI) -> None:
    fake_llm.latency = 0.05
    try:
        output = await graph.ainvoke(
            {**SMALL_DREAM, "children_count": 4, "generations_count_int": 3},
            context={"max_concurrency": 3},
        )
    finally:
        fake_llm.latency = 0.0

    assert output["metadata"]["totalNodes"] == 2 + 4 + 16 + 64
    assert fake_llm.stats.peak_in_flight == 3


async def test_a_slow_endpoint_times_out_per_call(
    fake_llm: FakeOpenAI, monkeypatch: pytest.MonkeyPatch, isolated_env: Path
) -> None:
    monkeypatch.setenv("CODREAMER_LLM_TIMEOUT", "0.3")
    from core.settings import get_settings

    get_settings.cache_clear()
    fake_llm.latency = 1.0
    try:
        with pytest.raises(NoUsableAnswerError, match="timed out"):
            await graph.ainvoke(
                {**SMALL_DREAM, "children_count": 1}, {"configurable": {"thread_id": "dream-slow"}}
            )
    finally:
        fake_llm.latency = 0.0

    errors = (isolated_env / "workspaces" / "dream-slow" / "errors.log").read_text()
    assert errors.count("Timeout") == 3


async def test_siblings_with_the_same_name_are_asked_again(fake_llm: FakeOpenAI) -> None:
    twins = ",".join(
        f'{{"name": "{name}", "content": "c", "relationship": "r", "rationale": "w"}}'
        for name in ("Slow builds", "slow builds!")
    )
    fake_llm.faults = [Fault(body=f'{{"children": [{twins}]}}')]

    output = await graph.ainvoke(SMALL_DREAM)

    names = [node["name"] for node in output["nodes"] if node["generation"] == 1]
    assert len(names) == 2 and "Slow builds" not in names
    assert output["metadata"]["quality"]["duplicate_sibling_labels"] == 0
    assert "repeat a name" in errors_log(output)


def failed_attempt(error: BaseException, number: int = 1) -> RetryCallState:
    state = RetryCallState(retry_object=AsyncRetrying(), fn=None, args=(), kwargs={})
    state.attempt_number = number
    state.set_exception((type(error), error, None))
    return state


def test_a_rejected_answer_is_asked_again_at_once_and_transport_errors_back_off() -> None:
    rejected = failed_attempt(AnswerRejectedError("asked for 2 children, got 1"), number=3)
    request = httpx.Request("POST", "http://127.0.0.1/v1/chat/completions")
    unavailable = openai.InternalServerError(
        "down", response=httpx.Response(503, request=request), body=None
    )

    assert retry_wait(rejected) == 0.0
    assert retry_wait(failed_attempt(unavailable)) > 0.0
    assert retry_wait(failed_attempt(openai.APIConnectionError(request=request))) > 0.0
