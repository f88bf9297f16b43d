"""The Prometheus collectors of this process, and the calls that move them.

They live in their own registry (`REGISTRY`, with the process, platform and GC collectors), so
`/metrics` shows CoDreamer's series and the runtime's, not whatever else registers globally.
Counters only grow for the life of the process: tests compare before and after.
"""

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.exposition import choose_encoder

DreamStatus = Literal["completed", "failed", "cancelled"]
DREAM_STATUSES: tuple[DreamStatus, ...] = ("completed", "failed", "cancelled")

REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)
GCCollector(registry=REGISTRY)

DREAMS = Counter(
    "codreamer_dreams",
    "Dreams this process ran, by how they ended: completed, failed or cancelled "
    "(a resumed dream counts again when it ends).",
    ["status"],
    registry=REGISTRY,
)
DREAM_SECONDS = Histogram(
    "codreamer_dream_duration_seconds",
    "Wall time of each completed dream in this process (from the start, or the resume, to its "
    "last step).",
    buckets=(1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200),
    registry=REGISTRY,
)
NODES = Counter(
    "codreamer_nodes",
    "Nodes of the dreams this process completed (a resumed dream counts all of its nodes).",
    registry=REGISTRY,
)
LLM_CALLS = Counter(
    "codreamer_llm_calls",
    "LLM requests answered (as a dream's usage.llm_calls counts them: not failed requests, "
    "not answers taken from the LLM cache).",
    ["model"],
    registry=REGISTRY,
)
LLM_SECONDS = Histogram(
    "codreamer_llm_call_duration_seconds",
    "Wall time of each HTTP request to an LLM endpoint, answered or failed (the wait for a "
    "concurrency slot not included).",
    ["model"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300),
    registry=REGISTRY,
)
LLM_TOKENS = Counter(
    "codreamer_llm_tokens",
    "Tokens of answered LLM requests, by kind: input (prompt) or output (answer).",
    ["kind", "model"],
    registry=REGISTRY,
)
SANDBOXES_LIVE = Gauge(
    "codreamer_sandboxes_live",
    "Sandboxes this process created and has not deleted yet, by backend.",
    ["backend"],
    registry=REGISTRY,
)

for _status in DREAM_STATUSES:  # every status shows, at 0, before it first happens
    DREAMS.labels(_status)
SANDBOXES_LIVE.labels("daytona")

_live: dict[str, set[str]] = {}
_live_lock = threading.Lock()


def exposition(accept: str | None) -> tuple[bytes, str]:
    """The metrics in the format the `Accept` header asks for (Prometheus text by default,
    OpenMetrics on request), and its content type."""
    encode, content_type = choose_encoder(accept or "")
    return encode(REGISTRY), content_type


def count_dream(status: DreamStatus, seconds: float) -> None:
    """One dream ended; the duration of a completed one goes into the histogram."""
    DREAMS.labels(status).inc()
    if status == "completed":
        DREAM_SECONDS.observe(seconds)


def count_nodes(nodes: int) -> None:
    if nodes > 0:
        NODES.inc(nodes)


@contextmanager
def timed_llm_request(model: str) -> Iterator[None]:
    """Time one HTTP request to the LLM endpoint, whether it is answered or fails."""
    started = time.perf_counter()
    try:
        yield
    finally:
        LLM_SECONDS.labels(model).observe(time.perf_counter() - started)


def count_llm_answer(model: str, input_tokens: int, output_tokens: int) -> None:
    """One LLM request answered, with the tokens it spent."""
    LLM_CALLS.labels(model).inc()
    if input_tokens:
        LLM_TOKENS.labels("input", model).inc(input_tokens)
    if output_tokens:
        LLM_TOKENS.labels("output", model).inc(output_tokens)


def sandbox_created(backend: str, sandbox_id: str) -> None:
    _track(backend, sandbox_id, live=True)


def sandbox_deleted(backend: str, sandbox_id: str) -> None:
    """A sandbox is gone; one this process did not create leaves the gauge as it is."""
    _track(backend, sandbox_id, live=False)


def _track(backend: str, sandbox_id: str, *, live: bool) -> None:
    with _live_lock:
        ids = _live.setdefault(backend, set())
        if live:
            ids.add(sandbox_id)
        else:
            ids.discard(sandbox_id)
        SANDBOXES_LIVE.labels(backend).set(len(ids))
