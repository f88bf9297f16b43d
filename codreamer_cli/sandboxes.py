"""`codreamer sandboxes`: list, prune or SSH into the sandboxes of our dreams."""

import asyncio
import sys
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from codreamer_cli.console import closing_clients, console, reported_errors, terminal_cell
from codreamer_cli.options import DreamIdArgument
from core.safe_text import for_terminal

sandboxes_app = typer.Typer(
    help="List, delete or SSH into CoDreamer's sandboxes, crashed runs' included."
)
BackendOption = Annotated[
    str | None,
    typer.Option("--backend", help="'daytona' or 'local' (default: daytona if USE_DAYTONA)."),
]


@sandboxes_app.command("list")
def list_sandboxes(backend: BackendOption = None) -> None:
    """List every workspace of ours the backend holds, and the warm-pool sandboxes no dream
    has claimed yet (column pool); the dreams' ids go to stdout."""
    from sandbox import WorkspaceService, get_backend

    with reported_errors():
        chosen = get_backend(backend_name(backend))
    with reported_errors():
        infos = asyncio.run(closing_clients(WorkspaceService(chosen).list_all()))
    table = Table(
        "workspace", "sandbox", "state", "pool", "path", title=f"{chosen.name} workspaces"
    )
    for info in infos:
        table.add_row(
            *(
                terminal_cell(text)
                for text in (
                    "-" if info.pool else info.id,
                    info.sandbox_id or "-",
                    info.state,
                    info.pool or "-",
                    info.path,
                )
            )
        )
    console.print(table)
    sys.stdout.write("".join(f"{info.id}\n" for info in infos if info.pool is None))


@sandboxes_app.command("prune")
def prune_sandboxes(backend: BackendOption = None) -> None:
    """Delete every sandbox of ours (Daytona), including those left by crashed runs."""
    from sandbox import WorkspaceService, get_backend

    with reported_errors():
        chosen = get_backend(backend_name(backend))
    if not chosen.disposable:
        raise typer.BadParameter(
            f"{chosen.name} workspaces are kept on purpose; delete their folders by hand",
            param_hint="--backend",
        )
    with reported_errors():
        deleted = asyncio.run(closing_clients(WorkspaceService(chosen).destroy_all()))
    console.print(f"deleted {len(deleted)} sandbox(es)", highlight=False)
    sys.stdout.write("".join(f"{workspace_id}\n" for workspace_id in deleted))


@sandboxes_app.command("ssh")
def ssh_sandbox(
    dream_id: DreamIdArgument,
    minutes: Annotated[
        int, typer.Option("--minutes", min=1, help="How long the SSH access lasts.")
    ] = 60,
) -> None:
    """Print the SSH command Daytona issues for a dream's kept sandbox (started if stopped)."""
    from core.settings import get_settings
    from sandbox.daytona import DaytonaBackend, SshAccess
    from sandbox.factory import close_backend_clients

    async def issued(daytona: DaytonaBackend) -> SshAccess:
        try:
            return await daytona.ssh_access(dream_id, minutes)
        finally:
            await close_backend_clients()  # the only clients it opens (no dream modules load)

    with reported_errors():
        access = asyncio.run(issued(DaytonaBackend.from_settings(get_settings())))
    expires = access.expires_at.isoformat(timespec="seconds")
    console.print(
        Text(for_terminal(f"sandbox {access.sandbox_id} of {dream_id}; access until {expires}"))
    )
    sys.stdout.write(for_terminal(access.command) + "\n")


def backend_name(option: str | None) -> str:
    from core.settings import get_settings

    if option in (None, ""):
        return get_settings().sandbox
    if option not in ("daytona", "local"):
        raise typer.BadParameter("use 'daytona' or 'local'", param_hint="--backend")
    return option
