"""Node: open the dream's workspace and fix its run settings."""

import time
import uuid
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.runtime import get_runtime
from pydantic import ValidationError

from core.context import DreamContext, resolve_context
from core.state import DreamInput, DreamState, empty_usage
from core.workspace_layout import ERRORS_LOG, start_commit
from nodes.workspace_files import write_file
from sandbox.factory import get_backend
from sandbox.git_history import record_step
from sandbox.lifecycle import open_or_create


class InvalidDreamInputError(ValueError):
    """The dream's input breaks a rule (a limit, a missing text); the message names the field."""


def checked_input(state: DreamState) -> DreamInput:
    """The input under the same rules REST and the CLI apply, defaults filled in: Studio and
    Python callers reach the graph without an HTTP layer in front of it."""
    given = {name: state.get(name) for name in DreamInput.model_fields}
    try:
        return DreamInput.model_validate({k: v for k, v in given.items() if v is not None})
    except ValidationError as error:
        first = error.errors()[0]
        name = ".".join(str(part) for part in first["loc"]) or "input"
        message = first["msg"].removeprefix("Value error, ")
        raise InvalidDreamInputError(f"invalid dream input: {name}: {message}") from None


def runtime_context() -> DreamContext | dict[str, Any] | None:
    """The context LangGraph's runtime holds (Python and Studio pass one); None outside a graph
    run (the legacy loop), where the run settings come from the config alone."""
    try:
        return get_runtime(DreamContext).context
    except RuntimeError:  # get_config(): "outside of a runnable context"
        return None


def new_workspace_id() -> str:
    """A sortable, unique dream id such as `dream-20261129-093100-1a2b3c4d`."""
    return f"dream-{datetime.now(UTC):%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:8]}"


async def create_workspace(state: DreamState, config: RunnableConfig) -> dict[str, Any]:
    """Open the workspace, named by the run's thread id when there is one, and start its git
    history.

    A durable run's checkpointer may have created it already; otherwise it is created here.
    The input and run settings are checked first, so a refused dream does no work.
    """
    dream_input = checked_input(state)
    context = resolve_context(runtime_context(), config)
    thread_id = config.get("configurable", {}).get("thread_id")
    workspace_id = str(thread_id) if thread_id else new_workspace_id()
    workspace = await open_or_create(get_backend(context.sandbox), workspace_id)
    warnings = await write_file(workspace, ERRORS_LOG, "")
    message = start_commit(dream_input.children_count, dream_input.generations_count_int)
    warnings += await record_step(workspace, message, warnings, start=True)
    return {
        **dream_input.model_dump(),
        "settings": asdict(context),
        "workspace_id": workspace.id,
        "sandbox": workspace.backend,
        "sandbox_id": workspace.sandbox_id,
        "workspace_path": workspace.path,
        "started_at": time.time(),
        "generation": 0,
        "usage": empty_usage(),
        "warnings": warnings,
    }
