"""A dream's graph as the measures read it (complete nodes, the grown ones, every link), and
what a measure gives back."""

from dataclasses import dataclass, field
from typing import Any, NamedTuple, cast

from core.state import ANCHOR_IDS, CUSTOMER_JOB, PRODUCT_FEATURE, Edge, Node

DETAIL_LIMIT = 50
"""The most ids or pairs one list of `details` holds (its count is given in full beside it)."""


@dataclass
class Score:
    """One score in [0, 1], the figures it is made of, and what pulled it down."""

    value: float
    figures: dict[str, Any]
    found: dict[str, list[Any]] = field(default_factory=dict)
    """Lists for the top level of `details` (offTopic, copied, weakLinks, nearDuplicates)."""


class Verdict(NamedTuple):
    """The judge's ratings (1-5) of one parent-to-child link."""

    on_topic: int
    connection: int


def rating_share(rating: int) -> float:
    """A 1-5 rating on the [0, 1] scale of the scores: (rating - 1) / 4."""
    return (rating - 1) / 4


@dataclass(frozen=True)
class Link:
    """One edge: from `source` to `target` (which may be missing from the graph)."""

    source: str
    target: str
    relationship: str
    rationale: str
    parent_to_child: bool
    """The edge that grew `target` from its parent (the judge rates these)."""


@dataclass(frozen=True)
class GraphView:
    nodes: list[Node]
    by_id: dict[str, Node]
    grown: list[Node]
    """Every node but the anchors, in the graph's order."""
    links: list[Link]

    @property
    def customer(self) -> str:
        return self.by_id[CUSTOMER_JOB]["content"] if CUSTOMER_JOB in self.by_id else ""

    @property
    def product(self) -> str:
        return self.by_id[PRODUCT_FEATURE]["content"] if PRODUCT_FEATURE in self.by_id else ""

    def text(self, node_id: str) -> str:
        """What a node says: "name: content" (an anchor's name is its id: its content alone)."""
        node = self.by_id[node_id]
        return node["content"] if node_id in ANCHOR_IDS else f"{node['name']}: {node['content']}"


def view_of(nodes: list[Node]) -> GraphView:
    """The graph of `nodes`, completed where a node lacks a field: the original CoDreamer's
    nodes carry only `id`, `content` and `edge`, so the name is the id, the parent the first
    node with an edge to it, the generation one more than the parent's."""
    raw: list[dict[str, Any]] = [dict(node) for node in nodes]
    sources: dict[str, str] = {}
    for given in raw:
        for edge in given.get("edge") or []:
            sources.setdefault(edge["target_id"], given["id"])
    complete: dict[str, Node] = {}
    for given in raw:
        node_id = given["id"]
        parent = given["parent_id"] if "parent_id" in given else sources.get(node_id)
        complete[node_id] = cast(
            Node,
            {
                **given,
                "content": given.get("content") or "",
                "name": given.get("name") or node_id,
                "edge": [_edge(edge) for edge in given.get("edge") or []],
                "parent_id": None if node_id in ANCHOR_IDS else parent,
                "generation": 0 if node_id in ANCHOR_IDS else given.get("generation", -1),
            },
        )
    for node in complete.values():
        _generation(node, complete)
    links = [
        Link(
            node["id"],
            edge["target_id"],
            edge["relationship"],
            edge["rationale"],
            _parent_of(complete, edge["target_id"]) == node["id"],
        )
        for node in complete.values()
        for edge in node["edge"]
    ]
    grown = [node for node in complete.values() if node["id"] not in ANCHOR_IDS]
    return GraphView(list(complete.values()), complete, grown, links)


def _parent_of(nodes: dict[str, Node], node_id: str) -> str | None:
    node = nodes.get(node_id)
    return None if node is None else node["parent_id"]


def _edge(edge: dict[str, Any]) -> Edge:
    return {
        "target_id": str(edge.get("target_id", "")),
        "relationship": str(edge.get("relationship") or ""),
        "rationale": str(edge.get("rationale") or ""),
    }


def _generation(node: Node, nodes: dict[str, Node]) -> int:
    """The node's generation, or one more than its parent's when it has none (anchors: 0)."""
    chain: list[Node] = []
    seen: set[str] = set()
    current: Node | None = node
    while current is not None and current["generation"] < 0 and current["id"] not in seen:
        chain.append(current)
        seen.add(current["id"])
        current = nodes.get(current["parent_id"] or "")
    base = current["generation"] if current is not None and current["generation"] >= 0 else 0
    for offset, unknown in enumerate(reversed(chain), 1):
        unknown["generation"] = base + offset
    return node["generation"]
