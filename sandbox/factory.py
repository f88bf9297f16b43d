"""Pick a sandbox backend by name; backends are imported only when chosen."""

import sys

from core.settings import get_settings
from sandbox.base import SandboxBackend


def get_backend(name: str) -> SandboxBackend:
    """The backend called `name` ("local" or "daytona"), configured from settings."""
    settings = get_settings()
    if name == "local":
        from sandbox.local import LocalBackend

        return LocalBackend(settings.workspaces_dir)
    if name == "daytona":
        from sandbox.daytona import DaytonaBackend

        return DaytonaBackend.from_settings(settings)
    raise ValueError(f"unknown sandbox {name!r}: use 'local' or 'daytona'")


def default_sandbox() -> str:
    """The backend dreams use unless a run says otherwise: "daytona" with USE_DAYTONA."""
    return get_settings().sandbox


async def close_backend_clients() -> None:
    """Close the SDK clients this event loop opened (only a backend that was chosen has any)."""
    daytona = sys.modules.get("sandbox.daytona")
    if daytona is not None:
        await daytona.close_clients()
