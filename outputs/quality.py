"""How good a dream's graph is, by its shape: paths to the product, K per parent, duplicates."""

import re
from collections import Counter, defaultdict
from typing import Any

from core.state import ANCHOR_IDS, CUSTOMER_JOB, PRODUCT_FEATURE, Node


def normalised(label: str) -> str:
    """A label compared loosely: lower case, letters and digits only."""
    return " ".join(re.findall(r"[^\W_]+", label.lower()))


def quality_report(nodes: list[Node], children_count: int, generations: int) -> dict[str, Any]:
    """`path_to_product`: share of nodes with a path to "Product Feature" (1.0 when complete);
    `exact_k`: share of parents with exactly K children; duplicate labels among siblings and
    across the graph."""
    grown = [node for node in nodes if node["id"] not in ANCHOR_IDS]
    parents = [
        node for node in nodes if node["id"] == CUSTOMER_JOB or 0 < node["generation"] < generations
    ]
    children_of = {
        node["id"]: [
            edge["target_id"] for edge in node["edge"] if edge["target_id"] != PRODUCT_FEATURE
        ]
        for node in nodes
    }
    reaching = reaching_product(nodes)
    siblings: dict[str | None, list[str]] = defaultdict(list)
    for node in grown:
        siblings[node["parent_id"]].append(normalised(node["name"]))
    label_counts = Counter(normalised(node["name"]) for node in grown)
    others = [node for node in nodes if node["id"] != PRODUCT_FEATURE]
    return {
        "path_to_product": round(len(reaching) / len(others), 4) if others else 1.0,
        "exact_k": round(
            sum(len(children_of[p["id"]]) == children_count for p in parents) / len(parents), 4
        )
        if parents
        else 1.0,
        "duplicate_sibling_labels": sum(
            count - 1 for group in siblings.values() for count in Counter(group).values()
        ),
        "duplicate_labels": sum(count - 1 for count in label_counts.values()),
    }


def reaching_product(nodes: list[Node]) -> set[str]:
    """Ids of the nodes (Product Feature aside) from which Product Feature can be reached."""
    sources: dict[str, list[str]] = defaultdict(list)
    for node in nodes:
        for edge in node["edge"]:
            sources[edge["target_id"]].append(node["id"])
    reached, frontier = set(), [PRODUCT_FEATURE]
    while frontier:
        for source in sources[frontier.pop()]:
            if source not in reached:
                reached.add(source)
                frontier.append(source)
    reached.discard(PRODUCT_FEATURE)
    return reached
