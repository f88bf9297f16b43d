"""A loopback fake of the Daytona REST API (control plane + toolbox) that the real SDK can drive.

Sandboxes are records in memory; each one's filesystem is a temporary directory (its root), so
`/workspace/a.json` is stored at `<root>/workspace/a.json`. Commands and code really run as local
subprocesses (not isolated): their cwd is mapped into the root, `HOME` is the root's
`/home/daytona`, absolute paths under the root's top-level folders are rewritten to host paths in
the command, and host paths in the output are rewritten back to sandbox paths.
The SDK's Socket.IO event stream is not served; the SDK falls back to polling.
Creation can be made as slow as Daytona's (`create_latency`: `POST /sandbox` answers, with a
started sandbox, after that many seconds); a sandbox can be created from a snapshot named in
`snapshots` (any other answers 400 as the API does); SSH access is issued as the API issues it.
"""

from __future__ import annotations

import asyncio
import json
import os
import posixpath
import re
import shutil
import signal
import socket
import stat
import sys
import tempfile
import threading
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote

import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from starlette.datastructures import UploadFile

SANDBOX_HOME = "/home/daytona"
SANDBOX_WORK_DIR = SANDBOX_HOME
DAEMON_SOURCE = "DAYTONA_DAEMON"
MULTIPART_BOUNDARY = "DAYTONA-FILE-BOUNDARY"
_UPLOAD_FIELD = re.compile(r"files\[(\d+)\]\.file")


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _error(
    status: int,
    message: str,
    *,
    code: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """An error body shaped like the API's (`statusCode`, `message`) or the daemon's (+ `code`)."""
    body: dict[str, Any] = {
        "statusCode": status,
        "message": message,
        "error": HTTPStatus(status).phrase,
    }
    if code:
        body |= {"code": code, "source": DAEMON_SOURCE}
    return JSONResponse(body, status_code=status, headers=headers)


@dataclass
class _Sandbox:
    """One sandbox: its API record and the directory standing for its filesystem."""

    id: str
    name: str
    root: Path
    labels: dict[str, str]
    env: dict[str, str]
    auto_stop_interval: int | None
    auto_archive_interval: int | None
    auto_delete_interval: int | None
    snapshot: str | None
    user: str
    target: str
    resources: dict[str, int]
    state: str = "started"
    created_at: str = field(default_factory=_now)
    updated_at: str = field(default_factory=_now)

    def dto(self, toolbox_url: str) -> dict[str, Any]:
        """The `Sandbox` JSON the API returns (also valid as a `SandboxListItem`)."""
        return {
            "id": self.id,
            "organizationId": "fake-organization",
            "name": self.name,
            "snapshot": self.snapshot,
            "user": self.user,
            "env": self.env,
            "labels": self.labels,
            "public": False,
            "networkBlockAll": False,
            "kvm": False,
            "target": self.target,
            **self.resources,
            "state": self.state,
            "desiredState": "destroyed" if self.state == "destroyed" else self.state,
            "autoStopInterval": self.auto_stop_interval,
            "autoArchiveInterval": self.auto_archive_interval,
            "autoDeleteInterval": self.auto_delete_interval,
            "volumes": [],
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "toolboxProxyUrl": toolbox_url,
        }

    def host_path(self, path: str) -> Path:
        """Where sandbox `path` lives on the host; relative paths start at the work dir."""
        absolute = posixpath.normpath(posixpath.join(SANDBOX_WORK_DIR, path))
        return self.root / absolute.lstrip("/")

    def sandbox_path(self, host: Path) -> str:
        """The sandbox path of a host path inside the root."""
        relative = host.relative_to(self.root).as_posix()
        return "/" if relative == "." else f"/{relative}"

    def to_host(self, text: str) -> str:
        """`text` with sandbox paths under the root's top-level folders turned into host paths."""
        names = sorted((entry.name for entry in self.root.iterdir()), key=len, reverse=True)
        if not names:
            return text
        pattern = r"(?<![\w./~-])/(" + "|".join(map(re.escape, names)) + r")(?![\w.-])"
        return re.sub(pattern, lambda match: f"{self.root}/{match.group(1)}", text)

    def to_sandbox(self, text: str) -> str:
        """`text` with host paths inside the root turned back into sandbox paths."""
        return text.replace(f"{self.root}/", "/").replace(str(self.root), "/")

    def environ(self, extra: dict[str, str] | None) -> dict[str, str]:
        """A minimal environment for a process in the sandbox (the host's secrets stay out)."""
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.host_path(SANDBOX_HOME)),
            "USER": self.user,
            "LANG": "C.UTF-8",
            **self.env,
            **(extra or {}),
        }


def _describe(sandbox: _Sandbox, path: Path) -> dict[str, Any]:
    """The toolbox's `FileInfo` JSON for a host path."""
    info = path.stat()
    modified = datetime.fromtimestamp(info.st_mtime, UTC)
    return {
        "name": path.name,
        "path": sandbox.sandbox_path(path),
        "isDir": path.is_dir(),
        "size": info.st_size,
        "mode": stat.filemode(info.st_mode),
        "permissions": f"{stat.S_IMODE(info.st_mode):04o}",
        "owner": sandbox.user,
        "group": sandbox.user,
        "modTime": str(modified),
        "modifiedAt": modified.isoformat().replace("+00:00", "Z"),
    }


def _content_disposition(name: str, path: str) -> str:
    escaped = path.replace("\\", "\\\\").replace('"', '\\"')
    value = f'form-data; name="{name}"; filename="{escaped}"'
    if not path.isascii():
        value += f"; filename*=utf-8''{quote(path, safe='')}"
    return value


def _multipart(parts: list[tuple[dict[str, str], bytes]]) -> bytes:
    body = bytearray()
    for headers, payload in parts:
        body += f"--{MULTIPART_BOUNDARY}\r\n".encode()
        for key, value in headers.items():
            body += f"{key}: {value}\r\n".encode()
        body += b"\r\n" + payload + b"\r\n"
    body += f"--{MULTIPART_BOUNDARY}--\r\n".encode()
    return bytes(body)


async def _run(
    sandbox: _Sandbox, argv: list[str], cwd: Path, envs: dict[str, str] | None, timeout: int | None
) -> tuple[int, str] | None:
    """Exit code and combined output of `argv`, or None when it ran past `timeout` seconds."""
    process = await asyncio.create_subprocess_exec(
        *argv,
        cwd=cwd,
        env=sandbox.environ(envs),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), timeout or None)
    except TimeoutError:
        os.killpg(process.pid, signal.SIGKILL)
        await process.communicate()
        return None
    return process.returncode or 0, sandbox.to_sandbox(output.decode(errors="replace"))


def _timed_out(timeout: int | None) -> JSONResponse:
    return _error(
        408,
        f"Command execution timed out after {timeout} seconds",
        code="PROCESS_EXECUTION_TIMEOUT",
    )


class _ToolboxError(Exception):
    """Carries the error response for a toolbox call on a missing or stopped sandbox."""

    def __init__(self, response: JSONResponse) -> None:
        super().__init__(response.status_code)
        self.response = response


async def _toolbox_error_response(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, _ToolboxError)
    return exc.response


class FakeDaytona:
    """Loopback Daytona API (control plane + toolbox) for tests, on 127.0.0.1."""

    def __init__(self, api_key: str = "test-key", *, create_latency: float = 0.0) -> None:
        self.api_key = api_key
        self.url = ""
        self.fail_create: list[int] = []
        self.create_latency = create_latency
        """Seconds `POST /sandbox` takes before it answers (Daytona takes a few)."""
        self.snapshots: set[str] = set()
        """Snapshots a sandbox may be created from; any other answers 400, as the API does."""
        self.ssh_grants: list[dict[str, Any]] = []
        """Every SSH access issued: sandbox id, token, minutes asked for."""
        self.requests: list[tuple[str, str]] = []
        self._toolbox_url = ""
        self._sandboxes: dict[str, _Sandbox] = {}
        self._roots: tempfile.TemporaryDirectory[str] | None = None
        self._roots_dir = Path()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._app = self._build_app()

    def start(self) -> FakeDaytona:
        """Serve on a free port in a background thread; returns once it accepts connections."""
        self._roots = tempfile.TemporaryDirectory(prefix="fake-daytona-")
        self._roots_dir = Path(self._roots.name).resolve()
        # IPPROTO_TCP named explicitly: asyncio turns Nagle off (TCP_NODELAY) only on sockets
        # whose protocol says TCP, as a real API server does; without it every keep-alive
        # response stalls ~40 ms on the client's delayed ACK.
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/api"
        self._toolbox_url = f"http://127.0.0.1:{port}/toolbox"
        config = uvicorn.Config(self._app, log_level="warning", lifespan="off", loop="asyncio")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [listener]}, daemon=True
        )
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("fake Daytona server failed to start")
            self._thread.join(0.01)
        return self

    def stop(self) -> None:
        """Shut the server down and delete every sandbox's files."""
        if self._server and self._thread:
            self._server.should_exit = True
            self._thread.join(10)
        if self._roots:
            self._roots.cleanup()
        self._server = self._thread = self._roots = None

    def __enter__(self) -> FakeDaytona:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def live_sandboxes(self) -> list[dict[str, Any]]:
        """The sandboxes not deleted, as plain dicts."""
        return [
            {
                "id": sandbox.id,
                "name": sandbox.name,
                "labels": dict(sandbox.labels),
                "state": sandbox.state,
                "auto_stop_interval": sandbox.auto_stop_interval,
                "auto_delete_interval": sandbox.auto_delete_interval,
                "snapshot": sandbox.snapshot,
            }
            for sandbox in list(self._sandboxes.values())
        ]

    def sandbox_root(self, sandbox_id: str) -> Path:
        """The host directory standing for the sandbox's filesystem root."""
        return self._sandboxes[sandbox_id].root

    def _build_app(self) -> FastAPI:
        app = FastAPI()
        app.middleware("http")(self._record_and_authenticate)
        app.add_exception_handler(_ToolboxError, _toolbox_error_response)
        routes: list[tuple[str, str, Callable[..., Awaitable[Response]]]] = [
            ("POST", "/api/sandbox", self._create_sandbox),
            ("GET", "/api/sandbox", self._list_sandboxes),
            ("GET", "/api/sandbox/{key}", self._get_sandbox),
            ("DELETE", "/api/sandbox/{key}", self._delete_sandbox),
            ("POST", "/api/sandbox/{key}/start", self._start_sandbox),
            ("POST", "/api/sandbox/{key}/stop", self._stop_sandbox),
            ("GET", "/api/sandbox/{key}/toolbox-proxy-url", self._toolbox_proxy_url),
            ("PUT", "/api/sandbox/{key}/labels", self._replace_labels),
            ("POST", "/api/sandbox/{key}/autostop/{interval}", self._set_auto_stop),
            ("POST", "/api/sandbox/{key}/autodelete/{interval}", self._set_auto_delete),
            ("POST", "/api/sandbox/{key}/ssh-access", self._create_ssh_access),
            ("GET", "/toolbox/{key}/user-home-dir", self._user_home_dir),
            ("GET", "/toolbox/{key}/work-dir", self._work_dir),
            ("POST", "/toolbox/{key}/files/bulk-upload", self._upload_files),
            ("POST", "/toolbox/{key}/files/bulk-download", self._download_files),
            ("GET", "/toolbox/{key}/files", self._list_files),
            ("DELETE", "/toolbox/{key}/files", self._delete_file),
            ("GET", "/toolbox/{key}/files/info", self._file_info),
            ("POST", "/toolbox/{key}/files/folder", self._create_folder),
            ("POST", "/toolbox/{key}/files/move", self._move_file),
            ("POST", "/toolbox/{key}/process/execute", self._execute),
            ("POST", "/toolbox/{key}/process/code-run", self._code_run),
        ]
        for method, path, endpoint in routes:
            app.add_api_route(path, endpoint, methods=[method])
        return app

    async def _record_and_authenticate(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        self.requests.append((request.method, request.url.path))
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return _error(401, "Invalid credentials")
        return await call_next(request)

    def _find(self, key: str) -> _Sandbox | None:
        """A live sandbox by id or name."""
        return self._sandboxes.get(key) or next(
            (sandbox for sandbox in self._sandboxes.values() if sandbox.name == key), None
        )

    def _sandbox_response(self, sandbox: _Sandbox) -> JSONResponse:
        return JSONResponse(sandbox.dto(self._toolbox_url))

    @staticmethod
    def _not_found(key: str) -> JSONResponse:
        return _error(404, f"Sandbox with ID or name {key} not found")

    # Control plane

    async def _create_sandbox(self, request: Request) -> Response:
        if self.fail_create:
            status = self.fail_create.pop(0)
            headers = {"Retry-After": "1"} if status == 429 else None
            return _error(status, f"Injected failure {status}", headers=headers)
        body = await request.json()
        snapshot = body.get("snapshot")
        if snapshot is not None and snapshot not in self.snapshots:
            return _error(
                400, f"Snapshot {snapshot} not found. Did you add it through the Daytona Dashboard?"
            )
        await asyncio.sleep(self.create_latency)
        sandbox_id = str(uuid.uuid4())
        name = body.get("name") or sandbox_id
        if self._find(name):
            return _error(409, f"Sandbox with name {name} already exists")
        sandbox = _Sandbox(
            id=sandbox_id,
            name=name,
            root=self._roots_dir / sandbox_id,
            labels=body.get("labels") or {},
            env=body.get("env") or {},
            auto_stop_interval=body.get("autoStopInterval", 15),
            auto_archive_interval=body.get("autoArchiveInterval", 10080),
            auto_delete_interval=body.get("autoDeleteInterval", -1),
            snapshot=snapshot,
            user=body.get("user") or "daytona",
            target=body.get("target") or "us",
            resources={
                key: int(body.get(key) or default)
                for key, default in (("cpu", 1), ("gpu", 0), ("memory", 1), ("disk", 3))
            },
        )
        sandbox.host_path(SANDBOX_HOME).mkdir(parents=True)
        sandbox.host_path("/workspace").mkdir()
        self._sandboxes[sandbox_id] = sandbox
        return self._sandbox_response(sandbox)

    async def _list_sandboxes(self, request: Request) -> Response:
        params = request.query_params
        wanted_labels: dict[str, str] = json.loads(params.get("labels") or "{}")
        states = set(params.getlist("states"))
        matches = [
            sandbox.dto(self._toolbox_url)
            for sandbox in self._sandboxes.values()
            if wanted_labels.items() <= sandbox.labels.items()
            and (not states or sandbox.state in states)
        ]
        offset = int(params.get("cursor") or 0)
        limit = int(params.get("limit") or 100)
        more = offset + limit < len(matches)
        return JSONResponse(
            {
                "items": matches[offset : offset + limit],
                "nextCursor": str(offset + limit) if more else None,
            }
        )

    async def _get_sandbox(self, key: str) -> Response:
        sandbox = self._find(key)
        return self._sandbox_response(sandbox) if sandbox else self._not_found(key)

    async def _delete_sandbox(self, key: str) -> Response:
        sandbox = self._find(key)
        if not sandbox:
            return self._not_found(key)
        del self._sandboxes[sandbox.id]
        shutil.rmtree(sandbox.root, ignore_errors=True)
        sandbox.state = "destroyed"
        sandbox.updated_at = _now()
        return self._sandbox_response(sandbox)

    async def _set_state(self, key: str, state: str) -> Response:
        sandbox = self._find(key)
        if not sandbox:
            return self._not_found(key)
        sandbox.state = state
        sandbox.updated_at = _now()
        return self._sandbox_response(sandbox)

    async def _start_sandbox(self, key: str) -> Response:
        return await self._set_state(key, "started")

    async def _stop_sandbox(self, key: str) -> Response:
        return await self._set_state(key, "stopped")

    async def _toolbox_proxy_url(self, key: str) -> Response:
        if not self._find(key):
            return self._not_found(key)
        return JSONResponse({"url": self._toolbox_url})

    async def _replace_labels(self, key: str, request: Request) -> Response:
        sandbox = self._find(key)
        if not sandbox:
            return self._not_found(key)
        sandbox.labels = (await request.json())["labels"]
        return JSONResponse({"labels": sandbox.labels})

    async def _set_auto_stop(self, key: str, interval: int) -> Response:
        sandbox = self._find(key)
        if not sandbox:
            return self._not_found(key)
        sandbox.auto_stop_interval = interval
        return self._sandbox_response(sandbox)

    async def _set_auto_delete(self, key: str, interval: int) -> Response:
        sandbox = self._find(key)
        if not sandbox:
            return self._not_found(key)
        sandbox.auto_delete_interval = interval
        return self._sandbox_response(sandbox)

    async def _create_ssh_access(self, key: str, request: Request) -> Response:
        sandbox = self._find(key)
        if not sandbox:
            return self._not_found(key)
        minutes = float(request.query_params.get("expiresInMinutes") or 60)
        token = uuid.uuid4().hex
        created = datetime.now(UTC)
        self.ssh_grants.append({"sandbox_id": sandbox.id, "token": token, "minutes": minutes})
        stamp = created.isoformat().replace("+00:00", "Z")
        return JSONResponse(
            {
                "id": str(uuid.uuid4()),
                "sandboxId": sandbox.id,
                "token": token,
                "expiresAt": (created + timedelta(minutes=minutes))
                .isoformat()
                .replace("+00:00", "Z"),
                "createdAt": stamp,
                "updatedAt": stamp,
                "sshCommand": f"ssh -p 2222 {token}@127.0.0.1",
            }
        )

    # Toolbox

    def _toolbox_target(self, key: str) -> _Sandbox:
        sandbox = self._sandboxes.get(key)
        if sandbox is None:
            raise _ToolboxError(self._not_found(key))
        if sandbox.state != "started":
            raise _ToolboxError(_error(409, f"Sandbox {key} is {sandbox.state}, not started"))
        return sandbox

    async def _user_home_dir(self, key: str) -> Response:
        self._toolbox_target(key)
        return JSONResponse({"dir": SANDBOX_HOME})

    async def _work_dir(self, key: str) -> Response:
        self._toolbox_target(key)
        return JSONResponse({"dir": SANDBOX_WORK_DIR})

    async def _upload_files(self, key: str, request: Request) -> Response:
        sandbox = self._toolbox_target(key)
        uploaded: list[dict[str, Any]] = []
        async with request.form() as form:
            for field_name, value in form.multi_items():
                index = _UPLOAD_FIELD.fullmatch(field_name)
                if not index or not isinstance(value, UploadFile):
                    continue
                path = str(form.get(f"files[{index.group(1)}].path") or value.filename)
                target = sandbox.host_path(path)
                target.parent.mkdir(parents=True, exist_ok=True)
                data = await value.read()
                target.write_bytes(data)
                uploaded.append({"path": sandbox.sandbox_path(target), "bytes": len(data)})
        return JSONResponse({"files": uploaded, "errors": []})

    async def _download_files(self, key: str, request: Request) -> Response:
        sandbox = self._toolbox_target(key)
        paths: list[str] = (await request.json()).get("paths") or []
        if not paths:
            return _error(400, 'request body must be {"paths": [ ... ]} and non-empty')
        parts: list[tuple[dict[str, str], bytes]] = []
        for path in paths:
            target = sandbox.host_path(path)
            if target.is_file():
                headers = {
                    "Content-Disposition": _content_disposition("file", path),
                    "Content-Type": "application/octet-stream",
                }
                parts.append((headers, target.read_bytes()))
                continue
            status, code, message = (
                (400, "INVALID_FILE_PATH", f"path is a directory: {path}")
                if target.is_dir()
                else (404, "FILE_NOT_FOUND", f"file not found: {path}")
            )
            error = {"message": message, "statusCode": status, "code": code}
            headers = {
                "Content-Disposition": _content_disposition("error", path),
                "Content-Type": "application/json",
            }
            parts.append((headers, json.dumps(error | {"source": DAEMON_SOURCE}).encode()))
        return Response(
            _multipart(parts),
            media_type=f"multipart/form-data; boundary={MULTIPART_BOUNDARY}",
        )

    async def _list_files(self, key: str, path: str = ".", depth: int = 1) -> Response:
        sandbox = self._toolbox_target(key)
        folder = sandbox.host_path(path)
        if not folder.is_dir():
            return _error(404, f"directory not found: {path}", code="FILE_NOT_FOUND")

        def walk(directory: Path, level: int) -> Iterator[dict[str, Any]]:
            for entry in sorted(directory.iterdir()):
                yield _describe(sandbox, entry)
                if level < depth and entry.is_dir():
                    yield from walk(entry, level + 1)

        return JSONResponse(list(walk(folder, 1)))

    async def _file_info(self, key: str, path: str) -> Response:
        sandbox = self._toolbox_target(key)
        target = sandbox.host_path(path)
        if not target.exists():
            return _error(404, f"file not found: {path}", code="FILE_NOT_FOUND")
        return JSONResponse(_describe(sandbox, target))

    async def _create_folder(self, key: str, path: str, mode: str = "755") -> Response:
        target = self._toolbox_target(key).host_path(path)
        target.mkdir(parents=True, exist_ok=True)
        target.chmod(int(mode, 8))
        return Response()

    async def _delete_file(self, key: str, path: str, recursive: bool = False) -> Response:
        target = self._toolbox_target(key).host_path(path)
        if not target.exists():
            return _error(404, f"file not found: {path}", code="FILE_NOT_FOUND")
        if target.is_dir():
            if not recursive:
                return _error(400, f"{path} is a directory; pass recursive=true")
            shutil.rmtree(target)
        else:
            target.unlink()
        return Response()

    async def _move_file(self, key: str, source: str, destination: str) -> Response:
        sandbox = self._toolbox_target(key)
        origin = sandbox.host_path(source)
        if not origin.exists():
            return _error(404, f"file not found: {source}", code="FILE_NOT_FOUND")
        origin.replace(sandbox.host_path(destination))
        return Response()

    async def _execute(self, key: str, request: Request) -> Response:
        sandbox = self._toolbox_target(key)
        body = await request.json()
        cwd = body.get("cwd") or SANDBOX_WORK_DIR
        if not sandbox.host_path(cwd).is_dir():
            return JSONResponse(
                {"exitCode": -1, "result": f"chdir {cwd}: no such file or directory"}
            )
        shell = shutil.which("bash") or "/bin/sh"
        command = sandbox.to_host(body["command"])
        outcome = await _run(
            sandbox,
            [shell, "-c", command],
            sandbox.host_path(cwd),
            body.get("envs"),
            body.get("timeout"),
        )
        if outcome is None:
            return _timed_out(body.get("timeout"))
        exit_code, output = outcome
        return JSONResponse({"exitCode": exit_code, "result": output})

    async def _code_run(self, key: str, request: Request) -> Response:
        sandbox = self._toolbox_target(key)
        body = await request.json()
        if body.get("language", "python") != "python":
            return _error(400, f"unsupported language: {body['language']}")
        argv = [sys.executable, "-c", sandbox.to_host(body["code"]), *(body.get("argv") or [])]
        outcome = await _run(
            sandbox,
            argv,
            sandbox.host_path(SANDBOX_WORK_DIR),
            body.get("envs"),
            body.get("timeout"),
        )
        if outcome is None:
            return _timed_out(body.get("timeout"))
        exit_code, output = outcome
        return JSONResponse({"exitCode": exit_code, "result": output, "artifacts": {"charts": []}})
