"""One idea's check: a web search with the customer as context, and the verdict on its results."""

import asyncio
import math
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from core.settings import get_settings
from core.state import Node, Verification
from verification.search import SearchFailedError, search

QUERY_CHARS = 400
"""Tavily's longest query."""
MIN_SOURCE_SCORE = 0.3
"""A result counts as a source from this relevance score (Tavily's, in [0, 1]) up."""
MIN_CONFIDENCE = 0.5
"""An idea is verified when its confidence reaches this and it has a source."""
MAX_SOURCES = 5
SUMMARY_CHARS = 500
CREDITS_PER_SEARCH = 1.0
"""What a basic search costs when the endpoint does not say."""


@dataclass
class IdeaCheck:
    """What checking one idea gave: its verification, what it cost, the log line."""

    verification: Verification
    credits: float
    searched: bool
    """The search API answered (a failed or skipped search costs nothing)."""
    log_line: str


_limiters: weakref.WeakValueDictionary[str, asyncio.Semaphore] = weakref.WeakValueDictionary()


def search_limiter(dream_id: str) -> asyncio.Semaphore:
    """The bound on dream `dream_id`'s searches in flight (shared by all its tasks)."""
    limiter = _limiters.get(dream_id)
    if limiter is None:
        limiter = asyncio.Semaphore(get_settings().verify_concurrency)
        _limiters[dream_id] = limiter
    return limiter


def search_query(node: Node, customer: str) -> str:
    """The idea, then the customer it is for, within Tavily's query length."""
    context = f" (for: {' '.join(customer.split())[:120]})"
    idea = " ".join(f"{node['name']}: {node['content']}".split())
    return idea[: QUERY_CHARS - len(context)] + context


async def verify_idea(node: Node, customer: str, limiter: asyncio.Semaphore) -> IdeaCheck:
    """Search the web for `node` and judge the results; a failed search leaves it unverified
    with the reason in its summary, and never raises."""
    async with limiter:
        try:
            answer = await search(search_query(node, customer))
        except SearchFailedError as error:
            return _unverified(node, f"not verified: {error}", searched=False)
    verification = verdict(answer)
    credits = _credits(answer)
    word = "VERIFIED" if verification["verified"] else "UNVERIFIED"
    first = verification["sources"][0] if verification["sources"] else "no source"
    line = (
        f"{word} {node['id']} confidence={verification['confidence']:.2f} "
        f"sources={len(verification['sources'])} {first}"
    )
    return IdeaCheck(verification, credits, searched=True, log_line=line)


def verdict(answer: dict[str, Any]) -> Verification:
    """Sources are the results scoring at least MIN_SOURCE_SCORE; confidence is the mean score
    of the best three results (0 with none); verified needs a source and MIN_CONFIDENCE."""
    scored = sorted(
        ((_score(result), result["url"]) for result in answer["results"] if _has_url(result)),
        reverse=True,
    )
    sources = [url for score, url in scored if score >= MIN_SOURCE_SCORE][:MAX_SOURCES]
    best = [score for score, _ in scored[:3]]
    confidence = round(sum(best) / len(best), 3) if best else 0.0
    return {
        "verified": bool(sources) and confidence >= MIN_CONFIDENCE,
        "confidence": confidence,
        "summary": _summary(answer, sources),
        "sources": sources,
        "timestamp": _now(),
    }


def _summary(answer: dict[str, Any], sources: list[str]) -> str:
    text = answer.get("answer")
    if isinstance(text, str) and text.strip():
        return " ".join(text.split())[:SUMMARY_CHARS]
    if not sources:
        return "No web page the search found supports this idea."
    best = next(result for result in answer["results"] if result.get("url") == sources[0])
    title, content = str(best.get("title") or ""), str(best.get("content") or "")
    return " ".join(f"{title}: {content}".split())[:SUMMARY_CHARS]


def _unverified(node: Node, reason: str, *, searched: bool) -> IdeaCheck:
    verification: Verification = {
        "verified": False,
        "confidence": 0.0,
        "summary": reason,
        "sources": [],
        "timestamp": _now(),
    }
    return IdeaCheck(verification, 0.0, searched, f"UNVERIFIED {node['id']} {reason}")


def _score(result: dict[str, Any]) -> float:
    try:
        score = float(result.get("score") or 0.0)
    except (TypeError, ValueError):
        return 0.0
    return min(max(score, 0.0), 1.0) if math.isfinite(score) else 0.0


def _has_url(result: Any) -> bool:
    if not isinstance(result, dict) or not isinstance(result.get("url"), str):
        return False
    parts = urlsplit(result["url"])
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _credits(answer: dict[str, Any]) -> float:
    usage = answer.get("usage")
    credits = usage.get("credits") if isinstance(usage, dict) else None
    return float(credits) if isinstance(credits, int | float) else CREDITS_PER_SEARCH


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
