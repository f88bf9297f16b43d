"""Daytona backend: each workspace is a Daytona sandbox, driven through the `daytona` SDK."""

import base64
import builtins
import math
import posixpath
import shlex
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Self

from daytona import (
    AsyncDaytona,
    AsyncSandbox,
    CreateSandboxFromSnapshotParams,
    DaytonaConfig,
    DaytonaError,
    DaytonaFileNotFoundError,
    ListSandboxesQuery,
)

from core.settings import Settings
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
from sandbox.daytona_client import client_for, describe_error, is_not_found, translated
from telemetry.metrics import sandbox_created, sandbox_deleted

DREAM_LABEL = "codreamer-dream"
WARM_LABEL = "codreamer-warm"
"""Label key ("true") of a warm-pool sandbox no dream has claimed yet (see `sandbox.pool`)."""
POOL_LABEL = "codreamer-pool"
"""Label key of a warm-pool sandbox: the id of the pool (server) that keeps it."""
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
        with translated("run a command", self.sandbox_id):
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
        with translated("run code", self.sandbox_id):
            response = await self.sandbox.process.code_run(code, timeout=math.ceil(timeout))
        return _result(response.exit_code, response.result)

    async def write_file(self, path: str, data: str | bytes) -> None:
        target = self.resolve(path)
        payload = data.encode() if isinstance(data, str) else data
        staging = posixpath.join(
            posixpath.dirname(target), f".{posixpath.basename(target)}.{uuid.uuid4().hex[:8]}"
        )
        with translated(f"write {path}", self.sandbox_id):
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
                f"Daytona: read {path} in sandbox {self.sandbox_id}: {describe_error(error)}"
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
            with translated(f"remove {path}", self.sandbox_id):
                await self.sandbox.fs.delete_file(target, recursive=True)
        except SandboxGoneError:
            return


@dataclass(frozen=True)
class SshAccess:
    """What Daytona issued for SSH into a sandbox: the command to run, and until when."""

    command: str
    expires_at: datetime
    sandbox_id: str


class DaytonaBackend:
    """Sandboxes labelled as CoDreamer's, one per dream, with auto-stop and auto-delete set."""

    name = "daytona"
    disposable = True

    def __init__(
        self,
        config: DaytonaConfig,
        *,
        auto_stop_minutes: int,
        auto_delete_minutes: int,
        snapshot: str | None = None,
    ) -> None:
        self.config = config
        self.auto_stop_minutes = auto_stop_minutes
        self.auto_delete_minutes = auto_delete_minutes
        self.snapshot = snapshot

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
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
            snapshot=settings.daytona_snapshot,
        )

    async def create(self, workspace_id: str) -> DaytonaWorkspace:
        labels = {OUR_LABEL: "true", DREAM_LABEL: check_workspace_id(workspace_id)}
        sandbox = await self.new_sandbox(labels)
        try:
            return await self._open(workspace_id, sandbox)
        except BaseException:
            await self.delete(sandbox)
            raise

    async def connect(self, workspace_id: str) -> DaytonaWorkspace:
        sandbox = await self._find(workspace_id)
        if sandbox is None:
            raise SandboxGoneError(f"Daytona has no sandbox for dream {workspace_id!r}")
        await self._started(sandbox)
        return await self._open(workspace_id, sandbox)

    async def destroy(self, workspace_id: str) -> None:
        sandbox = await self._find(workspace_id)
        if sandbox is not None:
            await self.delete(sandbox)

    async def list(self) -> list[WorkspaceInfo]:
        """Dreams' sandboxes (warm-pool sandboxes no dream has claimed are not workspaces)."""
        return [
            self.info(sandbox)
            for sandbox in await self.find_sandboxes({OUR_LABEL: "true"})
            if WARM_LABEL not in sandbox.labels
        ]

    async def ssh_access(self, workspace_id: str, minutes: int) -> SshAccess:
        """An SSH command into the dream's sandbox, valid for `minutes`; a stopped sandbox is
        started first (it will auto-stop again when idle)."""
        sandbox = await self._find(workspace_id)
        if sandbox is None:
            raise SandboxGoneError(
                f"Daytona has no sandbox for dream {workspace_id!r}: it was not kept (a "
                "dream's sandbox is deleted when it ends unless KEEP_DAYTONA_WORKSPACE=true) or "
                "it was auto-deleted; `codreamer sandboxes list` shows the sandboxes there are"
            )
        await self._started(sandbox)
        with translated("create SSH access", sandbox.id):
            access = await sandbox.create_ssh_access(expires_in_minutes=minutes)
        return SshAccess(access.ssh_command, access.expires_at, sandbox.id)

    async def new_sandbox(self, labels: dict[str, str]) -> AsyncSandbox:
        """A started sandbox with these labels, from DAYTONA_SNAPSHOT if set, with our
        auto-stop and auto-delete intervals."""
        params = CreateSandboxFromSnapshotParams(
            snapshot=self.snapshot,
            labels=dict(labels),
            auto_stop_interval=self.auto_stop_minutes,
            auto_delete_interval=self.auto_delete_minutes,
        )
        try:
            sandbox = await self.client().create(params)
        except DaytonaError as error:
            cause = describe_error(error)
            if self.snapshot and "snapshot" in cause.lower():
                raise SandboxError(
                    f"Daytona at {self.config.api_url} could not create a sandbox from snapshot "
                    f"{self.snapshot!r} (DAYTONA_SNAPSHOT): {cause}; build it first (README: 'A "
                    "snapshot with what a dream needs') or unset DAYTONA_SNAPSHOT"
                ) from None
            raise SandboxError(
                f"Daytona at {self.config.api_url} could not create a sandbox: {cause}"
            ) from None
        sandbox_created(self.name, sandbox.id)
        return sandbox

    async def find_sandboxes(self, labels: dict[str, str]) -> builtins.list[AsyncSandbox]:
        """Every sandbox carrying all these labels."""
        # Read the whole listing: leaving the SDK's traced async generator early gets it
        # closed later from another context, and OpenTelemetry prints a traceback.
        with translated("list sandboxes", None):
            return [
                sandbox async for sandbox in self.client().list(ListSandboxesQuery(labels=labels))
            ]

    def info(self, sandbox: AsyncSandbox) -> WorkspaceInfo:
        return WorkspaceInfo(
            id=sandbox.labels.get(DREAM_LABEL, sandbox.id),
            backend=self.name,
            path=SEED_WORKSPACE_DIR,
            sandbox_id=sandbox.id,
            state="unknown" if sandbox.state is None else sandbox.state.value,
            labels=dict(sandbox.labels),
            pool=sandbox.labels.get(POOL_LABEL),
        )

    async def delete(self, sandbox: AsyncSandbox, *, wait: bool = True) -> None:
        """Delete the sandbox (and with `wait`, until Daytona reports it destroyed)."""
        try:
            await self.client().delete(sandbox, timeout=120, wait=wait)
        except DaytonaError as error:
            if not is_not_found(error):
                raise SandboxError(
                    f"Daytona could not delete sandbox {sandbox.id}: {describe_error(error)}"
                ) from None
        sandbox_deleted(self.name, sandbox.id)

    def client(self) -> AsyncDaytona:
        """This event loop's SDK client for this backend's configuration."""
        return client_for(self.config)

    async def _find(self, workspace_id: str) -> AsyncSandbox | None:
        """The sandbox labelled with `workspace_id` (checked first: connect and destroy use it)."""
        labels = {OUR_LABEL: "true", DREAM_LABEL: check_workspace_id(workspace_id)}
        found = await self.find_sandboxes(labels)
        return found[0] if found else None

    async def _started(self, sandbox: AsyncSandbox) -> None:
        if sandbox.state != "started":
            with translated("start the sandbox", sandbox.id):
                await self.client().start(sandbox)

    async def _open(self, workspace_id: str, sandbox: AsyncSandbox) -> DaytonaWorkspace:
        with translated("prepare the workspace directory", sandbox.id):
            response = await sandbox.process.exec(FIND_WORKSPACE_DIR, timeout=60)
        if response.exit_code != 0:
            raise SandboxError(
                f"Daytona sandbox {sandbox.id}: no writable workspace: {response.result}"
            )
        return DaytonaWorkspace(workspace_id, sandbox, last_line(response.result))


def last_line(output: str) -> str:
    """The last line a command printed (a workspace directory, after any noise)."""
    return output.strip().splitlines()[-1]


def _result(exit_code: int | float | None, output: str | None) -> ExecResult:
    text = output or ""
    return ExecResult(int(exit_code or 0), text[:MAX_OUTPUT_CHARS], len(text) > MAX_OUTPUT_CHARS)
