"""Commands that run a dream or read one back: dream, resume, fork, export."""

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

from codreamer_cli.console import closing_clients, console, print_error, reported_errors
from codreamer_cli.options import DreamIdArgument, checked_dream_id
from codreamer_cli.summary import show
from core.safe_text import for_terminal

if TYPE_CHECKING:
    from core.state import DreamInput
    from graph.runner import DreamEvent


EXPORT_FORMATS = ("json", "graphml", "mermaid", "cypher", "html")
"""`outputs.exports.FORMATS` and "html", written out so that `--help` needs no import."""
OPTION_OF_FIELD = {
    "customer": "--customer",
    "product": "--product",
    "children_count": "--children",
    "generations_count_int": "--generations",
}
FORK_OPTIONS = {
    "generation": "--from-generation",
    "temperature": "--temperature",
    "model": "--model",
}


def dream(
    customer: Annotated[str, typer.Option(help="The customer and the job they need done.")],
    product: Annotated[str, typer.Option(help="The product.")],
    children: Annotated[int, typer.Option(min=1, max=10, help="K: children per node (1-10).")] = 2,
    generations: Annotated[int, typer.Option(min=1, max=6, help="G: generations (1-6).")] = 3,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the result as JSON on stdout.")
    ] = False,
    verify: Annotated[
        bool | None,
        typer.Option(
            "--verify/--no-verify",
            help="Check every idea with a web search (needs TAVILY_API_KEY; default: "
            "CODREAMER_VERIFY).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Grow a graph from the Customer Job, K children per node for G generations."""
    from core.settings import SettingsError, get_settings

    try:  # bad settings first (exit 2), before the dream's heavy modules load
        get_settings()
    except SettingsError as error:
        print_error(error)
        raise typer.Exit(2) from None
    dream_input = validated_input(customer, product, children, generations)
    from core.context import InvalidRunSettingsError, validated_context
    from graph.runner import stream_dream
    from nodes.create_workspace import new_workspace_id

    try:
        context = validated_context({} if verify is None else {"verify": verify})
    except InvalidRunSettingsError as error:
        print_error(str(error).replace("run setting verify", "--verify"))
        raise typer.Exit(2) from None
    workspace_id = new_workspace_id()
    console.print(f"dream: {workspace_id}", highlight=False)
    with reported_errors():
        events = stream_dream(dream_input, context, workspace_id)
        output = asyncio.run(closing_clients(show_progress(events)))
    show(output, as_json=as_json)


def resume(
    workspace_id: Annotated[
        str,
        typer.Argument(callback=checked_dream_id, help="The dream's workspace id (`dream: ...`)."),
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the result as JSON on stdout.")
    ] = False,
) -> None:
    """Finish a dream that stopped (crash, kill) from the checkpoints in its workspace."""
    from graph.runner import stream_resume

    console.print(f"dream: {workspace_id}", highlight=False)
    with reported_errors():
        output = asyncio.run(closing_clients(show_progress(stream_resume(workspace_id))))
    show(output, as_json=as_json)


def fork(
    source_id: DreamIdArgument,
    from_generation: Annotated[
        int,
        typer.Option(
            "--from-generation",
            min=0,
            help="Keep the source's generations 0..N as they are (0: only the anchors).",
        ),
    ],
    temperature: Annotated[
        float | None,
        typer.Option(help="Sampling temperature (0-2; default: the source's).", show_default=False),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(help="Chat model, one this install serves (default: the source's)."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the result as JSON on stdout.")
    ] = False,
) -> None:
    """Start a new dream from a dream's generation N: keep generations up to N, grow the rest.

    Only the regrown part costs LLM calls."""
    from core.context import InvalidRunSettingsError
    from graph.fork import stream_fork
    from nodes.create_workspace import new_workspace_id

    workspace_id = new_workspace_id()
    console.print(f"dream: {workspace_id}", highlight=False)
    events = stream_fork(
        source_id, from_generation, workspace_id, temperature=temperature, model=model
    )
    with reported_errors():
        try:
            output = asyncio.run(closing_clients(show_progress(events)))
        except InvalidRunSettingsError as error:
            if error.field not in FORK_OPTIONS:
                raise
            message = str(error).removeprefix(f"run setting {error.field}: ")
            print_error(f"{FORK_OPTIONS[error.field]}: {message}")
            raise typer.Exit(2) from None
    show(output, as_json=as_json)


def validated_input(customer: str, product: str, children: int, generations: int) -> "DreamInput":
    """The dream's input, or a usage error (exit 2) naming the offending option."""
    from pydantic import ValidationError

    from core.state import DreamInput

    try:
        return DreamInput(
            customer=customer,
            product=product,
            children_count=children,
            generations_count_int=generations,
        )
    except ValidationError as error:
        first = error.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else ""
        option = OPTION_OF_FIELD.get(field, "--children/--generations")
        raise typer.BadParameter(
            first["msg"].removeprefix("Value error, "), param_hint=option
        ) from None


async def show_progress(events: AsyncIterator["DreamEvent"]) -> dict[str, Any]:
    """Print a line per generation (and a live status) from a dream's events; its output."""
    output: dict[str, Any] = {}
    with console.status("starting", spinner="dots") as status:
        async for event in events:
            if event[0] == "result":
                output = event[1]
                continue
            data = event[1]
            counts = f"{data['nodes']}/{data['total']} nodes, {data['llm_calls']} LLM calls"
            if data["generation"] is not None:
                console.log(f"generation {data['generation']}/{data['generations']}: {counts}")
            status.update(f"{data['step']}: {counts}")
    return output


def export(
    source: Annotated[str, typer.Argument(help="A results.json file, or a dream's workspace id.")],
    fmt: Annotated[
        str, typer.Option("--format", help=f"One of: {', '.join(EXPORT_FORMATS)}.")
    ] = "json",
    out: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write here instead of stdout.")
    ] = None,
) -> None:
    """Export a dream as JSON, GraphML, Mermaid, a self-contained HTML viewer, or Cypher."""
    if fmt not in EXPORT_FORMATS:
        raise typer.BadParameter(f"use one of: {', '.join(EXPORT_FORMATS)}", param_hint="--format")
    from outputs.exports import export_dream
    from outputs.viewer import to_html

    output = load_output(source)
    text = to_html(output) if fmt == "html" else export_dream(output, fmt)
    if out is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        out.write_text(text, encoding="utf-8")
        console.print(Text(for_terminal(f"wrote {out.resolve()}")))


def load_output(source: str) -> dict[str, Any]:
    """A dream's output from a results.json path or a workspace id; a usage error if neither."""
    from outputs.history import UnreadableResultsError, load_dream, parse_results
    from sandbox.base import WORKSPACE_ID_RULE, is_workspace_id

    path = Path(source)
    if is_file(path):
        try:
            return parse_results(path.read_bytes())
        except (OSError, UnreadableResultsError) as error:
            raise typer.BadParameter(f"{source!r}: {error}", param_hint="SOURCE") from None
    if not is_workspace_id(source):
        raise typer.BadParameter(
            f"{source[:40]!r} is neither a file nor a dream id ({WORKSPACE_ID_RULE})",
            param_hint="SOURCE",
        )
    try:
        with reported_errors():
            output = asyncio.run(closing_clients(load_dream(source)))
    except UnreadableResultsError as error:
        raise typer.BadParameter(
            f"dream {source!r} has unreadable results: {error}; run it again", param_hint="SOURCE"
        ) from None
    if output is None:
        raise typer.BadParameter(
            f"no results.json and no finished dream {source!r}", param_hint="SOURCE"
        )
    return output


def is_file(path: Path) -> bool:
    """Whether `path` is a file; False for a name the system cannot even look up (too long)."""
    try:
        return path.is_file()
    except OSError:
        return False
