"""Structured output from any endpoint: json_schema, else json_object, else the prompt alone."""

from pathlib import Path
from uuid import uuid4

import pytest

from core.context import DreamContext
from core.settings import get_settings
from core.state import weakest_output_mode
from graph import graph
from nodes.json_answers import AnswerRejectedError, parse_tolerant
from nodes.output_modes import working_mode
from nodes.prompts import CONNECT_TO_PRODUCT_EXAMPLE, CONNECT_TO_PRODUCT_EXAMPLE_ANSWER
from nodes.schemas import links_schema
from nodes.structured_call import LLMUnavailableError, ask_model
from tests.support.openai_server import FakeOpenAI

DREAM = {
    "customer": "Bakers",
    "product": "An oven",
    "children_count": 2,
    "generations_count_int": 2,
}
CALLS = 1 + 2 + 2
LINKS = '{"relationship": "is eased by", "rationale": "It bakes."}'


@pytest.fixture
def picky_llm(fake_llm: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> FakeOpenAI:
    """The loopback server under a model name of this test's own: the output mode the process
    remembers per endpoint and model starts afresh."""
    monkeypatch.setenv("CODREAMER_MODEL", f"picky-{uuid4().hex[:8]}")
    get_settings.cache_clear()
    return fake_llm


def errors_log(output: dict) -> str:
    return (Path(output["metadata"]["workspacePath"]) / "errors.log").read_text()


def assert_complete(output: dict) -> None:
    assert output["metadata"]["totalNodes"] == len(output["nodes"]) == 2 + 2 + 4
    assert output["metadata"]["warnings"] == []


async def test_json_schema_refused_falls_back_to_json_object_and_is_remembered(
    picky_llm: FakeOpenAI,
) -> None:
    picky_llm.refused_formats = {"json_schema"}

    first = await graph.ainvoke(DREAM)
    second = await graph.ainvoke(DREAM)

    assert_complete(first)
    assert_complete(second)
    assert first["metadata"]["structured_output"] == "json_object"
    assert picky_llm.stats.formats == {"json_schema": 1, "json_object": 2 * CALLS}
    assert first["metadata"]["usage"]["retries"] == 1
    assert second["metadata"]["usage"]["retries"] == 0
    assert "refused json_schema output; asking in json_object mode" in errors_log(first)
    assert working_mode(picky_llm.url, get_settings().model) == "json_object"


async def test_json_schema_and_json_object_refused_fall_back_to_the_prompt(
    picky_llm: FakeOpenAI,
) -> None:
    picky_llm.refused_formats = {"json_schema", "json_object"}
    picky_llm.answer_style = "wrapped"

    output = await graph.ainvoke(DREAM)

    assert_complete(output)
    assert output["metadata"]["structured_output"] == "prompt"
    assert picky_llm.stats.formats == {"json_schema": 1, "json_object": 1, "none": CALLS}
    assert output["metadata"]["usage"]["llm_calls"] == picky_llm.stats.answered == CALLS
    leaves = [node for node in output["nodes"] if node["generation"] == 2]
    assert {leaf["edge"][0]["relationship"] for leaf in leaves} == {"is solved by"}


async def test_each_outcome_names_the_mode_that_answered(picky_llm: FakeOpenAI) -> None:
    picky_llm.refused_formats = {"json_schema"}

    outcome = await ask_model(
        DreamContext(),
        "dream-modes",
        links_schema(2),
        example=(CONNECT_TO_PRODUCT_EXAMPLE, CONNECT_TO_PRODUCT_EXAMPLE_ANSWER),
        prompt=CONNECT_TO_PRODUCT_EXAMPLE,
        items="links",
        count=2,
        max_tokens=300,
    )

    assert outcome.value is not None and len(outcome.value.links) == 2
    assert outcome.mode == "json_object"


async def test_a_request_refused_in_every_mode_is_a_real_refusal(picky_llm: FakeOpenAI) -> None:
    picky_llm.refused_formats = {"json_schema", "json_object", "none"}

    with pytest.raises(LLMUnavailableError, match="HTTP 400"):
        await graph.ainvoke(DREAM)

    assert picky_llm.stats.formats == {"json_schema": 1, "json_object": 1, "none": 1}
    assert working_mode(picky_llm.url, get_settings().model) == "json_schema"


async def test_a_cached_answer_is_replayed_only_under_the_mode_it_was_asked_in(
    picky_llm: FakeOpenAI, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CODREAMER_LLM_CACHE", str(tmp_path / "answers.sqlite"))
    get_settings.cache_clear()
    picky_llm.refused_formats = {"json_schema"}
    await graph.ainvoke(DREAM)
    rerun = await graph.ainvoke(DREAM)
    assert picky_llm.stats.calls == CALLS
    assert rerun["metadata"]["usage"]["cached_answers"] == CALLS

    with FakeOpenAI() as strict_endpoint:  # the same model name, asked in json_schema mode
        monkeypatch.setenv("OPENAI_BASE_URL", strict_endpoint.url)
        get_settings.cache_clear()
        output = await graph.ainvoke(DREAM)

    assert strict_endpoint.stats.formats == {"json_schema": CALLS}
    assert output["metadata"]["usage"]["cached_answers"] == 0


@pytest.mark.parametrize(
    "answer",
    [
        f'Sure! Here is the JSON:\n```json\n{{"links": [{LINKS}, {LINKS}]}}\n```\nHope it helps.',
        f'Here you go: {{"links": [{LINKS}, {LINKS},]}} Anything else?',
        f"```\n[{LINKS}, {LINKS}]\n```",
        f"{{'links': [{LINKS}, {LINKS}]}}",
    ],
    ids=["fenced-with-prose", "prose-and-trailing-comma", "bare-list", "single-quotes"],
)
def test_json_wrapped_by_a_chatty_model_is_read(answer: str) -> None:
    links = parse_tolerant(answer, links_schema(2)).links

    assert [link.relationship for link in links] == ["is eased by"] * 2


@pytest.mark.parametrize(
    "answer", ["[mock response for fake-model] Ovens are great.", "Plain words only."]
)
def test_an_answer_without_json_is_rejected_as_not_json(answer: str) -> None:
    with pytest.raises(AnswerRejectedError, match="not JSON: '"):
        parse_tolerant(answer, links_schema(2))


def test_the_weakest_output_mode_wins() -> None:
    assert weakest_output_mode(None, None) is None
    assert weakest_output_mode(None, "json_object") == "json_object"
    assert weakest_output_mode("json_schema", None) == "json_schema"
    assert weakest_output_mode("json_schema", "json_object") == "json_object"
    assert weakest_output_mode("prompt", "json_object") == "prompt"
