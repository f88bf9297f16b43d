"""`codreamer serve`: the REST API, checked at start-up."""

from typing import Annotated

import typer

from codreamer_cli.console import print_error


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(envvar="PORT", min=1, max=65535, help="Port (or PORT).")
    ] = 3457,
) -> None:
    """Serve the REST API (`POST /api/v1/dream`), its SSE stream and LangServe at /dream."""
    import uvicorn

    from core.settings import SettingsError, get_settings
    from sandbox import SandboxError, get_backend

    try:
        settings = get_settings()
        get_backend(settings.sandbox)
    except (SettingsError, SandboxError) as error:
        print_error(error)
        raise typer.Exit(2) from None
    uvicorn.run("server:app", host=host, port=port)
