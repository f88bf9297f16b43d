"""The seed's workspace files; a write that keeps failing becomes a warning, never silence."""

import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from tenacity import AsyncRetrying, stop_after_attempt, wait_exponential_jitter

from core.settings import redact
from core.state import DreamState, ExpandTask, Node
from sandbox.base import Workspace
from sandbox.factory import get_backend

logger = logging.getLogger(__name__)
WRITE_ATTEMPTS = 3


async def open_workspace(state: DreamState | ExpandTask) -> Workspace:
    """Reconnect to the dream's workspace (the state holds its id, never a live client)."""
    return await get_backend(state["sandbox"]).connect(state["workspace_id"])


def graph_json(nodes: dict[str, Node] | list[Node]) -> str:
    """Nodes as the JSON the frontend reads."""
    items = list(nodes.values()) if isinstance(nodes, dict) else nodes
    return json.dumps({"nodes": items}, ensure_ascii=False, indent=1)


def log_line(text: str) -> str:
    """A timestamped log line."""
    return f"{datetime.now(UTC).isoformat(timespec='milliseconds')} {text}\n"


async def write_file(workspace: Workspace, name: str, data: str) -> list[str]:
    """Write a file atomically, retrying; returns no warning, or the one saying it was lost."""
    return await _retrying(name, lambda: workspace.write_file(name, data))


async def append_log(workspace: Workspace, name: str, *lines: str) -> list[str]:
    """Append timestamped lines to a log, retrying; returns no warning, or the one saying so."""
    text = redact("".join(log_line(line) for line in lines))
    return await _retrying(name, lambda: workspace.append_file(name, text))


async def _retrying(name: str, operation: Callable[[], Awaitable[None]]) -> list[str]:
    try:
        async for attempt in AsyncRetrying(
            stop=stop_after_attempt(WRITE_ATTEMPTS),
            wait=wait_exponential_jitter(multiplier=0.2, max=2),
            reraise=True,
        ):
            with attempt:
                await operation()
    except Exception as error:  # any storage failure becomes a recorded warning
        warning = f"workspace file {name} was not written after {WRITE_ATTEMPTS} attempts: {error}"
        logger.warning(warning)
        return [warning]
    return []
