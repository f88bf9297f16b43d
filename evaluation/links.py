"""The relationships score: whether each link's rationale really connects its two ends."""

import random

import numpy as np

from evaluation.calibration import WEAK_LINK, calibrated
from evaluation.graph_view import DETAIL_LIMIT, GraphView, Link, Score, Verdict, rating_share
from evaluation.vectors import GraphVectors, row_cosines
from nodes.copies import copied_sentence
from outputs.quality import normalised

MIN_RATIONALE_WORDS = 4
"""A rationale of fewer words ("Because.", "It helps") explains nothing: the link scores 0."""
LINK_SAMPLE = 4_000
"""The most rationales embedded. A bigger graph's links all get the text checks, but only a
fixed random sample of this many is embedded; the others take the sample's mean (MiniLM
embeds ~145 texts a second on one core: the 35,000 rationales of a 20,000-node graph would
take four minutes)."""


def link_problem(view: GraphView, link: Link) -> str | None:
    """Why the link fails on its text alone (it then scores 0), or None."""
    if link.target not in view.by_id:
        return f"its target {link.target} is not in the graph"
    if not normalised(link.relationship):
        return "no relationship label"
    words = len(normalised(link.rationale).split())
    if words == 0:
        return "empty rationale"
    if words < MIN_RATIONALE_WORDS:
        return f"a {words}-word rationale"
    if copied_sentence(link.rationale) is not None:
        return "its rationale copies the prompt's worked example"
    rationale = normalised(link.rationale)
    for end in (link.source, link.target):
        if rationale == normalised(view.by_id[end]["content"]):
            return f"its rationale repeats the text of {end}"
    return None


def links_to_embed(view: GraphView, problems: list[str | None]) -> list[int]:
    """Indexes of the links whose rationales are embedded: those passing the text checks, or a
    fixed sample of `LINK_SAMPLE` of them (the same graph always gets the same sample)."""
    passing = [index for index, problem in enumerate(problems) if problem is None]
    if len(passing) <= LINK_SAMPLE:
        return passing
    return sorted(random.Random(len(view.links)).sample(passing, LINK_SAMPLE))


def relationships(
    view: GraphView,
    vectors: GraphVectors,
    problems: list[str | None],
    verdicts: dict[tuple[str, str], Verdict],
) -> Score:
    """Per link: 0 when it fails on its text; else the lesser of its rationale's calibrated
    similarities to the source and to the target, averaged with the judge's connection rating
    when the judge rated it. The score is the mean over every link (leaf to product included)."""
    ends = _end_cosines(view, vectors)
    lesser = calibrated(np.array([min(pair) for pair in ends.values()])).tolist()
    measured: dict[int, float] = dict(zip(ends, lesser, strict=True))
    estimate = float(np.mean(list(measured.values()))) if measured else 0.0
    weak: list[tuple[float, Link, str]] = []
    embedding, combined, judged = [], [], []
    for index, link in enumerate(view.links):
        part = 0.0 if problems[index] is not None else measured.get(index, estimate)
        verdict = verdicts.get((link.source, link.target))
        score = part
        if verdict is not None and problems[index] is None:
            judged.append(rating_share(verdict.connection))
            score = (part + judged[-1]) / 2
        embedding.append(part)
        combined.append(score)
        if score < WEAK_LINK:
            reason = problems[index] or _weak_reason(link, ends.get(index), verdict)
            weak.append((score, link, reason))
    weak.sort(key=lambda item: (item[0], item[1].source, item[1].target))
    figures = {
        "links": len(view.links),
        "embedding": round(float(np.mean(embedding)), 4) if embedding else 0.0,
        "judge": round(float(np.mean(judged)), 4) if judged else None,
        "judgedLinks": len(judged),
        "embeddedLinks": len(measured),
        "textProblems": sum(problem is not None for problem in problems),
        "weakLinkCount": len(weak),
    }
    found = [
        {"source": link.source, "target": link.target, "reason": reason, "score": round(score, 4)}
        for score, link, reason in weak[:DETAIL_LIMIT]
    ]
    return Score(float(np.mean(combined)) if combined else 0.0, figures, {"weakLinks": found})


def _end_cosines(view: GraphView, vectors: GraphVectors) -> dict[int, tuple[float, float]]:
    """Link index -> cosines of its rationale with its source and with its target (for the
    embedded links)."""
    embedded = list(vectors.rationale_row)
    rationales = [vectors.rationale_row[index] for index in embedded]
    found = {}
    for end in ("source", "target"):
        rows = [vectors.row[getattr(view.links[index], end)] for index in embedded]
        found[end] = row_cosines(vectors.rationales, rationales, vectors.nodes, rows)
    pairs = zip(found["source"].tolist(), found["target"].tolist(), strict=True)
    return dict(zip(embedded, pairs, strict=True))


def _weak_reason(link: Link, cosines: tuple[float, float] | None, verdict: Verdict | None) -> str:
    if cosines is not None:
        end, cosine = min(zip((link.source, link.target), cosines, strict=True), key=_second)
        if float(calibrated(np.array(cosine))) < WEAK_LINK:
            return f"its rationale hardly relates to {end} (cosine {cosine:.2f})"
    if verdict is not None:
        return f"the judge rated its connection {verdict.connection}/5"
    return "its rationale is vague"


def _second(pair: tuple[str, float]) -> float:
    return pair[1]
