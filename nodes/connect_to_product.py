"""Node: link every leaf to the "Product Feature" anchor, one LLM call per parent of leaves."""

import asyncio
from collections import defaultdict
from typing import Any

from core.context import DreamContext
from core.state import (
    ANCHOR_IDS,
    PRODUCT_FEATURE,
    DreamState,
    Edge,
    Node,
    Usage,
    add_usage,
    weakest_output_mode,
)
from core.workspace_layout import CONNECTIONS_LOG, ERRORS_LOG, FINAL_GRAPH_FILE
from nodes.prompt_data import as_data
from nodes.prompts import (
    CONNECT_TO_PRODUCT_EXAMPLE,
    CONNECT_TO_PRODUCT_EXAMPLE_ANSWER,
    CONNECT_TO_PRODUCT_PROMPT,
)
from nodes.schemas import Link, Links, links_schema
from nodes.structured_call import CallOutcome, ask_model
from nodes.workspace_files import append_log, graph_json, open_workspace, write_file

TOKENS_PER_LINK = 120
UNJUDGED_RELATIONSHIP = "addressed by"
UNJUDGED_RATIONALE = "Not judged: the model gave no usable answer for this link (see errors.log)."


def leaves_by_parent(nodes: dict[str, Node]) -> dict[str | None, list[Node]]:
    """Non-anchor nodes without children, grouped by their parent."""
    groups: dict[str | None, list[Node]] = defaultdict(list)
    for node in nodes.values():
        if node["id"] not in ANCHOR_IDS and not node["edge"]:
            groups[node["parent_id"]].append(node)
    return groups


async def connect_to_product(state: DreamState) -> dict[str, Any]:
    """Write final-graph.json, then give each leaf an edge to "Product Feature"."""
    nodes = state["nodes_by_id"]
    workspace = await open_workspace(state)
    warnings = await write_file(workspace, FINAL_GRAPH_FILE, graph_json(nodes))
    context = DreamContext(**state["settings"])
    groups = list(leaves_by_parent(nodes).values())
    outcomes = await asyncio.gather(*(_judge(state, context, leaves) for leaves in groups))
    linked: dict[str, Node] = {}
    usage: Usage | None = None
    mode: str | None = None
    log_lines: list[str] = []
    failures: list[str] = []
    unjudged: list[str] = []
    for leaves, outcome in zip(groups, outcomes, strict=True):
        usage = add_usage(usage, outcome.usage)
        mode = weakest_output_mode(mode, outcome.mode)
        failures += [
            f"connection of {leaves[0]['parent_id']}'s leaves: {f}" for f in outcome.failures
        ]
        links = outcome.value.links if outcome.value else None
        if links is None:
            unjudged.append(
                f"links of {len(leaves)} leaves under {leaves[0]['parent_id']} were not judged; "
                f"they read '{UNJUDGED_RELATIONSHIP}'"
            )
        for leaf, edge in zip(leaves, _edges(links, len(leaves)), strict=True):
            linked[leaf["id"]] = {**leaf, "edge": [*leaf["edge"], edge]}
            log_lines.append(f"{leaf['id']} -[{edge['relationship']}]-> {PRODUCT_FEATURE}")
    warnings += await append_log(workspace, CONNECTIONS_LOG, *log_lines)
    if failures or unjudged:
        warnings += unjudged + await append_log(workspace, ERRORS_LOG, *failures, *unjudged)
    return {"nodes_by_id": linked, "usage": usage, "warnings": warnings, "structured_output": mode}


async def _judge(
    state: DreamState, context: DreamContext, leaves: list[Node]
) -> CallOutcome[Links]:
    count = len(leaves)
    points = "\n".join(
        f"{number}. <point>{as_data(leaf['name'])}: {as_data(leaf['content'])}</point>"
        for number, leaf in enumerate(leaves, 1)
    )
    prompt = CONNECT_TO_PRODUCT_PROMPT.format(
        customer=as_data(state["customer"]),
        product=as_data(state["product"]),
        points=points,
        count=count,
    )
    return await ask_model(
        context,
        state["workspace_id"],
        links_schema(count),
        example=(CONNECT_TO_PRODUCT_EXAMPLE, CONNECT_TO_PRODUCT_EXAMPLE_ANSWER),
        prompt=prompt,
        items="links",
        count=count,
        max_tokens=TOKENS_PER_LINK * count + 60,
        prompt_data=(
            state["customer"],
            state["product"],
            *(text for leaf in leaves for text in _point_texts(leaf)),
        ),
    )


def _point_texts(leaf: Node) -> tuple[str, str, str]:
    """What the prompt shows of a leaf: an answer that only restates it has judged nothing."""
    return leaf["name"], leaf["content"], f"{leaf['name']}: {leaf['content']}"


def _edges(links: list[Link] | None, count: int) -> list[Edge]:
    if links is None:
        return [
            {
                "target_id": PRODUCT_FEATURE,
                "relationship": UNJUDGED_RELATIONSHIP,
                "rationale": UNJUDGED_RATIONALE,
            }
            for _ in range(count)
        ]
    return [
        {
            "target_id": PRODUCT_FEATURE,
            "relationship": link.relationship.strip(),
            "rationale": link.rationale.strip(),
        }
        for link in links
    ]
