"""When a dream's workspace is opened and released."""

import asyncio
import logging
import weakref

from sandbox.base import SandboxBackend, SandboxGoneError, Workspace
from sandbox.factory import get_backend

logger = logging.getLogger(__name__)
_creation_locks: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[tuple[str, str], asyncio.Lock]
] = weakref.WeakKeyDictionary()


async def open_or_create(backend: SandboxBackend, workspace_id: str) -> Workspace:
    """The workspace `workspace_id`, created if missing, never twice.

    A dream's first node and its checkpointer's first put race to it; a lock per workspace
    (and event loop) makes the loser connect to what the winner created.
    """
    locks = _creation_locks.setdefault(asyncio.get_running_loop(), {})
    async with locks.setdefault((backend.name, workspace_id), asyncio.Lock()):
        try:
            return await backend.connect(workspace_id)
        except SandboxGoneError:
            return await backend.create(workspace_id)


def is_kept(backend_name: str, *, keep: bool) -> bool:
    """Whether a dream's workspace outlives it: when asked, and always for local ones."""
    return keep or not get_backend(backend_name).disposable


async def release_workspace(backend_name: str, workspace_id: str, *, keep: bool) -> bool:
    """Delete the workspace unless it is kept; True if it was deleted."""
    if is_kept(backend_name, keep=keep):
        return False
    await get_backend(backend_name).destroy(workspace_id)
    logger.info("deleted %s workspace %s", backend_name, workspace_id)
    return True
