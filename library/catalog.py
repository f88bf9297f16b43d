"""The dream library: every finished dream recorded, filtered, counted, and searched by meaning."""

import threading
import time
from typing import Any, cast

import numpy as np
from langgraph.store.base import BaseStore, GetOp, Item, PutOp
from typing_extensions import TypedDict

from core.state import Node
from embeddings import get_embeddings
from library.records import GraphRecord, GraphSummary, graph_record, node_text, summary_of
from library.store import STORE_ERRORS, TEXT_FIELD, LibraryUnavailableError, has_vector_index
from library.view import (
    GRAPHS,
    NAMESPACE,
    SUMMARIES,
    VECTORS,
    LibraryView,
    ViewCache,
    encode_vectors,
)

NODES = "nodes"
"""Each dream's nodes are items of the namespace ("codreamer", "nodes", <dream id>)."""
MAX_STORE_RESULTS = 10_000
"""The most nodes one search asks a vector-indexed store for, to find enough that match."""


class Page(TypedDict):
    graphs: list[GraphSummary]
    total: int


class NodeHit(TypedDict):
    node: Node
    score: float
    graphId: str
    customer: str
    product: str


class LibraryStats(TypedDict):
    totalGraphs: int
    totalNodes: int
    avgNodesPerGraph: float
    avgGenerationTime: float


class GraphNodeCount(TypedDict):
    graphId: str
    nodeCount: int


class SearchStats(TypedDict):
    totalNodes: int
    totalGraphs: int
    graphBreakdown: list[GraphNodeCount]


class DreamLibrary:
    """Dreams in a LangGraph store, their nodes searched by the store (pgvector) or in this
    process (see `library.view`)."""

    def __init__(self, store: BaseStore, embeddings_spec: str, embeddings_model: str) -> None:
        self.store = store
        self.embeddings_spec = embeddings_spec
        self.embeddings_model = embeddings_model
        self._views = ViewCache(store, embeddings_model)
        self.searches_in_store = has_vector_index(store)
        """pgvector: the store embeds and searches node texts; else this process does."""
        self._writing = threading.Lock()
        """Held by `delete` and by `index` around its writes: no index brings a deletion back."""

    def record(self, output: dict[str, Any]) -> GraphRecord:
        """Store a finished dream (not yet searchable: `index` it next)."""
        record = graph_record(output)
        summary = summary_of(record, None, time.time())
        try:
            self.store.batch(
                [
                    PutOp(GRAPHS, record["id"], dict(record), index=False),
                    PutOp(SUMMARIES, record["id"], dict(summary), index=False),
                ]
            )
            self._views.bump_version()
        except STORE_ERRORS as error:
            raise LibraryUnavailableError(f"the dream could not be stored: {error}") from None
        return record

    def index(self, graph_id: str) -> int:
        """Embed a recorded dream's nodes and make them searchable; how many (0: not recorded).

        With pgvector the store embeds the nodes' texts itself; otherwise their vectors are
        stored as one block that every process searches in memory. A dream deleted while its
        nodes were embedded stays deleted.
        """
        record = self.get(graph_id)
        if record is None:
            return 0
        nodes = record["nodes"]
        node_space = (NAMESPACE, NODES, graph_id)
        if self.searches_in_store:
            writes = [
                PutOp(node_space, node["id"], {**node, TEXT_FIELD: node_text(node)}, [TEXT_FIELD])
                for node in nodes
            ]
        else:
            writes = [PutOp(node_space, node["id"], dict(node), index=False) for node in nodes]
            writes.append(PutOp(VECTORS, graph_id, self._vector_block(nodes), index=False))
        with self._writing:
            summary = self.store.get(SUMMARIES, graph_id)
            if summary is None:  # deleted meanwhile
                return 0
            indexed = {**summary.value, "indexedWith": self.embeddings_model}
            self.store.batch([*writes, PutOp(SUMMARIES, graph_id, indexed, index=False)])
        if not self.has(graph_id):  # deleted meanwhile by another process
            self._remove(graph_id, [node["id"] for node in nodes])
            return 0
        self._views.bump_version()
        return len(nodes)

    def _vector_block(self, nodes: list[Node]) -> dict[str, Any]:
        texts = [node_text(node) for node in nodes]
        vectors = np.asarray(
            get_embeddings(self.embeddings_spec).embed_documents(texts), dtype=np.float32
        )
        return encode_vectors([node["id"] for node in nodes], vectors, self.embeddings_model)

    def delete(self, graph_id: str) -> bool:
        """Remove a dream and its nodes from the library; False if it was not there."""
        with self._writing:
            record = self.get(graph_id)
            summary = self.store.get(SUMMARIES, graph_id)
            if record is None and summary is None:
                return False
            vectors = self.store.get(VECTORS, graph_id)
            node_ids = {node["id"] for node in record["nodes"]} if record else set()
            node_ids |= set(vectors.value["ids"]) if vectors else set()
            self._remove(graph_id, sorted(node_ids))
        return True

    def _remove(self, graph_id: str, node_ids: list[str]) -> None:
        node_space = (NAMESPACE, NODES, graph_id)
        self.store.batch(
            [
                PutOp(GRAPHS, graph_id, None),
                PutOp(SUMMARIES, graph_id, None),
                PutOp(VECTORS, graph_id, None),
                *(PutOp(node_space, node_id, None) for node_id in node_ids),
            ]
        )
        self._views.bump_version()

    def save_evaluation(self, graph_id: str, evaluation: dict[str, Any]) -> bool:
        """Keep `evaluation` with the stored dream (its grade in the lists); False if the
        dream is not stored."""
        with self._writing:
            record = self.get(graph_id)
            summary = self.store.get(SUMMARIES, graph_id)
            if record is None or summary is None:
                return False
            grade = evaluation["summary"]["grade"]
            try:
                self.store.batch(
                    [
                        PutOp(GRAPHS, graph_id, {**record, "evaluation": evaluation}, index=False),
                        PutOp(SUMMARIES, graph_id, {**summary.value, "grade": grade}, index=False),
                    ]
                )
            except STORE_ERRORS as error:
                raise LibraryUnavailableError(f"the evaluation was not stored: {error}") from None
        self._views.bump_version()
        return True

    def get(self, graph_id: str) -> GraphRecord | None:
        item = self.store.get(GRAPHS, graph_id)
        return None if item is None else cast(GraphRecord, item.value)  # written by `record`

    def has(self, graph_id: str) -> bool:
        """Whether the dream is recorded (one small read)."""
        return self.store.get(SUMMARIES, graph_id) is not None

    def unindexed(self) -> list[str]:
        """Dreams recorded but not (or not with the current embeddings) searchable yet."""
        return [
            summary["id"]
            for summary in self._views.current().summaries
            if summary["indexedWith"] != self.embeddings_model
        ]

    def graphs(
        self, *, customer: str = "", product: str = "", limit: int = 10, offset: int = 0
    ) -> Page:
        """Newest first; customer and product match as case-insensitive substrings."""
        matching = _matching(self._views.current().summaries, customer, product)
        return {"graphs": matching[offset : offset + limit], "total": len(matching)}

    def stats(self) -> LibraryStats:
        summaries = self._views.current().summaries
        count = len(summaries)
        nodes = sum(summary["nodeCount"] for summary in summaries)
        time_ms = sum(summary["generationTimeMs"] for summary in summaries)
        return {
            "totalGraphs": count,
            "totalNodes": nodes,
            "avgNodesPerGraph": round(nodes / count, 2) if count else 0,
            "avgGenerationTime": round(time_ms / count, 2) if count else 0,
        }

    def search_nodes(
        self,
        query: str,
        *,
        limit: int = 10,
        customer: str = "",
        product: str = "",
        min_score: float = 0.5,
    ) -> list[NodeHit]:
        """The nodes closest in meaning to `query` (cosine similarity, clipped to [0, 1])."""
        view = self._views.current(with_vectors=not self.searches_in_store)
        graphs = {
            summary["id"]: summary for summary in _matching(view.summaries, customer, product)
        }
        if not graphs:
            return []
        if self.searches_in_store:
            scored = self._scored_by_store(query, graphs, limit, min_score)
        else:
            scored = self._scored_in_memory(view, query, graphs, limit, min_score)
        return [
            {
                "node": node,
                "score": round(score, 4),
                "graphId": graph_id,
                "customer": graphs[graph_id]["customer"],
                "product": graphs[graph_id]["product"],
            }
            for graph_id, node, score in scored
        ]

    def _scored_in_memory(
        self,
        view: LibraryView,
        query: str,
        graphs: dict[str, GraphSummary],
        limit: int,
        min_score: float,
    ) -> list[tuple[str, Node, float]]:
        """The best nodes of `graphs` by one matrix product over every cached vector."""
        index = view.index
        assert index is not None  # built by current(with_vectors=True)
        slices = [index.rows_of[graph_id] for graph_id in graphs if graph_id in index.rows_of]
        if not slices:
            return []
        query_vector = np.asarray(
            get_embeddings(self.embeddings_spec).embed_query(query), dtype=np.float32
        )
        query_vector /= max(float(np.linalg.norm(query_vector)), 1e-12)
        scores = np.clip(index.matrix @ query_vector, 0.0, 1.0)
        if len(slices) < len(index.rows_of):  # a filter: only the matching dreams' rows count
            rows = np.concatenate([np.arange(s.start, s.stop) for s in slices])
            best = rows[_top(scores[rows], limit)]
        else:
            best = _top(scores, limit)
        chosen = [(int(row), float(scores[row])) for row in best if scores[row] >= min_score]
        owners = [index.owners[row] for row, _ in chosen]
        items = self.store.batch([GetOp((NAMESPACE, NODES, g), node) for g, node in owners])
        return [
            (graph_id, cast(Node, item.value), score)  # written by `index`
            for (graph_id, _), (_, score), item in zip(owners, chosen, items, strict=True)
            if isinstance(item, Item)
        ]

    def _scored_by_store(
        self, query: str, graphs: dict[str, GraphSummary], limit: int, min_score: float
    ) -> list[tuple[str, Node, float]]:
        """The best nodes of `graphs` by the store's own vector search (pgvector's HNSW index).

        The store cannot filter by a customer substring, so it is asked for more nodes until
        enough of them belong to `graphs` (or no more pass `min_score`).
        """
        wanted = max(limit * 4, 40)
        while True:
            items = self.store.search((NAMESPACE, NODES), query=query, limit=wanted)
            scored = [
                (item.namespace[2], _without_text(item.value), _unit(item.score))
                for item in items
                if item.namespace[2] in graphs and _unit(item.score) >= min_score
            ]
            exhausted = len(items) < wanted or _unit(items[-1].score) < min_score
            if len(scored) >= limit or exhausted or wanted >= MAX_STORE_RESULTS:
                return scored[:limit]
            wanted *= 4

    def search_stats(self) -> SearchStats:
        view = self._views.current()
        searchable = [s for s in view.summaries if s["indexedWith"] == self.embeddings_model]
        return {
            "totalNodes": sum(summary["nodeCount"] for summary in searchable),
            "totalGraphs": len(searchable),
            "graphBreakdown": [
                {"graphId": summary["id"], "nodeCount": summary["nodeCount"]}
                for summary in searchable
            ],
        }


def _matching(summaries: list[GraphSummary], customer: str, product: str) -> list[GraphSummary]:
    """The summaries whose customer and product contain these texts, ignoring case."""
    customer, product = customer.casefold(), product.casefold()
    if not customer and not product:
        return summaries
    return [
        summary
        for summary in summaries
        if customer in summary["customer"].casefold() and product in summary["product"].casefold()
    ]


def _top(scores: np.ndarray, limit: int) -> np.ndarray:
    """The positions of the `limit` highest scores, highest first (no full sort)."""
    if scores.size > limit:
        candidates = np.argpartition(-scores, limit)[:limit]
    else:
        candidates = np.arange(scores.size)
    return candidates[np.argsort(-scores[candidates], kind="stable")]


def _without_text(value: dict[str, Any]) -> Node:
    """A node item's value as the node (the store's copy also holds the text it embedded)."""
    return cast(Node, {key: item for key, item in value.items() if key != TEXT_FIELD})


def _unit(cosine: float | None) -> float:
    """A cosine similarity as the library's score: clipped to [0, 1]."""
    return min(max(cosine or 0.0, 0.0), 1.0)
