"""Workspaces for dreams: the protocol, local and Daytona backends, the seed's service API."""

from sandbox.base import (
    ExecResult,
    SandboxBackend,
    SandboxError,
    SandboxGoneError,
    SandboxPathError,
    Workspace,
    WorkspaceInfo,
)
from sandbox.factory import get_backend
from sandbox.service import WorkspaceService

__all__ = [
    "ExecResult",
    "SandboxBackend",
    "SandboxError",
    "SandboxGoneError",
    "SandboxPathError",
    "Workspace",
    "WorkspaceInfo",
    "WorkspaceService",
    "get_backend",
]
