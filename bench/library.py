"""The library's speed: a page of 10 from 10,000 stored dreams, node search over 100,000
indexed nodes (both through the real HTTP routes, warm, on SQLite and PostgreSQL), what
indexing costs per node, and the embedder's load time and memory. Prints a JSON line.

Stored vectors are random unit vectors written in the library's own format (embedding
100,000 texts would take minutes and would not change what a search costs); every query is
embedded for real. The PostgreSQL server is the tests' private one (no pgvector here).
"""

import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from langgraph.store.base import BaseStore, PutOp

from embeddings import embeddings_name
from library.records import graph_record, summary_of
from library.store import close_store, database_key, open_store
from library.view import GRAPHS, NAMESPACE, SUMMARIES, VECTORS, encode_vectors
from tests.support.dreams import dream_output
from tests.support.ports import free_port
from tests.support.postgres import PostgresServer

DREAMS = 10_000
SEARCH_DREAMS, NODES_PER_DREAM = 1_000, 100
REQUESTS = 200
CHUNK = 500
CODREAMER = Path(sys.executable).with_name("codreamer")
WORDS = "oven bread latency trace nurse shift dog walk cloud bill".split()


def main() -> None:
    with ExitStack() as stack:
        postgres = stack.enter_context(PostgresServer())
        folder = stack.enter_context(tempfile.TemporaryDirectory())
        results: dict[str, Any] = {"embedder": embedder_load(), "indexing": indexing_cost(folder)}
        for measure in (pages, searches):
            sqlite = f"sqlite:///{folder}/{measure.__name__}.sqlite"
            results[f"{measure.__name__}_sqlite"] = measure(sqlite, folder)
            postgres.reset()
            results[f"{measure.__name__}_postgresql"] = measure(postgres.url, folder)
    print(json.dumps(results))


def embedder_load() -> dict[str, float]:
    """Load time and RSS of the local embedder, in a fresh process (as the CLI pays them)."""
    code = (
        "import time, resource; t = time.perf_counter();"
        "from embeddings import get_embeddings; get_embeddings('local').embed_query('warm up');"
        "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    base = "import resource; print(0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    seconds, rss_kb = map(float, _python(code).split())
    _, bare_kb = map(float, _python(base).split())
    return {"load_s": seconds, "rss_mb": rss_kb / 1024, "rss_added_mb": (rss_kb - bare_kb) / 1024}


def indexing_cost(folder: str) -> dict[str, float]:
    """Embedding and storing the nodes of one 1,000-node dream, per node (SQLite)."""
    os.environ["CODREAMER_DATABASE_URL"] = f"sqlite:///{folder}/indexing.sqlite"
    from core.settings import get_settings
    from library import get_library

    get_settings.cache_clear()
    library = get_library()
    ideas = [(f"idea {i}", f"{random.choice(WORDS)} problem number {i}") for i in range(998)]
    library.record(dream_output("dream-20261101-000000-00000000", "c", "p", ideas))
    library.index("dream-20261101-000000-00000000")  # warm: the model loads once per process
    library.record(dream_output("dream-20261101-000001-00000000", "c", "p", ideas))
    started = time.perf_counter()
    nodes = library.index("dream-20261101-000001-00000000")
    return {"nodes": nodes, "ms_per_node": (time.perf_counter() - started) * 1000 / nodes}


def pages(url: str, folder: str) -> dict[str, float]:
    """p50/p95 of `GET /api/v1/graphs` pages of 10 (with and without a filter), 10,000 dreams."""
    with _served(url, folder) as (client, store, _):
        _fill(store, DREAMS, nodes_per_dream=0)
        cold = _timed(lambda: client.get("/api/v1/graphs", params={"limit": 10}))
        plain = _latencies(
            lambda: client.get(
                "/api/v1/graphs", params={"limit": 10, "offset": random.randrange(DREAMS - 10)}
            )
        )
        filtered = _latencies(
            lambda: client.get("/api/v1/graphs", params={"customer": random.choice(WORDS)})
        )
    return {
        "first_page_s": cold,
        **_percentiles("page", plain),
        **_percentiles("filtered", filtered),
    }


def searches(url: str, folder: str) -> dict[str, float]:
    """p50/p95 of `GET /api/v1/search/nodes` over 100,000 indexed nodes, and the first search."""
    with _served(url, folder) as (client, store, server_pid):
        _fill(store, SEARCH_DREAMS, nodes_per_dream=NODES_PER_DREAM)
        query = {"q": "bread that rises slowly", "minScore": 0}
        cold = _timed(lambda: client.get("/api/v1/search/nodes", params=query))
        warm = _latencies(
            lambda: client.get(
                "/api/v1/search/nodes",
                params={"q": f"{random.choice(WORDS)} trouble", "minScore": 0},
            )
        )
        count = client.get("/api/v1/search/stats").json()["totalNodes"]
        rss = _peak_rss_mb(server_pid)
    return {
        "nodes": count,
        "first_search_s": cold,
        **_percentiles("search", warm),
        "server_rss_mb": rss,
    }


class _served:
    """`codreamer serve` in its own process on CODREAMER_DATABASE_URL = url, as users run it;
    (an HTTP client, the same library's store opened here to fill it)."""

    def __init__(self, url: str, folder: str) -> None:
        self.url, self.folder = url, folder

    def __enter__(self) -> tuple[httpx.Client, BaseStore, int]:
        port = free_port()
        env = {
            **os.environ,
            "CODREAMER_DATABASE_URL": self.url,
            "CODREAMER_WORKSPACES": self.folder,
        }
        self.server = subprocess.Popen(
            [str(CODREAMER), "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120)
        deadline = time.monotonic() + 60
        while True:
            try:
                self.client.get("/").raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or self.server.poll() is not None:
                    raise RuntimeError("codreamer serve did not start") from None
                time.sleep(0.1)
        self.store = open_store(database_key(self.url))
        return self.client, self.store, self.server.pid

    def __exit__(self, *_: object) -> None:
        self.client.close()
        close_store(self.store)
        self.server.terminate()
        self.server.wait(timeout=60)


def _fill(store: BaseStore, dreams: int, nodes_per_dream: int) -> None:
    """`dreams` stored dreams, as `DreamLibrary.record` and `.index` write them."""
    rng = np.random.default_rng(7)
    ops: list[PutOp] = []
    for number in range(dreams):
        graph_id = f"dream-2026{number // 1000 + 1:02d}{number % 28 + 1:02d}-000000-{number:08x}"
        ideas = [(f"idea {i}", f"{WORDS[i % len(WORDS)]} {i}") for i in range(nodes_per_dream)]
        record = graph_record(
            dream_output(graph_id, f"{random.choice(WORDS)} customer {number}", "oven", ideas)
        )
        indexed = embeddings_name()
        ops += [
            PutOp(GRAPHS, graph_id, dict(record)),
            PutOp(SUMMARIES, graph_id, dict(summary_of(record, indexed, time.time()))),
        ]
        vectors = rng.standard_normal((len(record["nodes"]), 384)).astype(np.float32)
        ids = [node["id"] for node in record["nodes"]]
        ops.append(PutOp(VECTORS, graph_id, encode_vectors(ids, vectors, indexed)))
        space = (NAMESPACE, "nodes", graph_id)
        ops += [PutOp(space, node["id"], dict(node)) for node in record["nodes"]]
        if len(ops) >= CHUNK:
            store.batch(ops)
            ops = []
    store.batch([*ops, PutOp((NAMESPACE, "meta"), "version", {"token": "bench"})])


def _latencies(request: Callable[[], httpx.Response]) -> list[float]:
    return [_timed(request) for _ in range(REQUESTS)]


def _timed(request: Callable[[], httpx.Response]) -> float:
    started = time.perf_counter()
    response = request()
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    return elapsed


def _percentiles(name: str, seconds: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(seconds, n=20)
    return {f"{name}_p50_ms": statistics.median(seconds) * 1000, f"{name}_p95_ms": cuts[18] * 1000}


def _peak_rss_mb(pid: int) -> float:
    """A process's peak resident memory (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _python(code: str) -> str:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()


if __name__ == "__main__":
    main()
