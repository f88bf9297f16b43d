"""The dream library: every finished dream stored in a LangGraph store and searchable by meaning."""

import threading

from langgraph.store.base import BaseStore

from core.settings import get_settings
from embeddings import LazyEmbeddings, embedding_dimensions, embeddings_name
from library.catalog import DreamLibrary, LibraryStats, NodeHit, Page, SearchStats
from library.indexing import index_later, wait_for_indexing
from library.records import GraphRecord, GraphSummary
from library.store import (
    SQLITE_PREFIX,
    LibraryUnavailableError,
    VectorIndex,
    close_store,
    database_key,
    open_store,
)

__all__ = [
    "DreamLibrary",
    "GraphRecord",
    "GraphSummary",
    "LibraryStats",
    "LibraryUnavailableError",
    "NodeHit",
    "Page",
    "SearchStats",
    "close_libraries",
    "get_library",
    "index_later",
    "library_over",
    "wait_for_indexing",
]
_libraries: dict[tuple[str, str], DreamLibrary] = {}
_lock = threading.Lock()


def get_library() -> DreamLibrary:
    """The library CODREAMER_DATABASE_URL names, opened once per process."""
    settings = get_settings()
    url, spec = database_key(settings.database_url), settings.embeddings
    with _lock:
        if (url, spec) not in _libraries:
            vectors = None
            if not url.startswith(SQLITE_PREFIX):  # pgvector, if the server has it
                vectors = VectorIndex(LazyEmbeddings(spec), embedding_dimensions(spec))
            store = open_store(url, vectors)
            _libraries[url, spec] = DreamLibrary(store, spec, embeddings_name())
        return _libraries[url, spec]


def library_over(store: BaseStore) -> DreamLibrary:
    """A library over a store someone else gives (the LangGraph platform's, in Studio)."""
    settings = get_settings()
    return DreamLibrary(store, settings.embeddings, embeddings_name())


def close_libraries() -> None:
    """Wait for queued indexing, then close every library's database connection."""
    wait_for_indexing()
    with _lock:
        for library in _libraries.values():
            close_store(library.store)
        _libraries.clear()
