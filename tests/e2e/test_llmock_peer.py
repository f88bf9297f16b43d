"""A dream against LLMock, a third-party OpenAI-compatible mock from the package registry (its
pytest plugin's `llmock` fixture): JSON from our json_schema, and rate limits it injects."""

import pytest
from llmock.pytest_plugin import LLMock

from core.settings import get_settings
from graph import graph

RATE_LIMITED = 3


async def test_a_dream_against_llmock_rides_out_its_rate_limits(
    llmock: LLMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CODREAMER_MODEL", "gpt-4o-mini")
    monkeypatch.setenv("CODREAMER_LLM_RETRIES", "0")
    get_settings.cache_clear()
    llmock.rate_limit(times=RATE_LIMITED, retry_after=0.1)

    output = await graph.ainvoke(  # one child each: LLMock gives every item the same name
        {
            "customer": "Bakers",
            "product": "An oven",
            "children_count": 1,
            "generations_count_int": 2,
        }
    )

    usage = output["metadata"]["usage"]
    assert output["metadata"]["totalNodes"] == len(output["nodes"]) == 2 + 1 + 1
    assert output["metadata"]["warnings"] == []
    statuses = [record.status for record in llmock.requests]
    assert statuses.count(429) == usage["rate_limited"] == RATE_LIMITED
    assert statuses.count(200) == usage["llm_calls"] == 1 + 1 + 1
    assert usage["retries"] == RATE_LIMITED
    assert all(
        record.body["response_format"]["type"] == "json_schema" for record in llmock.requests
    )
    llmock.assert_resilient(strict=True)  # its own verdict: Retry-After honoured, no storm
