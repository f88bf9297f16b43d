"""Daytona backend: each workspace is a Daytona sandbox, driven through the `daytona` SDK."""

import asyncio
import base64
import math
import posixpath
import shlex
import uuid
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

import engineio.async_client
from daytona import (
    AsyncDaytona,
    AsyncSandbox,
    CreateSandboxFromSnapshotParams,
    DaytonaConfig,
    DaytonaError,
    DaytonaFileNotFoundError,
    DaytonaNotFoundError,
    DaytonaRateLimitError,
    ListSandboxesQuery,
)

from core.settings import Settings, redact
from sandbox.base import (
    MAX_OUTPUT_CHARS,
    OUR_LABEL,
    ExecResult,
    SandboxError,
    SandboxGoneError,
    SandboxPathError,
    WorkspaceInfo,
    check_workspace_id,
)

# The SDK's Socket.IO client (engineio) would take over SIGINT on the event loop when it
# connects, cancelling every task instead of letting uvicorn or the CLI shut down cleanly;
# marking its handler as already set keeps our own Ctrl-C handling.
engineio.async_client.async_signal_handler_set = True

DREAM_LABEL = "codreamer-dream"
SEED_WORKSPACE_DIR = "/workspace"
FIND_WORKSPACE_DIR = (
    f"if mkdir -p {SEED_WORKSPACE_DIR} 2>/dev/null && [ -w {SEED_WORKSPACE_DIR} ]; "
    f"then echo {SEED_WORKSPACE_DIR}; "
    'else mkdir -p "$PWD/workspace" && echo "$PWD/workspace"; fi'
)
TIMEOUT_EXIT_CODE = 124


class DaytonaWorkspace:
    """A dream's workspace directory inside its Daytona sandbox."""

    backend = "daytona"

    def __init__(self, workspace_id: str, sandbox: AsyncSandbox, path: str) -> None:
        self.id = workspace_id
        self.sandbox = sandbox
        self.sandbox_id: str | None = sandbox.id
        self.path = path

    def resolve(self, path: str) -> str:
        """The absolute sandbox path of `path`, refused when it leaves the workspace."""
        target = posixpath.normpath(posixpath.join(self.path, path))
        if target != self.path and not target.startswith(self.path + "/"):
            raise SandboxPathError(
                f"path {path!r} is outside workspace {self.id}; use a relative path"
            )
        return target

    async def execute(
        self,
        command: str,
        *,
        cwd: str | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 60,
    ) -> ExecResult:
        directory = self.resolve(cwd or ".")
        with _translated("run a command", self.sandbox_id):
            try:
                response = await self.sandbox.process.exec(
                    command, cwd=directory, env=env, timeout=math.ceil(timeout)
                )
            except DaytonaError as error:
                if "timeout" not in type(error).__name__.lower():
                    raise
                return ExecResult(TIMEOUT_EXIT_CODE, f"[timed out after {timeout:g}s]")
        return _result(response.exit_code, response.result)

    async def run_code(self, code: str, *, timeout: float = 60) -> ExecResult:
        with _translated("run code", self.sandbox_id):
            response = await self.sandbox.process.code_run(code, timeout=math.ceil(timeout))
        return _result(response.exit_code, response.result)

    async def write_file(self, path: str, data: str | bytes) -> None:
        target = self.resolve(path)
        payload = data.encode() if isinstance(data, str) else data
        staging = posixpath.join(
            posixpath.dirname(target), f".{posixpath.basename(target)}.{uuid.uuid4().hex[:8]}"
        )
        with _translated(f"write {path}", self.sandbox_id):
            await self.sandbox.fs.upload_file(payload, staging)
            await self.sandbox.fs.move_files(staging, target)

    async def append_file(self, path: str, text: str) -> None:
        target = self.resolve(path)
        encoded = base64.b64encode(text.encode()).decode()
        command = (
            f"mkdir -p {shlex.quote(posixpath.dirname(target))} && "
            f"printf %s {encoded} | base64 -d >> {shlex.quote(target)}"
        )
        result = await self.execute(command)
        if result.exit_code != 0:
            raise SandboxError(
                f"Daytona sandbox {self.sandbox_id}: append to {path} failed: {result.output}"
            )

    async def read_file(self, path: str) -> bytes:
        target = self.resolve(path)
        try:
            return await self.sandbox.fs.download_file(target)
        except DaytonaFileNotFoundError:
            raise FileNotFoundError(f"{path} does not exist in workspace {self.id}") from None
        except DaytonaError as error:
            raise SandboxError(
                f"Daytona: read {path} in sandbox {self.sandbox_id}: {_cause(error)}"
            ) from None

    async def list_files(self, path: str = ".") -> list[str]:
        folder = self.resolve(path)
        quoted = shlex.quote(folder)
        result = await self.execute(
            f"[ -d {quoted} ] && find {quoted} -type f -printf '%P\\n' || true"
        )
        return sorted(line for line in result.output.splitlines() if line)

    async def remove(self, path: str) -> None:
        target = self.resolve(path)
        try:
            with _translated(f"remove {path}", self.sandbox_id):
                await self.sandbox.fs.delete_file(target, recursive=True)
        except SandboxGoneError:
            return


class DaytonaBackend:
    """Sandboxes labelled as CoDreamer's, one per dream, with auto-stop and auto-delete set."""

    name = "daytona"
    disposable = True

    def __init__(
        self, config: DaytonaConfig, *, auto_stop_minutes: int, auto_delete_minutes: int
    ) -> None:
        self.config = config
        self.auto_stop_minutes = auto_stop_minutes
        self.auto_delete_minutes = auto_delete_minutes

    @classmethod
    def from_settings(cls, settings: Settings) -> "DaytonaBackend":
        """A backend configured from our settings (the SDK itself reads only the process env)."""
        if settings.daytona_api_key is None:
            raise SandboxError(
                "Daytona: DAYTONA_API_KEY is not set; set it or use USE_DAYTONA=false"
            )
        config = DaytonaConfig(
            api_key=settings.daytona_api_key.get_secret_value(),
            api_url=settings.daytona_api_url,
            target=settings.daytona_target,
        )
        return cls(
            config,
            auto_stop_minutes=settings.daytona_auto_stop_minutes,
            auto_delete_minutes=settings.daytona_auto_delete_minutes,
        )

    async def create(self, workspace_id: str) -> DaytonaWorkspace:
        params = CreateSandboxFromSnapshotParams(
            labels={OUR_LABEL: "true", DREAM_LABEL: check_workspace_id(workspace_id)},
            auto_stop_interval=self.auto_stop_minutes,
            auto_delete_interval=self.auto_delete_minutes,
        )
        try:
            sandbox = await self._client().create(params)
        except DaytonaError as error:
            raise SandboxError(
                f"Daytona at {self.config.api_url} could not create a sandbox: {_cause(error)}"
            ) from None
        try:
            return await self._open(workspace_id, sandbox)
        except BaseException:
            await self._delete(sandbox)
            raise

    async def connect(self, workspace_id: str) -> DaytonaWorkspace:
        sandbox = await self._find(workspace_id)
        if sandbox is None:
            raise SandboxGoneError(f"Daytona has no sandbox for dream {workspace_id!r}")
        if sandbox.state != "started":
            with _translated("start the sandbox", sandbox.id):
                await self._client().start(sandbox)
        return await self._open(workspace_id, sandbox)

    async def destroy(self, workspace_id: str) -> None:
        sandbox = await self._find(workspace_id)
        if sandbox is not None:
            await self._delete(sandbox)

    async def list(self) -> list[WorkspaceInfo]:
        with _translated("list sandboxes", None):
            return [
                WorkspaceInfo(
                    id=sandbox.labels.get(DREAM_LABEL, sandbox.id),
                    backend=self.name,
                    path=SEED_WORKSPACE_DIR,
                    sandbox_id=sandbox.id,
                    state=str(sandbox.state),
                    labels=dict(sandbox.labels),
                )
                async for sandbox in self._client().list(
                    ListSandboxesQuery(labels={OUR_LABEL: "true"})
                )
            ]

    async def _find(self, workspace_id: str) -> AsyncSandbox | None:
        """The sandbox labelled with `workspace_id` (checked first: connect and destroy use it)."""
        labels = {OUR_LABEL: "true", DREAM_LABEL: check_workspace_id(workspace_id)}
        query = ListSandboxesQuery(labels=labels)
        # Read the whole (at most one-item) listing: leaving the SDK's traced async generator
        # early gets it closed later from another context, and OpenTelemetry prints a traceback.
        with _translated("find the sandbox", None):
            found = [sandbox async for sandbox in self._client().list(query)]
        return found[0] if found else None

    async def _open(self, workspace_id: str, sandbox: AsyncSandbox) -> DaytonaWorkspace:
        with _translated("prepare the workspace directory", sandbox.id):
            response = await sandbox.process.exec(FIND_WORKSPACE_DIR, timeout=60)
        if response.exit_code != 0:
            raise SandboxError(
                f"Daytona sandbox {sandbox.id}: no writable workspace: {response.result}"
            )
        return DaytonaWorkspace(workspace_id, sandbox, response.result.strip().splitlines()[-1])

    async def _delete(self, sandbox: AsyncSandbox) -> None:
        try:
            await self._client().delete(sandbox, timeout=120, wait=True)
        except DaytonaNotFoundError:
            return
        except DaytonaError as error:
            raise SandboxError(
                f"Daytona could not delete sandbox {sandbox.id}: {_cause(error)}"
            ) from None

    def _client(self) -> AsyncDaytona:
        """One SDK client per event loop and configuration (its HTTP session is loop-bound)."""
        loop = asyncio.get_running_loop()
        clients = _clients_by_loop.setdefault(loop, {})
        key = (self.config.api_url, self.config.api_key, self.config.target)
        if key not in clients:
            clients[key] = AsyncDaytona(self.config)
        return clients[key]


ClientKey = tuple[str | None, str | None, str | None]
"""What tells two SDK clients apart: the API URL, the API key and the target."""
_clients_by_loop: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[ClientKey, AsyncDaytona]
] = weakref.WeakKeyDictionary()


async def close_clients() -> None:
    """Close this event loop's SDK clients (call before the loop ends)."""
    clients = _clients_by_loop.pop(asyncio.get_running_loop(), {})
    for client in clients.values():
        await client.close()


@contextmanager
def _translated(action: str, sandbox_id: str | None) -> Iterator[None]:
    """Turn SDK errors into `SandboxError`s that name Daytona, the action and the cause."""
    try:
        yield
    except DaytonaError as error:
        where = f"sandbox {sandbox_id}" if sandbox_id else "Daytona"
        message = f"Daytona: {action} in {where} failed: {_cause(error)}"
        if isinstance(error, DaytonaNotFoundError) or getattr(error, "status_code", None) == 404:
            raise SandboxGoneError(message) from None
        raise SandboxError(message) from None


def _cause(error: DaytonaError) -> str:
    status = getattr(error, "status_code", None)
    text = redact(str(error).strip() or type(error).__name__)
    if isinstance(error, DaytonaRateLimitError):
        retry_after = (getattr(error, "headers", None) or {}).get("Retry-After")
        wait = f", retry after {retry_after} s" if retry_after else ""
        return f"rate limited (HTTP 429{wait}): {text}"
    return f"HTTP {status}: {text}" if status else text


def _result(exit_code: int | float | None, output: str | None) -> ExecResult:
    text = output or ""
    return ExecResult(int(exit_code or 0), text[:MAX_OUTPUT_CHARS], len(text) > MAX_OUTPUT_CHARS)
