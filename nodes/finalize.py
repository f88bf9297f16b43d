"""Node: assemble the seed's `{nodes, metadata}` answer and save it as results.json."""

import asyncio
import json
import time
from typing import Any

from core.settings import get_settings
from core.state import DreamState, Node, SearchUsage
from core.workspace_layout import RESULTS_FILE, VERIFICATION_LOG, VIEWER_FILE, final_commit
from nodes.copies import count_copies
from nodes.llm import describe_model
from nodes.pricing import cost_usd
from nodes.workspace_files import open_workspace, write_file
from outputs.quality import quality_report
from outputs.relevance import RelevanceUnavailableError, relevance
from outputs.viewer import ViewerUnavailableError, to_html
from sandbox.base import Workspace
from sandbox.git_history import record_step
from sandbox.lifecycle import is_kept, release_workspace

WORKFLOW_MODE = "workflow"


def dream_metadata(state: DreamState) -> dict[str, Any]:
    """The metadata the seed's frontend reads, plus where the workspace is and what went wrong."""
    model = describe_model(state["settings"]["model"])
    return {
        "totalNodes": len(state["nodes_by_id"]),
        "generationTime": round((time.time() - state["started_at"]) * 1000),
        "generations": state["generations_count_int"],
        "childrenCount": state["children_count"],
        "workspaceId": state["workspace_id"],
        "daytonaWorkspaceId": state["sandbox_id"] if state["sandbox"] == "daytona" else None,
        "sandbox": state["sandbox"],
        "workspacePath": state["workspace_path"],
        "workspaceKept": is_kept(state["sandbox"], keep=state["settings"]["keep_workspace"]),
        "mode": state.get("mode", WORKFLOW_MODE),
        "model": model,
        "structured_output": state.get("structured_output"),
        "usage": state["usage"],
        "cost_usd": cost_usd(model, state["usage"]),
        "warnings": state["warnings"],
        **({"forkedFrom": state["forked_from"]} if "forked_from" in state else {}),
    }


async def finalize(state: DreamState) -> dict[str, Any]:
    """Write results.json (atomically) and graph.html, commit them ("final: N nodes"), release
    the sandbox unless kept."""
    nodes = list(state["nodes_by_id"].values())
    metadata = dream_metadata(state)
    metadata["quality"], problems = await _quality(nodes, state)
    metadata["warnings"] = [*state["warnings"], *problems]
    if state["settings"].get("verify"):
        metadata["verification"] = verification_summary(nodes, state.get("searches"))
        metadata["warnings"] += _failed_searches(metadata["verification"])
    output = {"nodes": nodes, "metadata": metadata}
    workspace = await open_workspace(state)
    lost = await _save_results(workspace, output)
    unrecorded = await record_step(workspace, final_commit(len(nodes)), metadata["warnings"])
    metadata["warnings"] += lost + unrecorded
    if unrecorded:  # results.json names the failure too (this rewrite is not committed)
        await write_file(workspace, RESULTS_FILE, _results_json(output))
    await release_workspace(
        state["sandbox"], state["workspace_id"], keep=state["settings"]["keep_workspace"]
    )
    return output


async def _save_results(workspace: Workspace, output: dict[str, Any]) -> list[str]:
    """Write results.json and graph.html; the warnings of what could not be written."""
    lost = await write_file(workspace, RESULTS_FILE, _results_json(output))
    try:
        lost += await write_file(workspace, VIEWER_FILE, to_html(output))
    except ViewerUnavailableError as error:
        lost.append(f"no {VIEWER_FILE}: {error}")
    return lost


def _results_json(output: dict[str, Any]) -> str:
    return json.dumps(output, ensure_ascii=False, indent=1)


def verification_summary(nodes: list[Node], searches: SearchUsage | None) -> dict[str, Any]:
    """How many ideas the web confirmed, and what the searches cost."""
    checked = [node["verification"] for node in nodes if "verification" in node]
    usage = searches or {"searches": 0, "credits": 0.0, "failed": 0}
    return {
        "verified": sum(check["verified"] for check in checked),
        "unverified": sum(not check["verified"] for check in checked),
        "searches": usage["searches"],
        "failed_searches": usage["failed"],
        "credits": usage["credits"],
        "cost_usd": round(usage["credits"] * get_settings().search_credit_usd, 6),
    }


def _failed_searches(summary: dict[str, Any]) -> list[str]:
    failed = summary["failed_searches"]
    if not failed:
        return []
    return [
        f"{failed} of {summary['verified'] + summary['unverified']} ideas could not be "
        f"searched, so they are unverified (each says why; see {VERIFICATION_LOG})"
    ]


async def _quality(nodes: list[Node], state: DreamState) -> tuple[dict[str, Any], list[str]]:
    """The quality report, with embedding relevance when CODREAMER_RELEVANCE is on."""
    report = quality_report(nodes, state["children_count"], state["generations_count_int"])
    report["copied_examples"] = count_copies(nodes)
    report["relevance"] = None
    if not get_settings().relevance:
        return report, []
    try:
        report["relevance"] = await asyncio.to_thread(relevance, nodes)
    except RelevanceUnavailableError as error:
        return report, [f"no relevance figure: {error}"]
    return report, []
