"""A finished dream on the terminal: its summary table, its viewer, and --json on stdout."""

import sys
from pathlib import Path
from typing import Any

from rich.table import Table
from rich.text import Text

from codreamer_cli.console import console, terminal_cell
from core.safe_text import for_terminal, json_for_terminal
from core.workspace_layout import VIEWER_FILE


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
