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


def linked_dream(
    graph_id: str, customer: str, product: str, ideas: list[tuple[str, str, str]]
) -> dict[str, Any]:
    """A finished dream like `dream_output`'s whose ideas (name, content, rationale) are
    linked: Customer Job to each idea with its rationale, and each idea to Product Feature."""
    output = dream_output(graph_id, customer, product, [(name, text) for name, text, _ in ideas])
    job, feature, *grown = output["nodes"]
    job["edge"] = [
        {"target_id": node["id"], "relationship": "struggles with", "rationale": why}
        for node, (_, _, why) in zip(grown, ideas, strict=True)
    ]
    for node in grown:
        node["edge"] = [
            {
                "target_id": feature["id"],
                "relationship": "is addressed by",
                "rationale": f"{product} answers this: {node['content']}",
            }
        ]
    return output


BAKERY_LINKED = linked_dream(
    "dream-20261103-080000-cccccccc",
    "Bakers who sell sourdough at farmers markets",
    "A proofing oven with a phone app",
    [
        (
            "Dough rises too slowly",
            "Cold mornings slow the fermentation of sourdough loaves before the market",
            "Bakers proof their dough overnight and a cold kitchen slows the rise",
        ),
        (
            "Slow rising dough",
            "Cold mornings slow the fermentation of sourdough loaves before the market",
            "Bakers proof their dough overnight and a cold kitchen slows the rise",
        ),
        (
            "Sell out by noon",
            "Popular sourdough loaves run out at the market stall before noon",
            "Bakers can only bake as many loaves as their ovens proof each night",
        ),
        (
            "Knitting patterns",
            "Choosing wool colours for winter scarf knitting patterns",
            "Knitters like bright wool colours for their scarves in winter",
        ),
    ],
)
"""Linked, with two ideas of equal content (near duplicates) and one off topic (knitting)."""
