"""Sentence vectors for a graph's texts, and the near-duplicate pairs among them in bounded
memory (a graph may hold 20,000 nodes: no N x N matrix is ever built)."""

from dataclasses import dataclass, field

import numpy as np

from embeddings import embedding_dimensions, get_embeddings
from evaluation.graph_view import GraphView

SCAN_ROWS = 256
"""Rows compared with every other at once: 256 x 20,000 cosines is 20 MB."""


@dataclass(frozen=True)
class GraphVectors:
    """A unit vector per node (in `GraphView.nodes` order) and per embedded rationale."""

    nodes: np.ndarray
    row: dict[str, int]
    topic: np.ndarray
    """The dream's topic: customer and product in one text ("customer: product")."""
    rationales: np.ndarray
    rationale_row: dict[int, int]
    """Index in `GraphView.links` -> row in `rationales` (only the links embedded)."""


def embed_graph(view: GraphView, links: list[int]) -> GraphVectors:
    """Vectors of every node's text, of the dream's topic and of the rationales of `links`
    (indexes), in one pass."""
    node_texts = [view.text(node["id"]) for node in view.nodes]
    rationales = [view.links[index].rationale for index in links]
    vectors = embed([*node_texts, f"{view.customer}: {view.product}", *rationales])
    return GraphVectors(
        nodes=vectors[: len(node_texts)],
        row={node["id"]: row for row, node in enumerate(view.nodes)},
        topic=vectors[len(node_texts)],
        rationales=vectors[len(node_texts) + 1 :],
        rationale_row={index: row for row, index in enumerate(links)},
    )


def embed(texts: list[str]) -> np.ndarray:
    """Unit vectors of `texts` (a float32 row each) from the offline MiniLM model.

    Each distinct text is embedded once, and texts of similar length go in one batch (a batch
    is padded to its longest text: sorting cuts the padding). Raises
    `EmbeddingsUnavailableError` when the model is not installed.
    """
    if not texts:
        return np.zeros((0, embedding_dimensions("local")), dtype=np.float32)
    unique = sorted(set(texts), key=len)
    vectors = np.asarray(get_embeddings("local").embed_documents(unique), dtype=np.float32)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    row = {text: index for index, text in enumerate(unique)}
    embedded: np.ndarray = vectors[[row[text] for text in texts]]
    return embedded


def row_cosines(
    vectors: np.ndarray, rows: list[int], others: np.ndarray, other_rows: list[int]
) -> np.ndarray:
    """The cosine of each of `vectors`' `rows` with the row of `others` at the same place in
    `other_rows`."""
    found: np.ndarray = np.einsum("ij,ij->i", vectors[rows], others[other_rows])
    return found


@dataclass
class DuplicateScan:
    """Which rows have a near duplicate, how many pairs there are, and the closest pairs."""

    flagged: np.ndarray
    """One bool per row: in at least one pair."""
    pairs: int = 0
    top: list[tuple[int, int, float]] = field(default_factory=list)
    """(row, later row, cosine), the most similar first, at most `limit`."""


def near_duplicates(
    vectors: np.ndarray, threshold: float, limit: int, groups: np.ndarray
) -> DuplicateScan:
    """Pairs of rows whose cosine is `threshold` or more, or that share a group (`groups`: a
    group number per row, -1 for none), `SCAN_ROWS` rows at a time against the rows after them
    (each pair once): memory stays at SCAN_ROWS x N cosines. `limit` (1 or more) bounds
    `top`."""
    count = len(vectors)
    scan = DuplicateScan(np.zeros(count, dtype=bool))
    for start in range(0, count, SCAN_ROWS):
        block = vectors[start : start + SCAN_ROWS] @ vectors[start:].T
        rows, columns = np.indices(block.shape, sparse=True)
        group = groups[start : start + SCAN_ROWS, None]
        hits = ((block >= threshold) | ((group == groups[None, start:]) & (group >= 0))) & (
            columns > rows  # each pair once, never a row with itself
        )
        found = int(hits.sum())
        if not found:
            continue
        scan.pairs += found
        scan.flagged[start : start + len(block)] |= hits.any(axis=1)
        scan.flagged[start:] |= hits.any(axis=0)
        positions = np.flatnonzero(hits)  # at most SCAN_ROWS x N of them
        values = block.ravel()[positions]
        if len(positions) > limit:
            closest = np.argpartition(-values, limit - 1)[:limit]
            positions, values = positions[closest], values[closest]
        for flat, cosine in zip(positions.tolist(), values.tolist(), strict=True):
            row, column = divmod(flat, block.shape[1])
            scan.top.append((start + row, start + column, cosine))
        scan.top = sorted(scan.top, key=lambda pair: (-pair[2], pair[0], pair[1]))[:limit]
    return scan
