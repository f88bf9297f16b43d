"""`codreamer`: dream a knowledge graph from the command line.

Only typer, rich and the standard library load with this module, so `--help` and a bad
argument answer at once: each command imports the (heavy) modules it needs when it runs."""

import asyncio
import sys
import traceback
from collections.abc import AsyncIterator, Awaitable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Column, Table
from rich.text import Text

from core.safe_text import for_terminal, json_for_terminal
from core.workspace_layout import VIEWER_FILE

if TYPE_CHECKING:
    from core.state import DreamInput
    from graph.runner import DreamEvent
    from library import DreamLibrary
    from outputs.history import DreamSummary

app = typer.Typer(
    help="Dream a knowledge graph from a customer's job to a product.", no_args_is_help=True
)
ResultT = TypeVar("ResultT")
EXPORT_FORMATS = ("json", "graphml", "mermaid", "cypher", "html")
"""`outputs.exports.FORMATS` and "html", written out so that `--help` needs no import."""
console = Console(stderr=True, log_path=False)
OPTION_OF_FIELD = {
    "customer": "--customer",
    "product": "--product",
    "children_count": "--children",
    "generations_count_int": "--generations",
}

CustomerFilter = Annotated[
    str, typer.Option("--customer", help="Only dreams whose customer contains this (any case).")
]
ProductFilter = Annotated[
    str, typer.Option("--product", help="Only dreams whose product contains this (any case).")
]
LimitOption = Annotated[int, typer.Option("--limit", min=1, max=100, help="How many (1-100).")]
OffsetOption = Annotated[int, typer.Option("--offset", min=0, help="How many to skip.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")]

CRASH_LOGS = Path(".codreamer", "logs")


def dream_column() -> Column:
    """A table column for dream ids, never cut: users copy them into other commands."""
    return Column("dream", no_wrap=True, min_width=len("dream-20261129-093100-1a2b3c4d"))


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


@app.command()
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


def checked_dream_id(value: str) -> str:
    """A dream id argument, or a usage error (exit 2) that says what a dream id looks like."""
    from sandbox.base import WorkspaceIdError, check_workspace_id

    try:
        return check_workspace_id(value)
    except WorkspaceIdError as error:
        raise typer.BadParameter(str(error)) from None


DreamIdArgument = Annotated[
    str, typer.Argument(callback=checked_dream_id, help="The dream's id (`dream: ...`).")
]


@app.command()
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


FORK_OPTIONS = {
    "generation": "--from-generation",
    "temperature": "--temperature",
    "model": "--model",
}


@app.command()
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
    """Start a new dream from a dream's checkpoint after generation N: generations up to N
    are kept exactly, the rest are grown again (only they cost LLM calls)."""
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


@app.command()
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


@app.command("list")
def list_past_dreams(
    customer: CustomerFilter = "",
    product: ProductFilter = "",
    limit: LimitOption = 20,
    offset: OffsetOption = 0,
    workspaces: Annotated[
        bool,
        typer.Option(
            "--workspaces",
            help="List the workspaces instead, stopped and broken dreams included.",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print them as JSON on stdout.")] = False,
) -> None:
    """List stored dreams, newest first, a page at a time (or the workspaces)."""
    if workspaces:
        list_workspaces(as_json=as_json)
    else:
        list_graphs(customer, product, limit, offset, as_json)


def list_workspaces(*, as_json: bool) -> None:
    """Every dream in the workspaces, whether it finished, stopped or broke."""
    with reported_errors():
        dreams = asyncio.run(closing_clients(list_dreams()))
    if as_json:
        sys.stdout.write(json_for_terminal(dreams) + "\n")
        return
    table = Table("dream", "status", "nodes", "time", "cost", "customer", "product")
    for item in dreams:
        seconds = item["generation_time_ms"]
        table.add_row(
            terminal_cell(item["id"]),
            terminal_cell(item["status"]),
            str(item["nodes"] or "-"),
            "-" if seconds is None else f"{seconds / 1000:.1f} s",
            "-" if item["cost_usd"] is None else f"${item['cost_usd']:.4f}",
            terminal_cell(item["customer"] or "-", 40),
            terminal_cell(item["product"] or "-", 40),
        )
    console.print(table)
    for item in dreams:
        if item["reason"]:
            console.print(Text(for_terminal(f"{item['id']} is broken: {item['reason']}")))


async def list_dreams() -> "list[DreamSummary]":
    """Past dreams, as `outputs.history` lists them."""
    from outputs import history

    return await history.list_dreams()


def terminal_cell(text: str, limit: int | None = None) -> Text:
    """Model or user text for a table cell: no escape codes, controls or markup; cut at `limit`
    (with an ellipsis, so a cut text does not pass for a whole one)."""
    safe = for_terminal(text)
    if limit is not None and len(safe) > limit:
        safe = safe[: limit - 1] + "…"
    return Text(safe)


@app.command()
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


graphs_app = typer.Typer(help="The dream library: stored dreams, to list, show or delete.")
app.add_typer(graphs_app, name="graphs")
library_app = typer.Typer(help="Look after the dream library.")
app.add_typer(library_app, name="library")


@graphs_app.command("list")
def list_graphs(
    customer: CustomerFilter = "",
    product: ProductFilter = "",
    limit: LimitOption = 20,
    offset: OffsetOption = 0,
    as_json: JsonOption = False,
) -> None:
    """Stored dreams, newest first, a page at a time."""
    with library_errors():
        page = opened_library().graphs(
            customer=customer, product=product, limit=limit, offset=offset
        )
    if as_json:
        sys.stdout.write(json_for_terminal(page) + "\n")
        return
    table = Table(dream_column(), "nodes", "time", "cost", "customer", "product")
    for item in page["graphs"]:
        cost = item["costUsd"]
        table.add_row(
            terminal_cell(item["id"]),
            str(item["nodeCount"]),
            f"{item['generationTimeMs'] / 1000:.1f} s",
            "-" if cost is None else f"${cost:.4f}",
            terminal_cell(item["customer"], 40),
            terminal_cell(item["product"], 40),
        )
    console.print(table)
    shown = f"{offset + 1}-{offset + len(page['graphs'])}" if page["graphs"] else "none"
    console.print(f"{shown} of {page['total']} stored dreams", highlight=False)


@graphs_app.command("show")
def show_graph(graph_id: DreamIdArgument, as_json: JsonOption = False) -> None:
    """A stored dream: its summary, or with --json the whole record."""
    with library_errors():
        record = opened_library().get(graph_id)
    if record is None:
        print_error(f"no stored dream {graph_id!r} (`codreamer list` shows them)")
        raise typer.Exit(1)
    if as_json:
        sys.stdout.write(json_for_terminal(record) + "\n")
        return
    print_summary({"nodes": record["nodes"], "metadata": record["metadata"]})


@graphs_app.command("delete")
def delete_graph(
    graph_id: DreamIdArgument,
    purge: Annotated[
        bool, typer.Option("--purge", help="Delete its workspace (or kept sandbox) too.")
    ] = False,
) -> None:
    """Remove a stored dream from the library (and its nodes from search)."""
    from library.purge import purge_workspace

    with library_errors():
        library = opened_library()
        record = library.get(graph_id)
    if record is None:
        print_error(f"no stored dream {graph_id!r}")
        raise typer.Exit(1)
    if purge:
        with reported_errors():
            asyncio.run(closing_clients(purge_workspace(record)))
    with library_errors():
        library.delete(graph_id)
    also = " and its workspace" if purge else ""
    console.print(Text(for_terminal(f"deleted {graph_id}{also}")))


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to look for, in words.")],
    limit: Annotated[int, typer.Option("--limit", min=1, max=100, help="How many (1-100).")] = 10,
    customer: CustomerFilter = "",
    product: ProductFilter = "",
    min_score: Annotated[
        float, typer.Option("--min-score", min=0.0, max=1.0, help="Least similarity (0-1).")
    ] = 0.5,
    as_json: JsonOption = False,
) -> None:
    """Search the nodes of every stored dream by meaning."""
    if not query.strip():
        raise typer.BadParameter("say what to look for", param_hint="QUERY")
    with library_errors():
        hits = opened_library().search_nodes(
            query, limit=limit, customer=customer, product=product, min_score=min_score
        )
    if as_json:
        sys.stdout.write(json_for_terminal(hits) + "\n")
        return
    table = Table("score", "node", dream_column(), "customer")
    for hit in hits:
        node = hit["node"]
        table.add_row(
            f"{hit['score']:.2f}",
            terminal_cell(f"{node['name']}: {node['content']}", 70),
            terminal_cell(hit["graphId"]),
            terminal_cell(hit["customer"], 30),
        )
    console.print(table)
    nodes = "node" if len(hits) == 1 else "nodes"
    console.print(f"{len(hits)} {nodes} at similarity {min_score} or more", highlight=False)


@app.command()
def stats(as_json: JsonOption = False) -> None:
    """How many dreams and nodes the library holds."""
    with library_errors():
        library = opened_library()
        figures = {**library.stats(), "searchableNodes": library.search_stats()["totalNodes"]}
    if as_json:
        sys.stdout.write(json_for_terminal(figures) + "\n")
        return
    table = Table(title="dream library", show_header=False)
    for name, value in figures.items():
        table.add_row(name, str(value))
    console.print(table)


@app.command("eval")
def evaluate(
    graph_id: DreamIdArgument,
    as_json: JsonOption = False,
    refresh: Annotated[
        bool, typer.Option("--refresh", help="Evaluate again, even if it has a current one.")
    ] = False,
) -> None:
    """Judge a finished dream: scores, grade, strengths, weaknesses, recommendations."""
    from evaluation.stored import evaluation_of

    with reported_errors(), library_errors():
        answer = asyncio.run(closing_clients(evaluation_of(graph_id, refresh=refresh)))
    if as_json:
        sys.stdout.write(json_for_terminal(answer) + "\n")
        return
    evaluation = answer["evaluation"]
    scores, summary = evaluation["scores"], evaluation["summary"]
    table = Table(title=for_terminal(f"{graph_id}: grade {summary['grade']}"), show_header=False)
    for name, value in scores.items():
        table.add_row(name, f"{value:.2f}", "█" * round(value * 20))
    console.print(table)
    for heading in ("strengths", "weaknesses", "recommendations"):
        if summary[heading]:
            console.print(f"{heading}:", style="bold")
            for line in summary[heading]:
                console.print(Text(for_terminal(f"  - {line}")), soft_wrap=True)


@app.command()
def compare(
    first_id: DreamIdArgument,
    second_id: DreamIdArgument,
    label1: Annotated[str, typer.Option("--label1", help="Name of the first dream.")] = "",
    label2: Annotated[str, typer.Option("--label2", help="Name of the second dream.")] = "",
    as_json: JsonOption = False,
) -> None:
    """Compare two finished dreams' evaluations, score by score."""
    from evaluation.stored import comparison_of

    work = comparison_of(first_id, second_id, label1 or None, label2 or None)
    with reported_errors(), library_errors():
        answer = asyncio.run(closing_clients(work))
    if as_json:
        sys.stdout.write(json_for_terminal(answer) + "\n")
        return
    first, second = answer["graph1"]["label"], answer["graph2"]["label"]
    comparison = answer["comparison"]
    table = Table(
        "score", Column(terminal_cell(first, 20)), Column(terminal_cell(second, 20)), "difference"
    )
    for name, change in comparison["scoreDifferences"].items():
        percent = change["percentChange"]
        table.add_row(
            name,
            f"{change['graph1']:.2f}",
            f"{change['graph2']:.2f}",
            f"{change['difference']:+.2f}" + ("" if percent is None else f" ({percent:+.0f}%)"),
        )
    console.print(table)
    console.print(Text(for_terminal(f"winner: {comparison['winner']}")), style="bold")
    for line in comparison["insights"]:
        console.print(Text(for_terminal(f"  - {line}")), soft_wrap=True)


@library_app.command("import")
def import_dreams() -> None:
    """Record and index the dreams already in the workspaces (safe to run again)."""
    from library.importer import import_workspaces

    with library_errors():
        library = opened_library()
        with reported_errors():
            report = asyncio.run(closing_clients(import_workspaces(library)))
    console.print(
        f"imported {len(report['imported'])}, already there {len(report['already'])}, "
        f"skipped {len(report['skipped'])}",
        highlight=False,
    )
    for graph_id, reason in report["skipped"].items():
        console.print(Text(for_terminal(f"skipped {graph_id}: {reason}")))


def opened_library() -> "DreamLibrary":
    from library import get_library

    return get_library()


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


sandboxes_app = typer.Typer(
    help="List, delete or SSH into CoDreamer's sandboxes, crashed runs' included."
)
app.add_typer(sandboxes_app, name="sandboxes")
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


def print_error(error: Exception | str) -> None:
    """One `error:` line on stderr; the message shows as plain text, never markup or escapes."""
    console.print(Text.assemble(("error:", "red"), " ", for_terminal(str(error))), soft_wrap=True)


def backend_name(option: str | None) -> str:
    from core.settings import get_settings

    if option in (None, ""):
        return get_settings().sandbox
    if option not in ("daytona", "local"):
        raise typer.BadParameter("use 'daytona' or 'local'", param_hint="--backend")
    return option


async def closing_clients(work: Awaitable[ResultT]) -> ResultT:
    """Await `work`, then close the sandbox SDK clients this event loop opened."""
    from graph.runner import close_clients

    try:
        return await work
    finally:
        await close_clients()


def show(output: dict[str, Any], *, as_json: bool) -> None:
    """The summary and the viewer's path on stderr, and with --json the output on stdout."""
    print_summary(output)
    viewer = local_viewer(output)
    if viewer is not None:
        console.print(Text(for_terminal(f"viewer: {viewer}")), soft_wrap=True)
    if as_json:
        sys.stdout.write(json_for_terminal(output) + "\n")
    finish_indexing()


def finish_indexing() -> None:
    """Wait (after the answer is shown) until the dream's nodes are searchable."""
    from library import wait_for_indexing

    if not wait_for_indexing(timeout=0):
        with console.status("indexing the dream's nodes for search"):
            wait_for_indexing()


def local_viewer(output: dict[str, Any]) -> Path | None:
    """The dream's HTML viewer on this machine (a copy when the workspace is remote)."""
    from outputs.viewer import ViewerUnavailableError, to_html

    metadata = output["metadata"]
    if metadata["sandbox"] == "local":
        path = Path(metadata["workspacePath"]) / VIEWER_FILE
        return path if path.exists() else None
    try:
        page = to_html(output)
    except ViewerUnavailableError:
        return None
    path = Path(".codreamer", "viewers", f"{metadata['workspaceId']}.html").resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path


def print_summary(output: dict[str, Any]) -> None:
    metadata = output["metadata"]
    usage = metadata["usage"]
    table = Table(title="dream complete", show_header=False)
    table.add_row("nodes", str(metadata["totalNodes"]))
    table.add_row("generations", f"{metadata['generations']} (K={metadata['childrenCount']})")
    table.add_row("time", f"{metadata['generationTime'] / 1000:.1f} s")
    table.add_row("model", terminal_cell(metadata["model"]))
    table.add_row("LLM calls", calls_summary(usage))
    if metadata.get("structured_output") not in (None, "json_schema"):
        table.add_row("output mode", f"{metadata['structured_output']} (json_schema refused)")
    table.add_row("tokens", f"{usage['input_tokens']} in, {usage['output_tokens']} out")
    cost = metadata.get("cost_usd")
    table.add_row("cost", "unknown (no price for this model)" if cost is None else f"${cost:.4f}")
    quality = metadata["quality"]
    table.add_row(
        "quality",
        f"path to product {quality['path_to_product']:.0%}, exactly K {quality['exact_k']:.0%}, "
        f"{quality['duplicate_labels']} repeated labels, "
        f"{quality.get('copied_examples', 0)} copied from the prompt's example",
    )
    if (verification := metadata.get("verification")) is not None:
        table.add_row("verified", verification_summary(verification))
    table.add_row("warnings", str(len(metadata["warnings"])))
    console.print(table)
    if metadata["daytonaWorkspaceId"]:
        state = "kept" if metadata["workspaceKept"] else "deleted (KEEP_DAYTONA_WORKSPACE=false)"
        console.print(Text(for_terminal(f"sandbox: {metadata['daytonaWorkspaceId']} {state}")))
    console.print(Text(for_terminal(f"workspace: {metadata['workspacePath']}")), soft_wrap=True)


def verification_summary(verification: dict[str, Any]) -> str:
    """Ideas the web confirmed, and what their searches cost."""
    checked = verification["verified"] + verification["unverified"]
    failed = verification["failed_searches"]
    return (
        f"{verification['verified']} of {checked} ideas by web search "
        f"({verification['searches']} searches, ${verification['cost_usd']:.3f}"
        + (f", {failed} failed" if failed else "")
        + ")"
    )


def calls_summary(usage: dict[str, int]) -> str:
    """Answered calls, then what else happened to the requests, when anything did."""
    extras = {
        "answers from the LLM cache": usage.get("cached_answers", 0),
        "rate limited": usage.get("rate_limited", 0),
        "server errors": usage.get("server_errors", 0),
        "retries": usage.get("retries", 0),
    }
    seen = [f"{count} {what}" for what, count in extras.items() if count]
    return f"{usage['llm_calls']}" + (f" ({', '.join(seen)})" if seen else "")


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
