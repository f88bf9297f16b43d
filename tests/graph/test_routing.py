"""Routing of a generation into tasks, and the graph's shape."""

from langgraph.types import Send

from core.state import (
    CUSTOMER_JOB,
    PRODUCT_FEATURE,
    total_node_count,
)
from graph import graph
from graph.routing import expand_tasks, route_generation
from nodes.init_anchors import anchor


def state_with_generation(
    children: int, generation: int, frontier_size: int, per_task: int
) -> dict:
    nodes = {
        CUSTOMER_JOB: anchor(CUSTOMER_JOB, "job"),
        PRODUCT_FEATURE: anchor(PRODUCT_FEATURE, "p"),
    }
    for index in range(frontier_size):
        node = {**anchor(f"n{index}", "x"), "generation": generation, "parent_id": CUSTOMER_JOB}
        nodes[node["id"]] = node
    return {
        "customer": "job",
        "product": "p",
        "children_count": children,
        "generations_count_int": 3,
        "generation": generation,
        "nodes_by_id": nodes,
        "workspace_id": "w",
        "sandbox": "local",
        "settings": {"parents_per_task": per_task},
    }


def test_route_generation_fans_out_chunks_until_the_last_generation() -> None:
    state = state_with_generation(children=3, generation=1, frontier_size=5, per_task=2)

    sends = route_generation(state)

    assert all(isinstance(send, Send) and send.node == "expand_generation" for send in sends)
    assert [len(send.arg["parents"]) for send in sends] == [2, 2, 1]
    assert route_generation({**state, "generation": 3}) == "connect_to_product"


def test_route_generation_with_no_parent_left_goes_on_to_the_product() -> None:
    state = state_with_generation(children=3, generation=2, frontier_size=0, per_task=2)

    assert route_generation(state) == "connect_to_product"


def test_expand_tasks_number_children_uniquely_and_carry_the_path() -> None:
    state = state_with_generation(children=3, generation=1, frontier_size=4, per_task=16)

    parents = expand_tasks(state)[0]["parents"]

    first = total_node_count(3, 1)
    assert [p["first_child_number"] for p in parents] == [first, first + 3, first + 6, first + 9]
    assert parents[0]["path"] == [CUSTOMER_JOB, "n0"]


def test_expand_tasks_start_from_the_customer_job_only() -> None:
    state = state_with_generation(children=2, generation=0, frontier_size=0, per_task=16)

    (task,) = expand_tasks(state)

    assert [p["node"]["id"] for p in task["parents"]] == [CUSTOMER_JOB]
    assert task["generation"] == 1


def test_graph_structure() -> None:
    drawn = graph.get_graph()

    assert set(drawn.nodes) == {
        "__start__",
        "create_workspace",
        "init_anchors",
        "expand_generation",
        "save_generation",
        "connect_to_product",
        "finalize",
        "record_dream",
        "__end__",
    }
    edges = {(edge.source, edge.target, edge.conditional) for edge in drawn.edges}
    assert edges == {
        ("__start__", "create_workspace", False),
        ("create_workspace", "init_anchors", False),
        ("init_anchors", "expand_generation", True),
        ("init_anchors", "connect_to_product", True),
        ("expand_generation", "save_generation", False),
        ("save_generation", "expand_generation", True),
        ("save_generation", "connect_to_product", True),
        ("connect_to_product", "finalize", False),
        ("finalize", "record_dream", False),
        ("record_dream", "__end__", False),
    }
