"""What the embedding model's cosines mean: the constants every embedding measure is read with.

Measured with the offline all-MiniLM-L6-v2 (ONNX int8, normalised vectors) on hand-written
texts: a coherent tracing dream (K=3, G=2, the graph in tests/evaluation/graphs.py), needs of
customers in three other domains (meal kits, payroll, farmers-market bakers) against their own
anchors, ideas from unrelated domains (sourdough, gardening, marathons, weddings) and generic
business text ("Companies must keep their customers happy to succeed") against the tracing
dream, a real K=3, G=2 dream of the embedded SmolLM2-135M on the tracing customer and product,
and paraphrase pairs against pairs of related but different ideas. Another embedding model
needs new figures: these constants hold for MiniLM only.
"""

import numpy as np

EMBEDDINGS = "local:all-MiniLM-L6-v2"
"""The model every figure here was measured with (always the offline one, whatever
CODREAMER_EMBEDDINGS says: the constants below are its, not another model's)."""

RELATED_LOW = 0.05
"""Cosine at or below which two texts are unrelated (calibrated to 0): unrelated-domain ideas
against the tracing dream's ideas measured a median of 0.04 (max 0.17)."""
RELATED_HIGH = 0.35
"""Cosine at or above which a text plainly follows from another (calibrated to 1): a coherent
child and its parent measured a median of 0.43 (0.21-0.67); a rationale and the farther of
its link's two ends a median of 0.41 (0.20-0.67)."""

TOPIC_LOW = 0.15
"""Cosine with the dream's topic ("customer: product" as one text) at or below which an idea
is not about this dream (calibrated to 0). Unrelated domains measured 0.03 (-0.02-0.06);
generic business text 0.19 (tracing) and 0.26 (payroll); the SmolLM2-135M dream, all
business platitudes ("Businesses have become the new norm"), 0.21 (0.14-0.26)."""
TOPIC_HIGH = 0.35
"""Cosine with the dream's topic at or above which an idea is plainly about it (calibrated to
1). Real needs in four domains measured means of 0.30-0.42 (0.10-0.63 per idea: a specific
need such as "Slow database queries" can sit low, which the parent part makes up)."""

OFF_TOPIC = 0.3
"""A grown node whose quality is below this is listed as off topic. The tracing dream's
ideas score 0.49 and up, unrelated-domain ideas put under them 0.07 at most."""
WEAK_LINK = 0.3
"""A link whose score is below this is listed as weak (a cosine below 0.14 with one of its
ends; the tracing dream's rationales score 0.51 and up)."""

NEAR_DUPLICATE = 0.85
"""Two grown nodes at this cosine or above say the same thing. Paraphrases (another name,
the same idea in other words) measured 0.85-0.98; related but different ideas ("Slow database
queries" / "Slow cache lookups", "Cascading failures" / "Retry storms", "Alert fatigue" /
"Too many alerts") 0.43-0.76; distinct siblings of the four dreams 0.10-0.61. A node copying
another's content under a new name can score as low as 0.83: equal contents are duplicates
whatever their cosine."""
SIBLINGS_DISTINCT = 0.5
"""Siblings at this cosine or below are fully distinct (spread 1): the four dreams' siblings
measured medians of 0.17-0.46. From here to NEAR_DUPLICATE (spread 0) the spread falls
linearly."""
COPY_COSINE = 0.97
"""A grown node this close to its parent or an anchor copies it (the same text with other
punctuation measured 0.98)."""


def calibrated(
    cosine: np.ndarray, low: float = RELATED_LOW, high: float = RELATED_HIGH
) -> np.ndarray:
    """Cosines mapped to [0, 1]: `low` or less is 0, `high` or more is 1, linear between."""
    return np.clip((cosine - low) / (high - low), 0.0, 1.0)


def sibling_spread(cosine: np.ndarray) -> np.ndarray:
    """Cosines of sibling pairs mapped to [0, 1]: 1 when distinct, 0 when near duplicates."""
    return np.clip((NEAR_DUPLICATE - cosine) / (NEAR_DUPLICATE - SIBLINGS_DISTINCT), 0.0, 1.0)
