"""Bring dreams made before the library (or while it was off) into it, from their workspaces."""

from typing_extensions import TypedDict

from library.catalog import DreamLibrary
from outputs.history import UnreadableResultsError, load_dream, workspace_infos
from sandbox import SandboxError


class ImportReport(TypedDict):
    imported: list[str]
    already: list[str]
    """Recorded before; indexed now if they were not searchable yet."""
    skipped: dict[str, str]
    """Dreams that cannot be imported, and why (stopped before their results, unreadable)."""


async def import_workspaces(library: DreamLibrary) -> ImportReport:
    """Record and index every finished dream in the workspaces; idempotent."""
    report: ImportReport = {"imported": [], "already": [], "skipped": {}}
    unindexed = set(library.unindexed())
    for info in sorted(await workspace_infos(), key=lambda info: info.id):
        graph_id = info.id
        if library.has(graph_id):
            report["already"].append(graph_id)
            if graph_id in unindexed:
                library.index(graph_id)
            continue
        try:
            output = await load_dream(graph_id)
        except (UnreadableResultsError, SandboxError) as error:
            report["skipped"][graph_id] = str(error)
            continue
        if output is None:
            report["skipped"][graph_id] = "it stopped before its results (`codreamer resume` it)"
            continue
        # the workspace names the dream, whatever id a copied results.json still carries
        library.record({**output, "metadata": {**output["metadata"], "workspaceId": graph_id}})
        library.index(graph_id)
        report["imported"].append(graph_id)
    return report
