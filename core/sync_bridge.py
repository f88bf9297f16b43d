"""Let `graph.invoke` (sync) run the async nodes: they run on one background event loop."""

import asyncio
import functools
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from langchain_core.runnables import RunnableLambda

ResultT = TypeVar("ResultT")
_loop: asyncio.AbstractEventLoop | None = None
_lock = threading.Lock()


def _background_loop() -> asyncio.AbstractEventLoop:
    """One long-lived loop in a daemon thread, shared by every sync caller of the process."""
    global _loop
    with _lock:
        if _loop is None:
            _loop = asyncio.new_event_loop()
            threading.Thread(target=_loop.run_forever, name="codreamer-sync", daemon=True).start()
        return _loop


def run_blocking(coroutine: Coroutine[Any, Any, ResultT]) -> ResultT:
    """Run `coroutine` on the background loop and wait for it (never call from that loop)."""
    return asyncio.run_coroutine_threadsafe(coroutine, _background_loop()).result()


def sync_and_async(node: Callable[..., Coroutine[Any, Any, Any]]) -> RunnableLambda[Any, Any]:
    """A graph node that runs `node` natively under ainvoke and on the background loop under invoke.

    `RunnableLambda` passes `config` to a node whose signature names it (functools.wraps keeps
    the node's signature visible); LangGraph's runtime is read with `get_runtime()`. The
    caller's context variables (LangGraph's config) travel with the coroutine.
    """

    @functools.wraps(node)
    def blocking_node(*args: Any, **kwargs: Any) -> Any:
        return run_blocking(node(*args, **kwargs))

    return RunnableLambda(blocking_node, afunc=node, name=node.__name__)
