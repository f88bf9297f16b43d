"""The `daytona` SDK's client, one per event loop, and its errors as our `SandboxError`s."""

import asyncio
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

import engineio.async_client
from daytona import (
    AsyncDaytona,
    DaytonaConfig,
    DaytonaError,
    DaytonaNotFoundError,
    DaytonaRateLimitError,
)

from core.settings import redact
from sandbox.base import SandboxError, SandboxGoneError

# The SDK's Socket.IO client (engineio) would take over SIGINT on the event loop when it
# connects, cancelling every task instead of letting uvicorn or the CLI shut down cleanly;
# marking its handler as already set keeps our own Ctrl-C handling.
engineio.async_client.async_signal_handler_set = True

ClientKey = tuple[str | None, str | None, str | None]
"""What tells two SDK clients apart: the API URL, the API key and the target."""
_clients_by_loop: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[ClientKey, AsyncDaytona]
] = weakref.WeakKeyDictionary()


def client_for(config: DaytonaConfig) -> AsyncDaytona:
    """One SDK client per event loop and configuration (its HTTP session is loop-bound)."""
    clients = _clients_by_loop.setdefault(asyncio.get_running_loop(), {})
    key = (config.api_url, config.api_key, config.target)
    if key not in clients:
        clients[key] = AsyncDaytona(config)
    return clients[key]


async def close_clients() -> None:
    """Close this event loop's SDK clients (call before the loop ends)."""
    clients = _clients_by_loop.pop(asyncio.get_running_loop(), {})
    for client in clients.values():
        await client.close()


@contextmanager
def translated(action: str, sandbox_id: str | None) -> Iterator[None]:
    """Turn SDK errors into `SandboxError`s that name Daytona, the action and the cause
    (`SandboxGoneError` when the sandbox is not there)."""
    try:
        yield
    except DaytonaError as error:
        where = f"sandbox {sandbox_id}" if sandbox_id else "Daytona"
        message = f"Daytona: {action} in {where} failed: {describe_error(error)}"
        if is_not_found(error):
            raise SandboxGoneError(message) from None
        raise SandboxError(message) from None


def is_not_found(error: DaytonaError) -> bool:
    return isinstance(error, DaytonaNotFoundError) or getattr(error, "status_code", None) == 404


def describe_error(error: DaytonaError) -> str:
    """The cause of an SDK error: its HTTP status and message, secrets redacted."""
    status = getattr(error, "status_code", None)
    text = redact(str(error).strip() or type(error).__name__)
    if isinstance(error, DaytonaRateLimitError):
        retry_after = (getattr(error, "headers", None) or {}).get("Retry-After")
        wait = f", retry after {retry_after} s" if retry_after else ""
        return f"rate limited (HTTP 429{wait}): {text}"
    return f"HTTP {status}: {text}" if status else text
