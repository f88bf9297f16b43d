"""Node: close a generation: checkpoint file, progress log line, commit, counter."""

from typing import Any

from core.state import DreamState
from core.workspace_layout import ERRORS_LOG, GENERATION_LOG, checkpoint_file, generation_commit
from nodes.workspace_files import append_log, graph_json, open_workspace, write_file
from sandbox.git_history import record_step


async def save_generation(state: DreamState) -> dict[str, Any]:
    """Write `checkpoint-gen{N}.json` and a `generation.log` line, commit them ("generation N
    of G: X nodes", X counting the whole graph so far), then count the generation."""
    generation = state["generation"] + 1
    nodes = state["nodes_by_id"]
    grown = sum(1 for node in nodes.values() if node["generation"] == generation)
    workspace = await open_workspace(state)
    warnings = await write_file(workspace, checkpoint_file(generation), graph_json(nodes))
    warnings += await append_log(
        workspace,
        GENERATION_LOG,
        f"generation {generation}/{state['generations_count_int']}: {grown} new nodes, "
        f"{len(nodes)} in total, {state['usage']['llm_calls']} LLM calls so far",
    )
    message = generation_commit(generation, state["generations_count_int"], len(nodes))
    warnings += await record_step(workspace, message, [*state["warnings"], *warnings])
    if grown == 0:
        warnings.append(
            f"generation {generation} grew no node (no parent could be expanded, see "
            f"{ERRORS_LOG}); the dream goes on to the product connection with what it has"
        )
    return {"generation": generation, "warnings": warnings}
