"""Loopback web-search fakes: a Tavily-compatible `/search` API, and a SearXNG-style JSON index
that a third-party Tavily-compatible server (trawl) can search instead of the web.

FakeTavily answers every query with three results whose URLs and titles come from the query,
scores 0.92, 0.81 and 0.55, a short answer and `usage.credits` = 1. A query holding a word
of `no_results_for` gets no results; one holding a word of `failing_for` gets HTTP 500. It
checks the bearer key as Tavily does (401) and counts what it saw.
"""

import asyncio
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from slugify import slugify
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support.loopback import LoopbackServer

RESULT_SCORES = (0.92, 0.81, 0.55)


@dataclass
class SearchStats:
    queries: list[str] = field(default_factory=list)
    """Queries answered 200, in arrival order."""
    statuses: Counter = field(default_factory=Counter)
    requests: list[dict[str, Any]] = field(default_factory=list)
    authorizations: list[str] = field(default_factory=list)
    in_flight: int = 0
    peak_in_flight: int = 0


class FakeTavily:
    """A Tavily-compatible search API on 127.0.0.1 (`url` is the API's base URL)."""

    def __init__(self, api_key: str = "tvly-loopback-key-0123456789") -> None:
        self.api_key = api_key
        self.latency = 0.0
        self.no_results_for: set[str] = set()
        self.failing_for: set[str] = set()
        self.status_override: int | None = None
        """Answer every request with this HTTP status (e.g. 432: plan spent)."""
        self.stats = SearchStats()
        self._lock = threading.Lock()
        self._server: LoopbackServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return self._server.url

    def reset(self) -> None:
        with self._lock:
            self.stats = SearchStats()
            self.latency = 0.0
            self.no_results_for, self.failing_for = set(), set()
            self.status_override = None

    def __enter__(self) -> "FakeTavily":
        self._server = LoopbackServer(
            Starlette(routes=[Route("/search", self._search, methods=["POST"])])
        )
        return self

    def __exit__(self, *_: object) -> None:
        assert self._server is not None
        self._server.stop()

    async def _search(self, request: Request) -> Response:
        body = await request.json()
        authorization = request.headers.get("authorization", "")
        with self._lock:
            self.stats.authorizations.append(authorization)
            self.stats.in_flight += 1
            self.stats.peak_in_flight = max(self.stats.peak_in_flight, self.stats.in_flight)
        try:
            if self.latency:
                await asyncio.sleep(self.latency)
            response = self._answer(body, authorization)
        finally:
            with self._lock:
                self.stats.in_flight -= 1
                self.stats.statuses[response.status_code] += 1
        return response

    def _answer(self, body: dict[str, Any], authorization: str) -> Response:
        if authorization != f"Bearer {self.api_key}":
            return _error(401, "Unauthorized: missing or invalid API key.")
        if self.status_override is not None:
            return _error(self.status_override, f"injected {self.status_override}")
        query = str(body.get("query", ""))
        words = set(query.lower().replace(":", " ").split())
        if words & self.failing_for:
            return _error(500, "injected failure")
        with self._lock:
            self.stats.queries.append(query)
            self.stats.requests.append(body)
        results = [] if words & self.no_results_for else _results(query)
        answer: dict[str, Any] = {
            "query": query,
            "answer": f"The web agrees: {' '.join(query.split()[:8])}" if results else None,
            "images": [],
            "results": results,
            "response_time": 0.01,
        }
        if body.get("include_usage"):
            answer["usage"] = {"credits": 1}
        return JSONResponse(answer)


def _results(query: str) -> list[dict[str, Any]]:
    slug = slugify(query, max_length=40, word_boundary=True) or "page"
    return [
        {
            "title": f"About {query[:60]} ({index + 1})",
            "url": f"https://source{index + 1}.example.org/{slug}",
            "content": f"A page that discusses {query[:120]}.",
            "score": score,
            "raw_content": None,
        }
        for index, score in enumerate(RESULT_SCORES)
    ]


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"detail": {"error": message}}, status_code=status)


class FakeSearxng:
    """A SearXNG-style JSON index (`GET /search?q=..&format=json`): two pages per query."""

    def __init__(self) -> None:
        self.queries: list[str] = []
        self._server: LoopbackServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return self._server.url

    def __enter__(self) -> "FakeSearxng":
        self._server = LoopbackServer(Starlette(routes=[Route("/search", self._search)]))
        return self

    def __exit__(self, *_: object) -> None:
        assert self._server is not None
        self._server.stop()

    async def _search(self, request: Request) -> Response:
        query = request.query_params.get("q", "")
        if request.query_params.get("pageno", "1") != "1":
            return JSONResponse({"query": query, "results": []})
        self.queries.append(query)
        slug = slugify(query, max_length=40, word_boundary=True) or "page"
        results = [
            {
                "url": f"https://index{index}.example.org/{slug}",
                "title": f"{query[:80]} — page {index}",
                "content": f"{query} explained, page {index}.",
            }
            for index in (1, 2)
        ]
        return JSONResponse({"query": query, "results": results})
