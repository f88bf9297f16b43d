"""A process's cached view of the library: every summary, and the node vectors to search.

The store holds the truth; this view is rebuilt only when the library's version token changes
(every write bumps it), so a page or a search costs one small read of the store, and several
processes sharing one database see each other's writes on their next request.
"""

import base64
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
from langgraph.store.base import BaseStore, GetOp, Item

from library.records import GraphSummary

NAMESPACE = "codreamer"
GRAPHS = (NAMESPACE, "graphs")
SUMMARIES = (NAMESPACE, "summaries")
VECTORS = (NAMESPACE, "vectors")
META = (NAMESPACE, "meta")
VERSION_KEY = "version"
ALL = 1_000_000_000
"""A search limit above any library's size: every summary in one query."""
FETCH_CHUNK = 500


def encode_vectors(node_ids: list[str], vectors: np.ndarray, model: str) -> dict[str, Any]:
    """A dream's node vectors as one store value (float16, base64): compact and JSON-safe."""
    return {
        "model": model,
        "ids": node_ids,
        "dims": int(vectors.shape[1]),
        "vectors": base64.b64encode(vectors.astype(np.float16).tobytes()).decode("ascii"),
    }


def decode_vectors(value: dict[str, Any]) -> np.ndarray:
    """Unit-length float32 rows, one per node id."""
    flat = np.frombuffer(base64.b64decode(value["vectors"]), dtype=np.float16)
    matrix = flat.reshape(len(value["ids"]), value["dims"]).astype(np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    unit: np.ndarray = matrix / np.maximum(norms, 1e-12)
    return unit


@dataclass
class SearchIndex:
    """Every searchable node's vector in one matrix, with the (dream, node) of each row."""

    matrix: np.ndarray
    owners: list[tuple[str, str]]
    rows_of: dict[str, slice]
    """Each dream's rows in `matrix`."""


@dataclass
class LibraryView:
    """The summaries (newest first) and, once searched, the vectors of one library version."""

    version: str | None = None
    summaries: list[GraphSummary] = field(default_factory=list)
    index: SearchIndex | None = None


class ViewCache:
    """Keeps a `LibraryView` in step with the store, for one embeddings model."""

    def __init__(self, store: BaseStore, model: str) -> None:
        self.store = store
        self.model = model
        self._view = LibraryView()
        self._lock = threading.Lock()

    def current(self, *, with_vectors: bool = False) -> LibraryView:
        """The view of the store's current version (with its search index when asked)."""
        version = self._version()
        with self._lock:
            previous = self._view
            if previous.version != version or version is None:
                self._view = LibraryView(version, self._summaries())
            view = self._view
            if with_vectors and view.index is None:
                view.index = self._search_index(view.summaries, previous.index)
            return view

    def bump_version(self) -> None:
        """Tell every process's cache that the library changed (call after the write)."""
        self.store.put(META, VERSION_KEY, {"token": uuid.uuid4().hex})

    def _version(self) -> str | None:
        item = self.store.get(META, VERSION_KEY)
        return None if item is None else str(item.value["token"])

    def _summaries(self) -> list[GraphSummary]:
        items = self.store.search(SUMMARIES, limit=ALL)
        summaries = [cast(GraphSummary, item.value) for item in items]  # written by `record`
        return sorted(
            summaries,
            key=lambda s: (s["createdAt"], s.get("recordedAt", 0.0), s["id"]),
            reverse=True,
        )

    def _search_index(
        self, summaries: list[GraphSummary], previous: SearchIndex | None
    ) -> SearchIndex:
        """The vectors of every dream indexed with this model; unchanged dreams' rows reused."""
        wanted = [summary["id"] for summary in summaries if summary["indexedWith"] == self.model]
        blocks: dict[str, tuple[list[str], np.ndarray]] = {}
        if previous is not None:
            for graph_id in wanted:
                if graph_id in previous.rows_of:
                    rows = previous.rows_of[graph_id]
                    ids = [node for _, node in previous.owners[rows]]
                    blocks[graph_id] = (ids, previous.matrix[rows])
        missing = [graph_id for graph_id in wanted if graph_id not in blocks]
        for start in range(0, len(missing), FETCH_CHUNK):
            chunk = missing[start : start + FETCH_CHUNK]
            items = self.store.batch([GetOp(VECTORS, graph_id) for graph_id in chunk])
            for item in items:
                if isinstance(item, Item) and item.value["model"] == self.model:
                    blocks[item.key] = (item.value["ids"], decode_vectors(item.value))
        return _stacked(blocks)


def _stacked(blocks: dict[str, tuple[list[str], np.ndarray]]) -> SearchIndex:
    owners: list[tuple[str, str]] = []
    rows_of: dict[str, slice] = {}
    for graph_id, (ids, _) in blocks.items():
        rows_of[graph_id] = slice(len(owners), len(owners) + len(ids))
        owners.extend((graph_id, node_id) for node_id in ids)
    matrices = [matrix for _, matrix in blocks.values()]
    matrix = np.concatenate(matrices) if matrices else np.zeros((0, 1), dtype=np.float32)
    return SearchIndex(matrix, owners, rows_of)
