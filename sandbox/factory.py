"""Pick a sandbox backend by name; backends are imported only when chosen."""

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from core.settings import get_settings
from sandbox.base import SandboxBackend


def get_backend(name: str) -> SandboxBackend:
    """The backend called `name` ("local" or "daytona"), configured from settings.

    With DAYTONA_POOL_SIZE > 0 the Daytona backend claims a warm-pool sandbox (any server's)
    for a new dream when one is ready, and creates one only when none is.
    """
    settings = get_settings()
    if name == "local":
        from sandbox.local import LocalBackend

        return LocalBackend(settings.workspaces_dir)
    if name == "daytona":
        if settings.daytona_pool_size:
            from sandbox.pool import PooledDaytonaBackend

            return PooledDaytonaBackend.from_settings(settings)
        from sandbox.daytona import DaytonaBackend

        return DaytonaBackend.from_settings(settings)
    raise ValueError(f"unknown sandbox {name!r}: use 'local' or 'daytona'")


def default_sandbox() -> str:
    """The backend dreams use unless a run says otherwise: "daytona" with USE_DAYTONA."""
    return get_settings().sandbox


@asynccontextmanager
async def warm_pool() -> AsyncIterator[None]:
    """With USE_DAYTONA and DAYTONA_POOL_SIZE > 0, keep that many started Daytona sandboxes
    ready for dreams while the block runs (filled in the background), and delete the ones no
    dream claimed when it ends. A server runs its whole life in this block."""
    settings = get_settings()
    if not (settings.use_daytona and settings.daytona_pool_size):
        yield
        return
    from sandbox.pool import PooledDaytonaBackend, WarmPool

    pool = WarmPool(PooledDaytonaBackend.from_settings(settings), settings.daytona_pool_size)
    pool.start()
    try:
        yield
    finally:
        await pool.stop()


async def close_backend_clients() -> None:
    """Close the SDK clients this event loop opened (only a backend that was chosen has any)."""
    daytona = sys.modules.get("sandbox.daytona_client")
    if daytona is not None:
        await daytona.close_clients()
