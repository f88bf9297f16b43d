"""`codreamer`: dream a knowledge graph from the command line.

This module only assembles the app from the command modules in `codreamer_cli/` and runs it.
Only typer, rich and the standard library load with it, so `--help` and a bad argument answer at
once: each command imports the (heavy) modules it needs when it runs."""

import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from codreamer_cli.console import print_error
from codreamer_cli.dreams import dream, export, fork, resume
from codreamer_cli.evaluation import compare, evaluate
from codreamer_cli.library import graphs_app, library_app, list_past_dreams, search, stats
from codreamer_cli.sandboxes import sandboxes_app
from codreamer_cli.serve import serve

app = typer.Typer(
    help="Dream a knowledge graph from a customer's job to a product.", no_args_is_help=True
)
CRASH_LOGS = Path(".codreamer", "logs")
debug_mode = False


@app.callback()
def _root(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the traceback of an unexpected error.")
    ] = False,
) -> None:
    """CoDreamer."""
    global debug_mode
    debug_mode = debug


app.command()(dream)
app.command()(resume)
app.command()(fork)
app.command()(export)
app.command("list")(list_past_dreams)
app.command()(serve)
app.command()(search)
app.command()(stats)
app.command("eval")(evaluate)
app.command()(compare)
app.add_typer(graphs_app, name="graphs")
app.add_typer(library_app, name="library")
app.add_typer(sandboxes_app, name="sandboxes")


def main() -> None:
    """Run the CLI: bad settings exit 2 and a bug prints one line (and where its traceback is),
    unless `--debug` asks for the traceback itself."""
    try:
        app()
    except Exception as error:
        from core.settings import SettingsError

        if isinstance(error, SettingsError):
            print_error(error)
            sys.exit(2)
        if debug_mode:
            raise
        print_error(
            f"unexpected {type(error).__name__}: {error} (a bug: the traceback is in "
            f"{crash_log()}; `codreamer --debug ...` shows it here)"
        )
        sys.exit(1)


def crash_log() -> Path:
    """Write the current exception's traceback to a new file under .codreamer/logs; its path."""
    from core.settings import redact

    CRASH_LOGS.mkdir(parents=True, exist_ok=True)
    path = (CRASH_LOGS / f"crash-{datetime.now(UTC):%Y%m%d-%H%M%S-%f}.log").resolve()
    path.write_text(redact(traceback.format_exc()), encoding="utf-8")
    return path
