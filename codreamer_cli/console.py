"""What every command shares: the stderr console, table cells, one-line errors and the clients
a command closes. Only typer, rich and the standard library load with it."""

from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar

import typer
from rich.console import Console
from rich.table import Column
from rich.text import Text

from core.safe_text import for_terminal

if TYPE_CHECKING:
    from library import DreamLibrary

ResultT = TypeVar("ResultT")
console = Console(stderr=True, log_path=False)


def dream_column() -> Column:
    """A table column for dream ids, never cut: users copy them into other commands."""
    return Column("dream", no_wrap=True, min_width=len("dream-20261129-093100-1a2b3c4d"))


def terminal_cell(text: str, limit: int | None = None) -> Text:
    """Model or user text for a table cell: no escape codes, controls or markup; cut at `limit`
    (with an ellipsis, so a cut text does not pass for a whole one)."""
    safe = for_terminal(text)
    if limit is not None and len(safe) > limit:
        safe = safe[: limit - 1] + "…"
    return Text(safe)


def print_error(error: Exception | str) -> None:
    """One `error:` line on stderr; the message shows as plain text, never markup or escapes."""
    console.print(Text.assemble(("error:", "red"), " ", for_terminal(str(error))), soft_wrap=True)


@contextmanager
def reported_errors() -> Iterator[None]:
    """Turn a failed dream or sandbox call into a one-line error and exit code 1."""
    try:
        yield
    except Exception as error:
        if not isinstance(error, expected_failures()):
            raise
        print_error(error)
        raise typer.Exit(1) from None


def expected_failures() -> tuple[type[Exception], ...]:
    """Failures a user can act on: one `error:` line and exit code 1, never a traceback.

    Imported when an error arrives, not with the CLI (their modules are the heavy ones)."""
    from core.context import InvalidRunSettingsError
    from evaluation import JudgeUnavailableError
    from evaluation.stored import GraphNotFoundError
    from nodes.create_workspace import InvalidDreamInputError
    from nodes.errors import NoUsableAnswerError
    from nodes.structured_call import LLMUnavailableError
    from sandbox import SandboxError
    from sandbox.lease import DreamAlreadyRunningError

    return (
        LLMUnavailableError,
        NoUsableAnswerError,
        DreamAlreadyRunningError,
        InvalidRunSettingsError,
        InvalidDreamInputError,
        SandboxError,
        GraphNotFoundError,
        JudgeUnavailableError,
    )


@contextmanager
def library_errors() -> Iterator[None]:
    """A library that cannot be opened or searched: one `error:` line and exit code 1."""
    from embeddings import EmbeddingsUnavailableError
    from library import LibraryUnavailableError

    try:
        yield
    except (LibraryUnavailableError, EmbeddingsUnavailableError) as error:
        print_error(error)
        raise typer.Exit(1) from None


def opened_library() -> "DreamLibrary":
    from library import get_library

    return get_library()


async def closing_clients(work: Awaitable[ResultT]) -> ResultT:
    """Await `work`, then close the sandbox SDK clients this event loop opened."""
    from graph.runner import close_clients

    try:
        return await work
    finally:
        await close_clients()
