"""Weak answers (repeated names, copied examples, restated prompt data) are asked again;
the last attempt's is kept rather than losing a subtree, and metadata.quality counts it."""

import json
from pathlib import Path

from graph import graph
from tests.support.openai_server import FakeOpenAI, Fault

DREAM = {"customer": "Teams running microservices", "product": "A tracing platform"}
COPIED = "Every ingredient arrives at the door in the right amount."


def children(*contents: str) -> Fault:
    """One answer whose children hold these contents (names and rationales all distinct)."""
    items = [
        {
            "name": f"Need {number}",
            "content": content,
            "relationship": "leads to",
            "rationale": f"Reason {number} for tracing.",
        }
        for number, content in enumerate(contents)
    ]
    return Fault(body=json.dumps({"children": items}))


def errors_log(output: dict) -> str:
    return (Path(output["metadata"]["workspacePath"]) / "errors.log").read_text()


async def test_an_answer_copying_the_worked_example_is_asked_again(fake_llm: FakeOpenAI) -> None:
    fake_llm.faults = [children(COPIED, "Traces cross many services.")]

    output = await graph.ainvoke({**DREAM, "generations_count_int": 1})

    contents = [node["content"] for node in output["nodes"] if node["generation"] == 1]
    assert COPIED not in contents and len(contents) == 2
    assert output["metadata"]["quality"]["copied_examples"] == 0
    assert output["metadata"]["usage"]["llm_calls"] == 1 + 1 + 1
    assert "copy the prompt instead of answering it" in errors_log(output)


async def test_an_answer_restating_its_parent_is_asked_again(fake_llm: FakeOpenAI) -> None:
    fake_llm.faults = [children(DREAM["customer"], "Traces cross many services.")]

    output = await graph.ainvoke({**DREAM, "generations_count_int": 1})

    contents = [node["content"] for node in output["nodes"] if node["generation"] == 1]
    assert DREAM["customer"] not in contents
    assert "copy the prompt" in errors_log(output)


async def test_the_last_attempt_keeps_a_weak_answer_and_quality_counts_it(
    fake_llm: FakeOpenAI,
) -> None:
    # CODREAMER_LLM_RETRIES=2 in tests: three attempts, every one copying the example.
    fake_llm.faults = [children(COPIED, "Traces cross many services.")] * 3

    output = await graph.ainvoke({**DREAM, "generations_count_int": 1})

    contents = [node["content"] for node in output["nodes"] if node["generation"] == 1]
    assert COPIED in contents and output["metadata"]["totalNodes"] == 4
    assert output["metadata"]["quality"]["copied_examples"] == 1
    assert "kept: it was the last attempt" in errors_log(output)
