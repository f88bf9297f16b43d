"""The LangGraph store CODREAMER_DATABASE_URL names: SQLite on one machine, or PostgreSQL."""

import fcntl
import logging
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
from langchain_core.embeddings import Embeddings
from langgraph.store.base import BaseStore
from langgraph.store.sqlite import SqliteStore

from core.settings import redact

if TYPE_CHECKING:
    from langgraph.store.postgres.base import PostgresIndexConfig
    from psycopg import Connection
    from psycopg.rows import DictRow

logger = logging.getLogger(__name__)

SQLITE_PREFIX = "sqlite:///"
STORE_ERRORS = (sqlite3.Error, psycopg.Error)
"""What the stores raise when their database fails (locked, gone, unreachable)."""
BUSY_TIMEOUT_MS = 10_000
"""How long a SQLite writer waits for another process's write (CLI and server share a file)."""
TEXT_FIELD = "text"
"""The field of a node item that a store with a vector index embeds."""
POOL_SIZE = 8
CONNECT_TIMEOUT_S = 5
SETUP_LOCK_ID = 0x636F_6472_6561_6D  # "codream": the advisory lock around creating tables
SETUP_TIMEOUT_S = 60


class LibraryUnavailableError(RuntimeError):
    """The library's database cannot be opened or reached; the message says which and why."""


def database_key(url: str) -> str:
    """The URL with a relative SQLite path made absolute: the same file from any directory."""
    if url.startswith(SQLITE_PREFIX):
        return SQLITE_PREFIX + str(Path(url.removeprefix(SQLITE_PREFIX)).resolve())
    return url


@dataclass(frozen=True)
class VectorIndex:
    """What a store needs to embed and search nodes itself (PostgreSQL with pgvector)."""

    embeddings: Embeddings
    dims: int


def open_store(url: str, vectors: VectorIndex | None = None) -> BaseStore:
    """The store at `url`, its tables created if needed (`database_key` form expected).

    On a PostgreSQL with the pgvector extension (installed, or creatable by our user) and
    `vectors` given, the store gets a vector index (HNSW, cosine): see `has_vector_index`.
    """
    try:
        if url.startswith(SQLITE_PREFIX):
            return _sqlite_store(Path(url.removeprefix(SQLITE_PREFIX)))
        return _postgres_store(url, vectors)
    except (OSError, sqlite3.Error) as error:
        raise LibraryUnavailableError(f"the library database cannot be opened: {error}") from None


def close_store(store: BaseStore) -> None:
    """Close the store's connection (SQLite) or connection pool (PostgreSQL)."""
    conn = getattr(store, "conn", None)
    close = getattr(conn, "close", None)
    if callable(close):
        close()


def _sqlite_store(path: Path) -> SqliteStore:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    store = SqliteStore(conn)
    # One setup at a time (its migrations are not safe to run twice at once): the CLI and a
    # server may open a new library together.
    with path.with_name(path.name + ".setup-lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        store.setup()
    return store


def has_vector_index(store: BaseStore) -> bool:
    """Whether the store embeds and searches node texts itself (pgvector)."""
    from langgraph.store.postgres.base import BasePostgresStore

    return isinstance(store, BasePostgresStore) and store.index_config is not None


def _postgres_store(url: str, vectors: VectorIndex | None) -> BaseStore:
    from langgraph.store.postgres import PostgresStore
    from psycopg import Connection
    from psycopg import Error as PostgresError
    from psycopg.rows import DictRow, dict_row
    from psycopg_pool import ConnectionPool, PoolTimeout

    try:  # one connection first: a server that is down or refuses us is named at once
        Connection.connect(url, connect_timeout=CONNECT_TIMEOUT_S).close()
    except PostgresError as error:
        raise LibraryUnavailableError(
            f"the library database cannot be reached: {redact(str(error)).strip()}"
        ) from None
    pool: ConnectionPool[Connection[DictRow]] = ConnectionPool(
        url,
        min_size=1,
        max_size=POOL_SIZE,
        kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
        open=False,
    )
    try:
        pool.open(wait=True, timeout=10)
        with pool.connection() as conn:  # one setup at a time: servers may start together
            _wait_for_lock(conn)
            try:
                index = _vector_index(conn, vectors) if vectors else None
                store = PostgresStore(conn=pool, index=index)
                store.setup()
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (SETUP_LOCK_ID,))
    except (PostgresError, PoolTimeout) as error:
        pool.close()
        raise LibraryUnavailableError(
            f"the library database cannot be reached: {type(error).__name__}: {error}"
        ) from None
    return store


def _wait_for_lock(conn: "Connection[DictRow]") -> None:
    """Take the setup lock, polling: a session blocked in `pg_advisory_lock` would stall the
    holder's `CREATE INDEX CONCURRENTLY` (it waits for every open transaction), a deadlock."""
    deadline = time.monotonic() + SETUP_TIMEOUT_S
    while True:
        row = conn.execute("SELECT pg_try_advisory_lock(%s) AS locked", (SETUP_LOCK_ID,)).fetchone()
        if row is not None and row["locked"]:
            return
        if time.monotonic() > deadline:
            raise LibraryUnavailableError(
                f"another process has been creating the library's tables for {SETUP_TIMEOUT_S} s"
            )
        time.sleep(0.05)


def _vector_index(
    conn: "Connection[DictRow]", vectors: VectorIndex
) -> "PostgresIndexConfig | None":
    """pgvector's index settings when the extension is there (created if our user may)."""
    from psycopg import errors

    available = conn.execute(
        "SELECT installed_version FROM pg_available_extensions WHERE name = 'vector'"
    ).fetchone()
    if available is None:
        return None
    if available["installed_version"] is None:
        try:
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        except errors.InsufficientPrivilege:
            logger.warning(
                "pgvector is available but not installed, and we may not install it: node "
                "search runs in each process (a superuser can run `CREATE EXTENSION vector`)"
            )
            return None
    return {
        "dims": vectors.dims,
        "embed": vectors.embeddings,
        "fields": [TEXT_FIELD],
        "distance_type": "cosine",
        "ann_index_config": {"kind": "hnsw"},
    }
