"""An optional on-disk cache of accepted LLM answers (`CODREAMER_LLM_CACHE`).

Re-running an identical dream then costs no LLM calls. Only answers that passed every check
are stored, so a rejected answer is asked again, never replayed. The store is LangGraph's
SQLite cache: one file, safe to share between threads and processes.
"""

import hashlib
import json
import logging
import sqlite3
from functools import cache
from pathlib import Path
from typing import Any

from langgraph.cache.sqlite import SqliteCache

logger = logging.getLogger(__name__)
NAMESPACE = ("codreamer", "answers", "v1")


class AnswerCache:
    """Answer texts by request; a failing store is logged and bypassed, never fatal."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._store: SqliteCache[str] = SqliteCache(path=str(path))

    @staticmethod
    def key(model: str, request: dict[str, Any]) -> str:
        """A digest of everything that shapes an answer: the model and the whole request."""
        canonical = json.dumps({"model": model, **request}, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()

    async def lookup(self, key: str) -> str | None:
        try:
            found = await self._store.aget([(NAMESPACE, key)])
        except sqlite3.Error as error:
            logger.warning("LLM cache %s could not be read: %s", self.path, error)
            return None
        return found.get((NAMESPACE, key))

    async def store(self, key: str, answer: str) -> None:
        try:
            await self._store.aset({(NAMESPACE, key): (answer, None)})
        except sqlite3.Error as error:
            logger.warning("LLM cache %s could not be written: %s", self.path, error)


@cache
def open_answer_cache(path: Path) -> AnswerCache:
    """The process's cache for `path` (one SQLite connection per file)."""
    return AnswerCache(path)
