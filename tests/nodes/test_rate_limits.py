"""Rate limits ridden out: an adaptive window per endpoint and model, a shared pause, and no
retries spent on them."""

import asyncio
from collections.abc import Iterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from core.settings import get_settings
from graph import graph
from nodes.rate_limit import MAX_RETRY_AFTER_SECONDS, EndpointThrottle, retry_after_seconds
from tests.support.openai_server import FakeOpenAI

REQUESTS_PER_SECOND = 20


@pytest.fixture(scope="module")
def limited_server() -> Iterator[FakeOpenAI]:
    """A loopback server of its own (its endpoint's window is not the other tests' one)."""
    with FakeOpenAI(latency=0.05) as server:
        yield server


@pytest.fixture
def limited_llm(limited_server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> FakeOpenAI:
    """That server allowing 20 requests per rolling second, and no retries for broken answers:
    a 429 that used up a retry would lose a node."""
    limited_server.reset()
    limited_server.rate_limit = REQUESTS_PER_SECOND
    monkeypatch.setenv("OPENAI_BASE_URL", limited_server.url)
    monkeypatch.setenv("CODREAMER_MODEL", "limited-model")
    monkeypatch.setenv("CODREAMER_LLM_RETRIES", "0")
    get_settings.cache_clear()
    return limited_server


async def test_a_dream_under_a_rate_limit_grows_every_node(limited_llm: FakeOpenAI) -> None:
    output = await graph.ainvoke(
        {
            "customer": "Bakers",
            "product": "An oven",
            "children_count": 4,
            "generations_count_int": 3,
        }
    )

    usage = output["metadata"]["usage"]
    assert output["metadata"]["totalNodes"] == len(output["nodes"]) == 2 + 4 + 16 + 64
    assert output["metadata"]["warnings"] == []
    assert usage["rate_limited"] == limited_llm.stats.rate_limited > 0
    assert usage["llm_calls"] == limited_llm.stats.answered == 1 + 4 + 16 + 16
    assert usage["retries"] == usage["rate_limited"]
    assert usage["server_errors"] == 0


def test_retry_after_is_read_in_milliseconds_seconds_or_as_a_date() -> None:
    in_three_seconds = format_datetime(datetime.now(UTC) + timedelta(seconds=3), usegmt=True)

    assert retry_after_seconds({"retry-after-ms": "250", "retry-after": "1"}) == 0.25
    assert retry_after_seconds({"retry-after": "2"}) == 2.0
    assert retry_after_seconds({"retry-after": "0.5"}) == 0.5
    assert retry_after_seconds({"retry-after": in_three_seconds}) == pytest.approx(3, abs=1)
    assert retry_after_seconds({"retry-after": "3600"}) == MAX_RETRY_AFTER_SECONDS
    assert retry_after_seconds({"retry-after-ms": "-5"}) == 0.0
    assert retry_after_seconds({"retry-after": "soon"}) is None
    assert retry_after_seconds({}) is None


async def test_the_window_halves_once_per_push_back_and_grows_after_answers() -> None:
    throttle = EndpointThrottle(ceiling=8)
    async with AsyncExitStack() as stack:
        starts = [await stack.enter_async_context(throttle.slot()) for _ in range(4)]
        throttle.pushed_back(starts[0], retry_after=None)
        throttle.pushed_back(starts[3], retry_after=None)  # sent before the halving
        assert throttle.limit == 2

    async with AsyncExitStack() as stack:
        for _ in range(2):
            await stack.enter_async_context(throttle.slot())
        third = asyncio.create_task(stack.enter_async_context(throttle.slot()))
        await asyncio.sleep(0)
        assert not third.done()
        throttle.answered()
        await third
        assert throttle.in_flight == 3

    answers = 0
    while throttle.limit < float("inf"):
        throttle.answered()
        answers += 1
    assert answers == 29  # one more in flight per window of answers: 3, 4, ... 8, then open


async def test_a_push_back_pauses_every_caller_until_its_retry_after() -> None:
    throttle = EndpointThrottle(ceiling=8)
    async with throttle.slot() as started:
        throttle.pushed_back(started, retry_after=0.05)
    pause_end = throttle.paused_until

    async with throttle.slot() as resumed:
        assert resumed >= pause_end


async def test_a_caller_cancelled_while_waiting_keeps_no_place_in_the_window() -> None:
    throttle = EndpointThrottle(ceiling=8)
    throttle.limit = 1
    async with throttle.slot():
        waiting = asyncio.create_task(throttle.slot().__aenter__())
        await asyncio.sleep(0)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting

    assert throttle.in_flight == 0
    async with throttle.slot():
        assert throttle.in_flight == 1
