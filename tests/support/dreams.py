"""Dream outputs made by hand, with texts chosen so that what should match does."""

from typing import Any


def dream_output(
    graph_id: str, customer: str, product: str, ideas: list[tuple[str, str]]
) -> dict[str, Any]:
    """A finished dream's `{nodes, metadata}`: both anchors and one generation of `ideas`."""
    anchors = [
        {"id": "Customer Job", "name": "Customer Job", "content": customer},
        {"id": "Product Feature", "name": "Product Feature", "content": product},
    ]
    nodes = [{**anchor, "edge": [], "generation": 0, "parent_id": None} for anchor in anchors]
    nodes += [
        {
            "id": f"idea-{index}",
            "name": name,
            "content": content,
            "edge": [],
            "generation": 1,
            "parent_id": "Customer Job",
        }
        for index, (name, content) in enumerate(ideas)
    ]
    metadata = {
        "workspaceId": graph_id,
        "totalNodes": len(nodes),
        "generationTime": 1000 + len(ideas),
        "generations": 1,
        "childrenCount": len(ideas),
        "sandbox": "local",
        "mode": "workflow",
        "model": "fake-model",
        "cost_usd": 0.0,
        "warnings": [],
    }
    return {"nodes": nodes, "metadata": metadata}


BAKERY = dream_output(
    "dream-20261101-080000-aaaaaaaa",
    "Bakers who sell sourdough at farmers markets",
    "A proofing oven with a phone app",
    [
        ("Dough rises too slowly", "Cold mornings slow the fermentation of sourdough loaves"),
        ("Sell out by noon", "Popular loaves run out before the market closes"),
    ],
)
TRACING = dream_output(
    "dream-20261102-080000-bbbbbbbb",
    "Enterprise teams running microservices",
    "Distributed tracing platform",
    [
        ("Latency hunting", "Engineers cannot find which service makes requests slow"),
        ("Alert fatigue", "On-call staff get paged for noise at night"),
    ],
)
