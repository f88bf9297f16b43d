"""Commands that judge finished dreams: eval and compare."""

import asyncio
import sys
from typing import Annotated

import typer
from rich.table import Column, Table
from rich.text import Text

from codreamer_cli.console import (
    closing_clients,
    console,
    library_errors,
    reported_errors,
    terminal_cell,
)
from codreamer_cli.options import DreamIdArgument, JsonOption
from core.safe_text import for_terminal, json_for_terminal


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
