"""Routers: which generation to grow next, or whether to connect to the product."""

from typing import Literal

from langgraph.types import Send

from core.state import PRODUCT_FEATURE, DreamState, ExpandTask, Node, ParentTask, total_node_count


def route_generation(state: DreamState) -> list[Send] | Literal["connect_to_product"]:
    """Fan the next generation's parents out in chunks; go on to the product once G generations
    are grown, or early when the last generation grew no parent to expand (never an empty fan-out,
    which would end the graph without a result)."""
    if state["generation"] >= state["generations_count_int"]:
        return "connect_to_product"
    tasks = expand_tasks(state)
    if not tasks:
        return "connect_to_product"
    return [Send("expand_generation", task) for task in tasks]


def expand_tasks(state: DreamState) -> list[ExpandTask]:
    """The current frontier split into tasks of `parents_per_task` parents.

    Children are numbered after every node a complete graph of this depth would hold, so their
    ids stay unique even when a parent failed to expand.
    """
    nodes = state["nodes_by_id"]
    frontier = [
        node
        for node in nodes.values()
        if node["generation"] == state["generation"] and node["id"] != PRODUCT_FEATURE
    ]
    count = state["children_count"]
    first_number = total_node_count(count, state["generation"])
    parents: list[ParentTask] = [
        {
            "node": node,
            "path": _path(nodes, node),
            "first_child_number": first_number + index * count,
        }
        for index, node in enumerate(frontier)
    ]
    size = state["settings"]["parents_per_task"]
    return [
        {
            "customer": state["customer"],
            "product": state["product"],
            "children_count": count,
            "generation": state["generation"] + 1,
            "workspace_id": state["workspace_id"],
            "sandbox": state["sandbox"],
            "settings": state["settings"],
            "parents": parents[start : start + size],
        }
        for start in range(0, len(parents), size)
    ]


def _path(nodes: dict[str, Node], node: Node) -> list[str]:
    names = [node["name"]]
    while node["parent_id"] is not None:
        node = nodes[node["parent_id"]]
        names.append(node["name"])
    return names[::-1]
