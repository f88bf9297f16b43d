"""Index dreams for search in the background, so a dream's answer never waits for embeddings.

One worker thread per process; at exit Python finishes its queue before the process ends, so a
CLI dream is searchable once the command returns.
"""

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait

from core.settings import redact
from library.catalog import DreamLibrary

logger = logging.getLogger(__name__)
_worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="codreamer-index")
_queued: set[Future[int]] = set()
_queued_lock = threading.Lock()
"""Jobs are added here and removed by the worker thread when done."""


def index_later(library: DreamLibrary, graph_ids: list[str]) -> None:
    """Queue these recorded dreams for indexing."""
    for graph_id in graph_ids:
        job = _worker.submit(_index, library, graph_id)
        with _queued_lock:
            _queued.add(job)
        job.add_done_callback(_forget)


def wait_for_indexing(timeout: float | None = None) -> bool:
    """Wait until every queued dream is indexed (or failed); False if `timeout` passed first."""
    with _queued_lock:
        queued = list(_queued)
    _, pending = wait(queued, timeout=timeout)
    return not pending


def _forget(job: Future[int]) -> None:
    with _queued_lock:
        _queued.discard(job)


def _index(library: DreamLibrary, graph_id: str) -> int:
    try:
        return library.index(graph_id)
    except Exception as error:  # a failed index leaves the dream unindexed, to retry; never a crash
        logger.warning(
            "dream %s was not indexed for search (%s: %s); `codreamer library import` retries",
            graph_id,
            type(error).__name__,
            redact(str(error)),
        )
        return 0
