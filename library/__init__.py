"""The dream library: every finished dream stored in a LangGraph store and searchable by meaning."""

import threading

from langgraph.store.base import BaseStore

from core.settings import get_settings
from embeddings import embeddings_name
from library.catalog import DreamLibrary, LibraryStats, NodeHit, Page, SearchStats
from library.indexing import index_later, wait_for_indexing
from library.records import GraphRecord, GraphSummary
from library.store import LibraryUnavailableError, close_store, database_key, open_store

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
    key = (database_key(settings.database_url), settings.embeddings)
    with _lock:
        if key not in _libraries:
            _libraries[key] = DreamLibrary(
                open_store(key[0]), settings.embeddings, embeddings_name()
            )
        return _libraries[key]


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
