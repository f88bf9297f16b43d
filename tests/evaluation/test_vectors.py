"""The near-duplicate scan: in chunks, it finds what comparing every pair finds."""

import itertools

import numpy as np
import pytest

from evaluation import vectors
from evaluation.vectors import embed, near_duplicates


def unit_rows(count: int, seed: int) -> np.ndarray:
    rows = np.random.default_rng(seed).standard_normal((count, 16)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


@pytest.mark.parametrize("scan_rows", [1, 7, 256])
def test_the_chunked_scan_finds_every_pair_a_full_comparison_finds(
    scan_rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vectors, "SCAN_ROWS", scan_rows)
    rows = unit_rows(60, seed=1)
    for copy, original in [(10, 3), (41, 3), (59, 20)]:  # planted duplicates, one a triple
        rows[copy] = rows[original] + 0.01
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    groups = np.full(60, -1)
    groups[[5, 50]] = 7  # equal contents: a pair whatever their cosine

    scan = near_duplicates(rows, 0.95, limit=3, groups=groups)

    expected = {
        (a, b)
        for a, b in itertools.combinations(range(60), 2)
        if rows[a] @ rows[b] >= 0.95 or (a, b) == (5, 50)
    }
    assert expected >= {(3, 10), (3, 41), (10, 41), (20, 59), (5, 50)}
    assert scan.pairs == len(expected)
    assert set(np.flatnonzero(scan.flagged)) == {row for pair in expected for row in pair}
    assert len(scan.top) == 3
    similarities = [cosine for _, _, cosine in scan.top]
    assert similarities == sorted(similarities, reverse=True)
    assert {(a, b) for a, b, _ in scan.top} <= expected - {(5, 50)}  # the closest ones


def test_a_scan_without_duplicates_flags_nothing() -> None:
    scan = near_duplicates(unit_rows(30, seed=2), 0.99, limit=5, groups=np.full(30, -1))

    assert (scan.pairs, scan.top, scan.flagged.any()) == (0, [], False)


def test_embed_gives_unit_rows_in_input_order_and_one_row_per_repeat() -> None:
    texts = ["Slow requests in checkout", "Sourdough starter", "Slow requests in checkout"]

    rows = embed(texts)

    assert rows.shape == (3, 384)
    assert np.allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(rows[0], rows[2])
    assert float(rows[0] @ rows[1]) < 0.5
    assert embed([]).shape == (0, 384)
