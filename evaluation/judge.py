"""The LLM judge: rates each parent-to-child link (is the child on topic? does the rationale
connect?) in batches, concurrently within a bound, each rating cached, its cost counted."""

import asyncio
from dataclasses import dataclass, field
from typing import Any, Protocol

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from core.settings import get_settings, redact
from core.state import Usage, add_usage, empty_usage
from evaluation.graph_view import DETAIL_LIMIT, GraphView, Link, Verdict, rating_share
from evaluation.prompts import (
    JUDGE_EXAMPLE,
    JUDGE_EXAMPLE_ANSWER,
    JUDGE_LINK,
    JUDGE_PROMPT,
    JUDGE_RUBRIC,
    JUDGE_SYSTEM_PROMPT,
)
from evaluation.ratings import (
    cached_verdict,
    one_rating_per_link,
    rating_key,
    ratings_schema,
)
from nodes.llm import LoadedModel, load_chat_model
from nodes.pricing import cost_usd
from nodes.structured_call import LLMUnavailableError, call_structured

JUDGE_BATCH = 12
"""Links rated in one call: few enough for a small model to keep apart, many enough to share
the rubric's tokens."""
JUDGE_CONCURRENCY = 8
"""Judge calls in flight at once."""
TOKENS_PER_RATING = 40
LOW_RATING = 2
"""A link rated this or lower on either scale is listed in `details.judge.lowRated`."""


class JudgeUnavailableError(RuntimeError):
    """The judge's endpoint is unreachable or refuses the judge model: the evaluation stops
    (set another CODREAMER_JUDGE_MODEL, or none, and evaluate again)."""


class JudgeCache(Protocol):
    """Where ratings are kept between evaluations, by link (see `ratings.rating_key`)."""

    def get(self, key: str) -> dict[str, Any] | None: ...

    def put(self, key: str, value: dict[str, Any]) -> None: ...


class MemoryJudgeCache:
    """A `JudgeCache` in a dict: for one process."""

    def __init__(self) -> None:
        self._values: dict[str, dict[str, Any]] = {}

    def get(self, key: str) -> dict[str, Any] | None:
        return self._values.get(key)

    def put(self, key: str, value: dict[str, Any]) -> None:
        self._values[key] = value


@dataclass
class JudgeOutcome:
    """The judge's verdicts by (parent, child), and what rating them took."""

    model: str
    links: int
    verdicts: dict[tuple[str, str], Verdict] = field(default_factory=dict)
    cached: int = 0
    usage: Usage = field(default_factory=empty_usage)
    failures: list[str] = field(default_factory=list)

    def details(self) -> dict[str, Any]:
        """`details.judge` of the evaluation."""
        ratings = list(self.verdicts.items())
        low = [
            {"source": s, "target": t, "onTopic": v.on_topic, "connection": v.connection}
            for (s, t), v in ratings
            if min(v) <= LOW_RATING
        ]
        return {
            "model": self.model,
            "links": self.links,
            "ratedLinks": len(ratings),
            "unratedLinks": self.links - len(ratings),
            "calls": self.usage["llm_calls"],
            "cachedLinks": self.cached,
            "inputTokens": self.usage["input_tokens"],
            "outputTokens": self.usage["output_tokens"],
            "costUsd": cost_usd(self.model, self.usage),
            "onTopic": _mean([rating_share(v.on_topic) for _, v in ratings]),
            "connection": _mean([rating_share(v.connection) for _, v in ratings]),
            "lowRatedCount": len(low),
            "lowRated": low[:DETAIL_LIMIT],
            "failures": self.failures[:5],
        }


async def judge_links(view: GraphView, model_spec: str, store: JudgeCache | None) -> JudgeOutcome:
    """Rate every parent-to-child link of `view` with `model_spec` (ratings in `store` are
    reused, new ones put there). A batch the judge fails to answer is left unrated (see
    `failures`). Raises `JudgeUnavailableError` when the endpoint is unreachable or refuses."""
    settings = get_settings()
    model = _load(model_spec, settings.llm_timeout)
    links = [link for link in view.links if link.parent_to_child]
    outcome = JudgeOutcome(model.name, len(links))
    keys = {link: rating_key(model.name, view, link) for link in links}
    unrated = []
    for link in links:
        verdict = cached_verdict(store.get(keys[link]) if store is not None else None)
        if verdict is None:
            unrated.append(link)
        else:
            outcome.verdicts[(link.source, link.target)] = verdict
            outcome.cached += 1
    batches = [
        unrated[start : start + JUDGE_BATCH] for start in range(0, len(unrated), JUDGE_BATCH)
    ]
    answers = await _rate_all(model, view, batches, settings.llm_retries)
    for batch, (verdicts, usage, failures) in zip(batches, answers, strict=True):
        outcome.usage = add_usage(outcome.usage, usage)
        outcome.failures += failures
        for link, verdict in zip(batch, verdicts, strict=True) if verdicts is not None else ():
            outcome.verdicts[(link.source, link.target)] = verdict
            if store is not None:
                store.put(keys[link], verdict._asdict())
    return outcome


def _load(model_spec: str, timeout: float) -> LoadedModel:
    try:
        return load_chat_model(model_spec, temperature=0, timeout=timeout)
    except (ImportError, ValueError) as error:
        raise JudgeUnavailableError(
            redact(f"the judge model {model_spec!r} cannot be loaded: {error}")
        ) from None


async def _rate_all(
    model: LoadedModel, view: GraphView, batches: list[list[Link]], retries: int
) -> list[tuple[list[Verdict] | None, Usage, list[str]]]:
    """Every batch rated, `JUDGE_CONCURRENCY` calls at a time; if one raises, the others are
    cancelled."""
    limiter = asyncio.Semaphore(JUDGE_CONCURRENCY)
    tasks = [asyncio.create_task(_rate(model, view, batch, limiter, retries)) for batch in batches]
    try:
        return await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


async def _rate(
    model: LoadedModel,
    view: GraphView,
    batch: list[Link],
    limiter: asyncio.Semaphore,
    retries: int,
) -> tuple[list[Verdict] | None, Usage, list[str]]:
    """One call rating `batch`: its verdicts in link order (None if it failed), its usage and
    the failures met on the way."""
    try:
        answer = await call_structured(
            model,
            ratings_schema(len(batch)),
            _messages(view, batch),
            check=one_rating_per_link(len(batch)),
            retries=retries,
            limiter=limiter,
            max_tokens=64 + TOKENS_PER_RATING * len(batch),
        )
    except LLMUnavailableError as error:
        raise JudgeUnavailableError(
            redact(
                f"the judge model {model.name} at {model.endpoint} cannot be used: "
                f"{str(error).rstrip('.')}. Check CODREAMER_JUDGE_MODEL, the endpoint and its "
                "key, or evaluate without the judge."
            )
        ) from None
    if answer.value is None:
        return None, answer.usage, answer.failures[-1:] or ["the judge gave no answer"]
    verdicts = [Verdict(r.on_topic, r.connection) for r in answer.value.ratings]
    return verdicts, answer.usage, []


def _messages(view: GraphView, batch: list[Link]) -> list[BaseMessage]:
    """The rubric, a worked example, and the batch's links numbered from 1."""
    links = "\n".join(
        JUDGE_LINK.format(
            number=number,
            parent=view.text(link.source),
            child=view.text(link.target),
            relationship=link.relationship,
            rationale=link.rationale,
        )
        for number, link in enumerate(batch, 1)
    )
    prompt = JUDGE_PROMPT.format(
        customer=view.customer,
        product=view.product,
        rubric=JUDGE_RUBRIC,
        links=links,
        count=len(batch),
    )
    return [
        SystemMessage(JUDGE_SYSTEM_PROMPT),
        HumanMessage(JUDGE_EXAMPLE),
        AIMessage(JUDGE_EXAMPLE_ANSWER),
        HumanMessage(prompt),
    ]


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None
