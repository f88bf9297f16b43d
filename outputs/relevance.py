"""How on-topic a dream is: embedding similarity of each idea to its parent and to the product.

The vectors come from the offline all-MiniLM-L6-v2 model that also indexes the library's node
search (`embeddings`); on when CODREAMER_RELEVANCE=true.
"""

import numpy as np

from core.state import ANCHOR_IDS, PRODUCT_FEATURE, Node
from embeddings import EmbeddingsUnavailableError, get_embeddings


class RelevanceUnavailableError(RuntimeError):
    """The embedding model is not installed; the message says how to install it."""


def relevance(nodes: list[Node]) -> dict[str, float]:
    """Mean cosine similarity of grown ideas to their parent and to the product."""
    by_id = {node["id"]: node for node in nodes}
    grown = [node for node in nodes if node["id"] not in ANCHOR_IDS]
    if not grown:
        return {"to_parent": 0.0, "to_product": 0.0}
    try:
        model = get_embeddings("local")
    except EmbeddingsUnavailableError as error:
        raise RelevanceUnavailableError(str(error)) from None
    vectors = np.asarray(
        model.embed_documents([f"{node['name']}: {node['content']}" for node in nodes])
    )
    row = {node["id"]: index for index, node in enumerate(nodes)}
    product = vectors[row[PRODUCT_FEATURE]]
    to_parent = [
        float(vectors[row[node["id"]]] @ vectors[row[node["parent_id"]]])
        for node in grown
        if node["parent_id"] in by_id
    ]
    to_product = [float(vectors[row[node["id"]]] @ product) for node in grown]
    return {
        "to_parent": round(sum(to_parent) / len(to_parent), 4),
        "to_product": round(sum(to_product) / len(to_product), 4),
    }
