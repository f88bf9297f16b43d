"""What the library keeps of a dream: its record (the original server's shape) and a summary."""

from datetime import UTC, datetime
from typing import Any, NotRequired

from typing_extensions import TypedDict

from core.state import CUSTOMER_JOB, PRODUCT_FEATURE, Node

ID_TIME_FORMAT = "dream-%Y%m%d-%H%M%S"
WORKFLOW = "workflow"


class GraphSummary(TypedDict):
    """One stored dream without its nodes: what lists, filters and stats read."""

    id: str
    customer: str
    product: str
    nodeCount: int
    generationTimeMs: int
    createdAt: str
    implementation: str
    model: str | None
    costUsd: float | None
    indexedWith: str | None
    """The embeddings its nodes were indexed with; None until they are searchable."""
    recordedAt: float
    """When the library recorded it (seconds since the epoch): orders dreams of one second."""
    grade: NotRequired[str | None]
    """Its evaluation's grade, "A" to "F", once it has been evaluated."""


class GraphRecord(TypedDict):
    """One stored dream, as `GET /api/v1/graphs/{id}` answers it."""

    id: str
    customer: str
    product: str
    nodes: list[Node]
    nodeCount: int
    generationTimeMs: int
    createdAt: str
    metadata: dict[str, Any]
    evaluation: NotRequired[dict[str, Any]]
    """Its latest evaluation (`POST /api/v1/eval/graph/{id}`), when it has one."""


def graph_record(output: dict[str, Any]) -> GraphRecord:
    """The record of a dream's output `{nodes, metadata}`."""
    metadata = output["metadata"]
    anchors = {node["id"]: node["content"] for node in output["nodes"] if node["generation"] == 0}
    graph_id = metadata["workspaceId"]
    return {
        "id": graph_id,
        "customer": anchors.get(CUSTOMER_JOB, ""),
        "product": anchors.get(PRODUCT_FEATURE, ""),
        "nodes": output["nodes"],
        "nodeCount": metadata["totalNodes"],
        "generationTimeMs": metadata["generationTime"],
        "createdAt": created_at(graph_id),
        "metadata": {
            **metadata,
            "childrenCount": metadata.get("childrenCount"),
            "generationsCount": metadata.get("generations"),
            "implementation": metadata.get("mode", WORKFLOW),
        },
    }


def summary_of(record: GraphRecord, indexed_with: str | None, recorded_at: float) -> GraphSummary:
    metadata = record["metadata"]
    return {
        "id": record["id"],
        "customer": record["customer"],
        "product": record["product"],
        "nodeCount": record["nodeCount"],
        "generationTimeMs": record["generationTimeMs"],
        "createdAt": record["createdAt"],
        "implementation": metadata["implementation"],
        "model": metadata.get("model"),
        "costUsd": metadata.get("cost_usd"),
        "indexedWith": indexed_with,
        "recordedAt": recorded_at,
    }


def created_at(graph_id: str) -> str:
    """When the dream started (ISO 8601, UTC), read from its id; now for an id without a time."""
    try:
        started = datetime.strptime(graph_id[:21], ID_TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        started = datetime.now(UTC)
    return started.isoformat().replace("+00:00", "Z")


def node_text(node: Node) -> str:
    """The text a node is searched by."""
    return f"{node['name']}: {node['content']}"
