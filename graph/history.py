"""Past dreams, read back from their workspaces (local ones and kept Daytona sandboxes)."""

import asyncio
import json
from typing import Any

from typing_extensions import TypedDict

from graph.settings import get_settings
from graph.state import CUSTOMER_JOB, PRODUCT_FEATURE
from nodes.workspace_files import RESULTS_FILE
from sandbox import SandboxGoneError, WorkspaceInfo, get_backend


class DreamSummary(TypedDict):
    """One past dream, as `codreamer list` and `GET /api/v1/dreams` show it."""

    id: str
    status: str
    """"complete", or "incomplete" (stopped before its results; `codreamer resume` it)."""
    sandbox: str
    customer: str | None
    product: str | None
    nodes: int | None
    generation_time_ms: int | None
    cost_usd: float | None
    model: str | None


async def list_dreams() -> list[DreamSummary]:
    """Every dream this process can see, newest first."""
    infos = await get_backend("local").list()
    if get_settings().use_daytona:
        infos += await get_backend("daytona").list()
    summaries = await asyncio.gather(*(_summary(info) for info in infos))
    return sorted(summaries, key=lambda summary: summary["id"], reverse=True)


async def load_dream(dream_id: str) -> dict[str, Any] | None:
    """A finished dream's output `{nodes, metadata}`, or None if there is no such result."""
    backends = ["local", "daytona"] if get_settings().use_daytona else ["local"]
    for name in backends:
        try:
            workspace = await get_backend(name).connect(dream_id)
            return json.loads(await workspace.read_file(RESULTS_FILE))
        except (SandboxGoneError, FileNotFoundError):
            continue
    return None


async def _summary(info: WorkspaceInfo) -> DreamSummary:
    output = await load_dream(info.id)
    summary: DreamSummary = {
        "id": info.id,
        "status": "incomplete" if output is None else "complete",
        "sandbox": info.backend,
        "customer": None,
        "product": None,
        "nodes": None,
        "generation_time_ms": None,
        "cost_usd": None,
        "model": None,
    }
    if output is None:
        return summary
    metadata = output["metadata"]
    anchors = {node["id"]: node["content"] for node in output["nodes"] if node["generation"] == 0}
    return {
        **summary,
        "customer": anchors.get(CUSTOMER_JOB),
        "product": anchors.get(PRODUCT_FEATURE),
        "nodes": metadata["totalNodes"],
        "generation_time_ms": metadata["generationTime"],
        "cost_usd": metadata.get("cost_usd"),
        "model": metadata.get("model"),
    }
