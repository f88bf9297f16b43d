"""The LLM judge against the loopback OpenAI server: batched, cached, priced, steered by the
links' text (the server rates a link that says "irrelevant" 1, others 5), and failing loudly
when its endpoint cannot be used."""

import json
import math
import re
from typing import Any

import pytest

from core.settings import get_settings
from core.state import Node
from evaluation import JudgeUnavailableError, MemoryJudgeCache, evaluate_graph
from evaluation import judge as judge_module
from evaluation.graph_view import view_of
from evaluation.prompts import JUDGE_RUBRIC_VERSION
from evaluation.ratings import rating_key
from tests.evaluation.graphs import IDEAS, good_graph, with_rationale
from tests.support.openai_server import FakeOpenAI, Fault

JUDGE = "fake-model"
PARENT_LINKS = len(IDEAS)  # one parent-to-child link per grown node: 12


def irrelevant(nodes: list[Node], count: int) -> list[Node]:
    """`nodes` whose first `count` parent-to-child rationales say "irrelevant"."""
    for idea in IDEAS[:count]:
        nodes = with_rationale(
            nodes, idea.parent, idea.id, f"{idea.rationale} This link is irrelevant."
        )
    return nodes


async def test_links_are_rated_in_batches(
    fake_llm: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(judge_module, "JUDGE_BATCH", 5)

    evaluation = await evaluate_graph(*good_graph(), judge_model=JUDGE)

    judge = evaluation["details"]["judge"]
    assert judge["calls"] == fake_llm.stats.calls == math.ceil(PARENT_LINKS / 5) == 3
    assert (judge["links"], judge["ratedLinks"], judge["unratedLinks"]) == (12, 12, 0)
    assert fake_llm.stats.kinds["ratings"] == 3
    assert evaluation["evaluatedWith"]["judgeModel"] == JUDGE
    # Each prompt: the worked example's 2 links, then its batch (the batches run concurrently).
    asked = sorted(
        re.findall(r"Give (\d+) ratings", prompt)[-1] for prompt in fake_llm.stats.prompts
    )
    assert asked == ["2", "5", "5"]
    counts = sorted(prompt.count('<link number="') - 2 for prompt in fake_llm.stats.prompts)
    assert counts == [2, 5, 5]
    assert all("on_topic" in p and "connection" in p for p in fake_llm.stats.prompts)


async def test_a_second_evaluation_takes_every_rating_from_the_cache(
    fake_llm: FakeOpenAI,
) -> None:
    cache = MemoryJudgeCache()
    first = await evaluate_graph(*good_graph(), judge_model=JUDGE, judge_cache=cache)
    calls = fake_llm.stats.calls

    second = await evaluate_graph(*good_graph(), judge_model=JUDGE, judge_cache=cache)

    assert calls == 1 and fake_llm.stats.calls == calls  # no new call
    assert second["details"]["judge"]["calls"] == 0
    assert second["details"]["judge"]["cachedLinks"] == PARENT_LINKS
    assert second["scores"] == first["scores"]


async def test_a_changed_link_is_rated_again_and_the_others_come_from_the_cache(
    fake_llm: FakeOpenAI,
) -> None:
    cache = MemoryJudgeCache()
    nodes, metadata = good_graph()
    await evaluate_graph(nodes, metadata, judge_model=JUDGE, judge_cache=cache)

    changed = await evaluate_graph(
        irrelevant(nodes, 1), metadata, judge_model=JUDGE, judge_cache=cache
    )

    assert changed["details"]["judge"]["cachedLinks"] == PARENT_LINKS - 1
    assert changed["details"]["judge"]["calls"] == 1
    assert "Give 1 ratings" in fake_llm.stats.prompts[-1]


async def test_the_judge_cost_is_counted_at_the_configured_price(
    fake_llm: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CODREAMER_PRICES", json.dumps({JUDGE: [1.0, 2.0]}))
    get_settings.cache_clear()

    judge = (await evaluate_graph(*good_graph(), judge_model=JUDGE))["details"]["judge"]

    assert judge["inputTokens"] == fake_llm.stats.input_tokens > 0
    assert judge["outputTokens"] == fake_llm.stats.output_tokens > 0
    expected = (judge["inputTokens"] * 1.0 + judge["outputTokens"] * 2.0) / 1_000_000
    assert judge["costUsd"] == round(expected, 6)


async def test_an_unpriced_judge_has_no_cost(fake_llm: FakeOpenAI) -> None:
    judge = (await evaluate_graph(*good_graph(), judge_model=JUDGE))["details"]["judge"]

    assert judge["costUsd"] is None and judge["inputTokens"] > 0


async def test_low_ratings_lower_quality_and_relationships(fake_llm: FakeOpenAI) -> None:
    nodes, metadata = good_graph()
    plain = await evaluate_graph(nodes, metadata)
    praised = await evaluate_graph(nodes, metadata, judge_model=JUDGE)

    panned = await evaluate_graph(irrelevant(nodes, 6), metadata, judge_model=JUDGE)

    # All 5s lift quality above the embedding measure alone (relationships were at 1 already
    # on every judged link); 1s for half the links pull both well below.
    assert praised["details"]["quality"]["judge"] == 1.0
    assert praised["details"]["relationships"]["judge"] == 1.0
    assert praised["scores"]["quality"] > plain["scores"]["quality"]
    assert praised["scores"]["relationships"] >= plain["scores"]["relationships"]
    assert panned["details"]["quality"]["judge"] == 0.5
    assert panned["scores"]["quality"] < praised["scores"]["quality"] - 0.15
    assert panned["scores"]["relationships"] < praised["scores"]["relationships"] - 0.1
    low = {(link["source"], link["target"]) for link in panned["details"]["judge"]["lowRated"]}
    assert low == {(idea.parent, idea.id) for idea in IDEAS[:6]}
    assert panned["details"]["judge"]["onTopic"] == 0.5
    assert any("The judge rated 6 of 12 links" in w for w in panned["summary"]["weaknesses"])
    # Both parts stay in the details: the embedding one barely moved.
    embedding = panned["details"]["quality"]["embedding"]
    assert embedding == pytest.approx(plain["details"]["quality"]["embedding"], abs=0.05)


async def test_a_batch_the_judge_fails_leaves_its_links_to_the_embeddings(
    fake_llm: FakeOpenAI,
) -> None:
    retries = get_settings().llm_retries
    fake_llm.faults = [Fault(body="not json at all")] * (retries + 1)  # every attempt of it

    evaluation = await evaluate_graph(*good_graph(), judge_model=JUDGE)

    judge = evaluation["details"]["judge"]
    assert (judge["ratedLinks"], judge["unratedLinks"]) == (0, PARENT_LINKS)
    assert judge["failures"] and judge["failures"][0].startswith(JUDGE)
    assert evaluation["details"]["quality"]["judge"] is None
    assert evaluation["scores"]["quality"] == evaluation["details"]["quality"]["embedding"]
    assert any("did not rate 12 of 12 links" in w for w in evaluation["summary"]["weaknesses"])


async def test_an_unreachable_judge_raises_naming_endpoint_and_model(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secret = "sk-test-secret-key-0123456789"
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    get_settings.cache_clear()

    with pytest.raises(JudgeUnavailableError) as raised:
        await evaluate_graph(*good_graph(), judge_model="judge-model")

    message = str(raised.value)
    assert "judge-model" in message and "http://127.0.0.1:9/v1" in message
    assert secret not in message


async def test_a_refused_key_raises_without_the_key(
    fake_llm: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "sk-test-secret-key-9876543210"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    get_settings.cache_clear()
    fake_llm.faults = [Fault(status=401, echo_key=True)]

    with pytest.raises(JudgeUnavailableError, match="HTTP 401") as raised:
        await evaluate_graph(*good_graph(), judge_model=JUDGE)

    assert secret not in str(raised.value) and fake_llm.url in str(raised.value)


def test_the_cache_key_covers_model_rubric_and_every_text_of_the_link() -> None:
    nodes, _ = good_graph()
    view = view_of(nodes)
    link = next(link for link in view.links if link.parent_to_child)
    keys: set[Any] = {rating_key(JUDGE, view, link)}
    keys.add(rating_key("other-model", view, link))
    changed = view_of(with_rationale(nodes, link.source, link.target, "Other."))
    other = next(item for item in changed.links if item.target == link.target)
    keys.add(rating_key(JUDGE, changed, other))

    assert len(keys) == 3
    assert JUDGE_RUBRIC_VERSION >= 1
