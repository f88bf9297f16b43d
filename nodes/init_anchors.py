"""Node: the two anchors the graph grows between."""

from typing import Any

from core.state import CUSTOMER_JOB, PRODUCT_FEATURE, DreamState, Node
from core.workspace_layout import GRAPH_STATE_FILE
from nodes.workspace_files import graph_json, open_workspace, write_file


def anchor(node_id: str, content: str) -> Node:
    return {
        "id": node_id,
        "content": content,
        "edge": [],
        "name": node_id,
        "generation": 0,
        "parent_id": None,
    }


async def init_anchors(state: DreamState) -> dict[str, Any]:
    """Create "Customer Job" and "Product Feature" and save the initial graph state."""
    nodes = {
        CUSTOMER_JOB: anchor(CUSTOMER_JOB, state["customer"]),
        PRODUCT_FEATURE: anchor(PRODUCT_FEATURE, state["product"]),
    }
    workspace = await open_workspace(state)
    warnings = await write_file(workspace, GRAPH_STATE_FILE, graph_json(nodes))
    return {"nodes_by_id": nodes, "warnings": warnings}
