"""Opening the library's store: processes that start together, and databases that are not there."""

import subprocess
import sys

import pytest

from embeddings import LazyEmbeddings
from embeddings.minilm import DIMENSIONS
from library import DreamLibrary, LibraryUnavailableError
from library.store import VectorIndex, close_store, database_key, open_store
from tests.support.postgres import PostgresServer

OPEN_STORE = (
    "import sys; from library.store import open_store, close_store; "
    "close_store(open_store(sys.argv[1]))"
)


def test_processes_opening_a_new_library_together_all_succeed(library_database: str) -> None:
    url = database_key(library_database)
    starting = [
        subprocess.Popen([sys.executable, "-c", OPEN_STORE, url], stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]

    errors = [process.communicate(timeout=90)[1] for process in starting]

    assert [process.returncode for process in starting] == [0, 0, 0], errors


def test_an_unreachable_postgresql_is_named_at_once_without_its_password() -> None:
    with pytest.raises(LibraryUnavailableError) as caught:
        open_store("postgresql://someone:hunter22@127.0.0.1:1/none")

    assert "cannot be reached" in str(caught.value)
    assert "hunter22" not in str(caught.value)


def test_search_runs_in_postgresql_exactly_when_it_has_pgvector(
    pgvector_url: str, postgres_server: PostgresServer, pgvector_server: PostgresServer
) -> None:
    with_pgvector = get_library_at(pgvector_url)
    postgres_server.reset()
    without = get_library_at(postgres_server.url)
    pgvector_server.reset()  # available to the server, but our user may not install it
    not_installed = get_library_at(pgvector_server.url)

    assert with_pgvector.searches_in_store is True
    assert without.searches_in_store is False
    assert not_installed.searches_in_store is False
    for library in (with_pgvector, without, not_installed):
        close_store(library.store)


def get_library_at(url: str) -> DreamLibrary:
    store = open_store(url, VectorIndex(LazyEmbeddings("local"), DIMENSIONS))
    return DreamLibrary(store, "local", "local-test")
