"""When a dream's workspace is opened and released."""

import logging

from sandbox.base import SandboxGoneError, Workspace
from sandbox.factory import get_backend

logger = logging.getLogger(__name__)


async def open_or_create(backend_name: str, workspace_id: str) -> Workspace:
    """The dream's workspace: the one its checkpointer already made, or a new one."""
    backend = get_backend(backend_name)
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
