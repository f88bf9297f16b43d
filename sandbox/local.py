"""Local backend: a directory per workspace, commands run as subprocesses in it (not isolated)."""

import asyncio
import logging
import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path

from sandbox.base import (
    MAX_OUTPUT_CHARS,
    ExecResult,
    SandboxGoneError,
    SandboxPathError,
    WorkspaceIdError,
    WorkspaceInfo,
    check_workspace_id,
    is_workspace_id,
    strip_secrets,
)

logger = logging.getLogger(__name__)
TIMEOUT_EXIT_CODE = 124


class LocalWorkspace:
    """A directory standing for a sandbox. Paths outside it are refused."""

    backend = "local"
    sandbox_id: str | None = None

    def __init__(self, workspace_id: str, root: Path) -> None:
        self.id = workspace_id
        self.root = root
        self.path = str(root)

    def resolve(self, path: str) -> Path:
        """The absolute path of `path` inside the workspace, or `SandboxPathError`."""
        target = (self.root / path).resolve()
        if target != self.root and self.root not in target.parents:
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
        process = await asyncio.create_subprocess_shell(
            command,
            cwd=self.resolve(cwd or "."),
            env={**strip_secrets(dict(os.environ)), **(env or {})},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
        return await _collect(process, timeout)

    async def run_code(self, code: str, *, timeout: float = 60) -> ExecResult:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            code,
            cwd=self.root,
            env=strip_secrets(dict(os.environ)),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
        return await _collect(process, timeout)

    async def write_file(self, path: str, data: str | bytes) -> None:
        await asyncio.to_thread(_write_atomically, self.resolve(path), data)

    async def append_file(self, path: str, text: str) -> None:
        await asyncio.to_thread(_append, self.resolve(path), text)

    async def read_file(self, path: str) -> bytes:
        target = self.resolve(path)
        try:
            return await asyncio.to_thread(target.read_bytes)
        except FileNotFoundError:
            raise FileNotFoundError(f"{path} does not exist in workspace {self.id}") from None

    async def list_files(self, path: str = ".") -> list[str]:
        return await asyncio.to_thread(_list_files, self.resolve(path))

    async def remove(self, path: str) -> None:
        await asyncio.to_thread(_remove, self.resolve(path))


class LocalBackend:
    """Workspaces as directories under `root` (default `./.codreamer/workspaces`)."""

    name = "local"
    disposable = False
    _warned = False

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()

    async def create(self, workspace_id: str) -> LocalWorkspace:
        if not LocalBackend._warned:
            logger.warning("local sandbox: commands run on this machine, not isolated")
            LocalBackend._warned = True
        folder = self.folder(workspace_id)
        await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=False)
        return LocalWorkspace(workspace_id, folder)

    async def connect(self, workspace_id: str) -> LocalWorkspace:
        folder = self.folder(workspace_id)
        if not folder.is_dir():
            raise SandboxGoneError(f"local workspace {workspace_id!r} not found under {self.root}")
        return LocalWorkspace(workspace_id, folder)

    async def destroy(self, workspace_id: str) -> None:
        workspace = await self.connect(workspace_id)
        await asyncio.to_thread(shutil.rmtree, workspace.root)

    async def list(self) -> list[WorkspaceInfo]:
        """Folders named by a valid id (anything else under the root was not made by us)."""
        if not self.root.is_dir():
            return []
        return [
            WorkspaceInfo(id=folder.name, backend=self.name, path=str(folder), state="kept")
            for folder in sorted(self.root.iterdir())
            if folder.is_dir() and is_workspace_id(folder.name)
        ]

    def folder(self, workspace_id: str) -> Path:
        """The workspace's folder: a direct child of the root, or `WorkspaceIdError`."""
        folder = self.root / check_workspace_id(workspace_id)
        if folder.resolve().parent != self.root:
            raise WorkspaceIdError(
                f"local workspace {workspace_id!r} leads outside {self.root} (a link?); "
                "remove it or pick another id"
            )
        return folder


async def _collect(process: asyncio.subprocess.Process, timeout: float) -> ExecResult:
    try:
        stdout, _ = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, _ = await process.communicate()
        text = stdout.decode(errors="replace") + f"\n[timed out after {timeout:g}s]"
        return ExecResult(TIMEOUT_EXIT_CODE, text[-MAX_OUTPUT_CHARS:])
    text = stdout.decode(errors="replace")
    truncated = len(text) > MAX_OUTPUT_CHARS
    return ExecResult(process.returncode or 0, text[:MAX_OUTPUT_CHARS], truncated)


def _write_atomically(target: Path, data: str | bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode() if isinstance(data, str) else data
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(payload)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _list_files(folder: Path) -> list[str]:
    return sorted(str(item.relative_to(folder)) for item in folder.rglob("*") if item.is_file())


def _remove(target: Path) -> None:
    if target.is_dir():
        shutil.rmtree(target)
    else:
        target.unlink(missing_ok=True)


def _append(target: Path, text: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("a", encoding="utf-8") as stream:
        stream.write(text)
