"""Node: record the finished dream in the library; its nodes are indexed in the background."""

import asyncio
import logging
from typing import Any

from langgraph.config import get_store

from core.settings import get_settings, redact
from core.state import DreamState
from library import DreamLibrary, LibraryUnavailableError, get_library, index_later, library_over

logger = logging.getLogger(__name__)


async def record_dream(state: DreamState) -> dict[str, Any]:
    """Store `{nodes, metadata}` in the library (the platform's store under `langgraph dev`).

    The answer never waits for embeddings; a library that cannot be written to costs the dream
    a warning, not its result (`codreamer library import` records it later).
    """
    if not get_settings().library:
        return {}
    output = {"nodes": state["nodes"], "metadata": state["metadata"]}
    try:
        library = _library()
        await asyncio.to_thread(library.record, output)
    except (LibraryUnavailableError, OSError) as error:
        warning = f"not recorded in the library: {redact(str(error))}"
        logger.warning("dream %s %s", state["workspace_id"], warning)
        metadata = state["metadata"]
        return {"metadata": {**metadata, "warnings": [*metadata["warnings"], warning]}}
    index_later(library, [state["workspace_id"]])
    return {}


def _library() -> DreamLibrary:
    """The store LangGraph gives the run (`langgraph dev`), else CODREAMER_DATABASE_URL's."""
    try:
        store = get_store()
    except RuntimeError:  # outside a graph run: the legacy loop
        store = None
    return get_library() if store is None else library_over(store)
