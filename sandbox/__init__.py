"""Workspaces for dreams: the protocol, the local and Daytona backends, and the seed's service API."""

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
