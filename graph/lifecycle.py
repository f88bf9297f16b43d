"""No leaked sandboxes: a node that fails or is cancelled releases the dream's workspace."""

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any, Concatenate, ParamSpec, TypeVar

from sandbox.lifecycle import release_workspace

logger = logging.getLogger(__name__)
StateT = TypeVar("StateT", bound=Mapping[str, Any])
NodeParams = ParamSpec("NodeParams")
UpdateT = TypeVar("UpdateT")


def releases_workspace_on_failure(
    node: Callable[Concatenate[StateT, NodeParams], Awaitable[UpdateT]],
) -> Callable[Concatenate[StateT, NodeParams], Coroutine[Any, Any, UpdateT]]:
    """Wrap a node so that any exception or cancellation deletes the sandbox (unless kept)."""

    @functools.wraps(node)
    async def guarded(  # `state` positional-only, as in the Callable type returned
        state: StateT, /, *args: NodeParams.args, **kwargs: NodeParams.kwargs
    ) -> UpdateT:
        try:
            return await node(state, *args, **kwargs)
        except BaseException as failure:
            if state.get("workspace_id"):
                await _release_after(failure, state)
            raise

    return guarded


async def _release_after(failure: BaseException, state: Mapping[str, Any]) -> None:
    keep = bool(state.get("settings", {}).get("keep_workspace"))
    try:
        await asyncio.shield(release_workspace(state["sandbox"], state["workspace_id"], keep=keep))
    except Exception as error:  # the node's own failure is the one to report
        logger.error(
            "workspace %s was not released after %s: %s",
            state["workspace_id"],
            type(failure).__name__,
            error,
        )
