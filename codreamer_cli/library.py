"""Commands on the dream library: list, graphs list/show/delete, search, stats, library import."""

import asyncio
import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from codreamer_cli.console import (
    closing_clients,
    console,
    dream_column,
    library_errors,
    opened_library,
    print_error,
    reported_errors,
    terminal_cell,
)
from codreamer_cli.options import (
    CustomerFilter,
    DreamIdArgument,
    JsonOption,
    LimitOption,
    OffsetOption,
    ProductFilter,
)
from codreamer_cli.summary import print_summary
from core.safe_text import for_terminal, json_for_terminal

if TYPE_CHECKING:
    from outputs.history import DreamSummary


graphs_app = typer.Typer(help="The dream library: stored dreams, to list, show or delete.")
library_app = typer.Typer(help="Look after the dream library.")


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
