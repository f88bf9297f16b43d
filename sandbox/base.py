"""The sandbox protocol: a workspace a dream writes its files into and may run commands in."""

import re
from dataclasses import dataclass, field
from typing import Annotated, Protocol

from pydantic import AfterValidator, WithJsonSchema

OUR_LABEL = "codreamer"
"""Label key marking a sandbox as CoDreamer's; its value is the workspace (dream) id."""
MAX_OUTPUT_CHARS = 1_000_000
SECRET_ENV_PATTERN = re.compile(r"API_KEY|SECRET|TOKEN|PASSWORD|CREDENTIAL", re.IGNORECASE)
WORKSPACE_ID_MAX_CHARS = 128
WORKSPACE_ID_PATTERN = r"^[A-Za-z0-9_](?:\.?[A-Za-z0-9_-])*\.?$"
"""The id rule: letters, digits, '.', '_', '-'; not starting with '.' or '-'; no '..'.

Generated dream ids (`dream-20261129-093100-1a2b3c4d`) and Studio's UUID thread ids follow it;
an id that follows it is always one plain file name (no path, no '.' or '..').
"""
WORKSPACE_ID_RULE = (
    f"use 1-{WORKSPACE_ID_MAX_CHARS} letters, digits, '.', '_' or '-', "
    "not starting with '.' or '-' and without '..'"
)


@dataclass(frozen=True)
class ExecResult:
    """What a command or a piece of code printed, and how it ended."""

    exit_code: int
    output: str
    truncated: bool = False


@dataclass(frozen=True)
class WorkspaceInfo:
    """A workspace as its backend lists it."""

    id: str
    backend: str
    path: str
    sandbox_id: str | None = None
    state: str = "unknown"
    labels: dict[str, str] = field(default_factory=dict)
    pool: str | None = None
    """The warm pool holding this sandbox, until a dream claims it (None: a dream's)."""


class SandboxError(RuntimeError):
    """A sandbox operation failed; the message names the backend and the cause."""


class SandboxGoneError(SandboxError):
    """The workspace no longer exists. Start a new dream instead of retrying the call."""


class SandboxPathError(SandboxError, ValueError):
    """A path points outside the workspace; it is refused, never followed."""


class WorkspaceIdError(SandboxGoneError, ValueError):
    """A workspace id breaks the id rule, so no workspace can have it; nothing was touched."""


class Workspace(Protocol):
    """One live workspace. Relative paths are relative to `path`."""

    id: str
    backend: str
    path: str
    sandbox_id: str | None

    async def execute(
        self,
        command: str,
        *,
        cwd: str | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 60,
    ) -> ExecResult: ...

    async def run_code(self, code: str, *, timeout: float = 60) -> ExecResult: ...

    async def write_file(self, path: str, data: str | bytes) -> None:
        """Write the whole file atomically: readers see the old or the new content, never half."""

    async def append_file(self, path: str, text: str) -> None: ...

    async def read_file(self, path: str) -> bytes: ...

    async def list_files(self, path: str = ".") -> list[str]:
        """Files below `path`, recursively, relative to it and sorted; [] if it does not exist."""

    async def remove(self, path: str) -> None:
        """Delete a file or a whole folder; nothing happens if it does not exist."""


class SandboxBackend(Protocol):
    """Creates, finds and deletes workspaces of one kind."""

    name: str
    disposable: bool
    """True when a finished dream's workspace is deleted unless kept (it costs money to keep)."""

    async def create(self, workspace_id: str) -> Workspace: ...

    async def connect(self, workspace_id: str) -> Workspace:
        """The existing workspace; `SandboxGoneError` when there is none."""

    async def destroy(self, workspace_id: str) -> None: ...

    async def list(self) -> list[WorkspaceInfo]:
        """Every workspace of ours this backend can see, including ones left by crashed runs."""


def is_workspace_id(text: str) -> bool:
    """Whether `text` follows the id rule."""
    return (
        len(text) <= WORKSPACE_ID_MAX_CHARS and re.fullmatch(WORKSPACE_ID_PATTERN, text) is not None
    )


def check_workspace_id(workspace_id: str) -> str:
    """`workspace_id` when it follows the id rule, else `WorkspaceIdError` saying why."""
    if is_workspace_id(workspace_id):
        return workspace_id
    shown = repr(workspace_id[:40]) + ("..." if len(workspace_id) > 40 else "")
    raise WorkspaceIdError(f"{shown} is not a valid dream id: {WORKSPACE_ID_RULE}")


WorkspaceId = Annotated[
    str,
    AfterValidator(check_workspace_id),
    WithJsonSchema(
        {"type": "string", "maxLength": WORKSPACE_ID_MAX_CHARS, "pattern": WORKSPACE_ID_PATTERN}
    ),
]
"""A workspace (dream) id checked against the id rule, for pydantic models and FastAPI."""


def strip_secrets(env: dict[str, str]) -> dict[str, str]:
    """A copy of `env` without API keys, tokens and passwords."""
    return {key: value for key, value in env.items() if not SECRET_ENV_PATTERN.search(key)}
