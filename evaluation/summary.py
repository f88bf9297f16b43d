"""The evaluation in words: a grade, and strengths, weaknesses and recommendations written from
the figures (counts and the ids of the nodes and links behind them)."""

from typing import Any

GRADES = (("A", 0.85), ("B", 0.7), ("C", 0.55), ("D", 0.4))
"""The lowest overall score of each grade; below the last, F (the brief's thresholds). The
coherent test graph scores 0.91 (A); the embedded SmolLM2-135M's dream of platitudes 0.65 (C);
the test graph with a sixth of its ideas off topic, one copied, one empty and 6 of its 21
rationales two words long, 0.69 (C)."""
STRONG = 0.8
"""A score this high is named a strength."""
WEAK = 0.7
"""A score below this is named a weakness (with what pulled it down)."""
EXAMPLES = 2
"""Ids named as examples in one sentence."""

RECOMMEND = {
    "completeness": "Check the dream's warnings for parents left unexpanded or nodes without "
    "content; raise CODREAMER_LLM_RETRIES or CODREAMER_LLM_TIMEOUT and dream again (with "
    "CODREAMER_LLM_CACHE set, only the failed calls are made again).",
    "quality": "Use a stronger model via CODREAMER_MODEL, and make the customer and product "
    "descriptions specific: off-topic or copied ideas mean the model lost the thread.",
    "relationships": "Use a stronger model via CODREAMER_MODEL: empty or generic rationales "
    "are typical of small models.",
    "diversity": "Raise the temperature for more varied children, or lower K (children_count) "
    "so that each parent's children can differ.",
    "pathToProduct": "Dream again or check the warnings: the step linking leaves to the "
    "Product Feature failed for some of them.",
    "grounding": "Review the unverified nodes (details.grounding.unverified) before acting on "
    "them, or verify them again.",
    "unjudged": "Evaluate again to rate the links the judge missed (its ratings so far are "
    "cached), or raise CODREAMER_LLM_RETRIES.",
    "judge": "Set CODREAMER_JUDGE_MODEL for an LLM judge's ratings beside the embedding measures.",
    "verify": "Turn on verification with CODREAMER_VERIFY to check the ideas against web "
    "sources (it adds the grounding score).",
    "grow": "Nothing stands out to fix: to explore further, raise G (generations) or K.",
}
"""What to do about a weakness, by the score it lowers."""
LABELS = {
    "completeness": "Completeness",
    "quality": "Quality",
    "relationships": "Relationships",
    "diversity": "Diversity",
    "pathToProduct": "Path to product",
    "grounding": "Grounding",
}


def grade(overall: float) -> str:
    return next((letter for letter, lowest in GRADES if overall >= lowest), "F")


def summarize(scores: dict[str, float], details: dict[str, Any]) -> dict[str, Any]:
    """`summary`: the grade of the overall score and sentences about each score."""
    if details["completeness"]["grownNodes"] == 0:
        return {
            "grade": grade(scores["overall"]),
            "strengths": [],
            "weaknesses": ["No nodes were grown: the graph holds only its anchors."],
            "recommendations": [RECOMMEND["completeness"]],
        }
    strengths = [text for name, text in _strengths(scores, details) if scores[name] >= STRONG]
    weaknesses = _weaknesses(scores, details) + _judge_weaknesses(details)
    recommendations = [RECOMMEND[name] for name in dict.fromkeys(name for name, _ in weaknesses)]
    if "grounding" not in scores:
        recommendations.append(RECOMMEND["verify"])
    if "judge" not in details and min(scores["quality"], scores["relationships"]) < WEAK:
        recommendations.append(RECOMMEND["judge"])
    if not weaknesses:
        recommendations.insert(0, RECOMMEND["grow"])
    if not strengths:
        best = max(LABELS.keys() & scores.keys(), key=scores.__getitem__)
        strengths = [f"{LABELS[best]} is the strongest score ({scores[best]:.2f})."]
    return {
        "grade": grade(scores["overall"]),
        "strengths": strengths,
        "weaknesses": [text for _, text in weaknesses],
        "recommendations": recommendations,
    }


def _strengths(scores: dict[str, float], details: dict[str, Any]) -> list[tuple[str, str]]:
    shape, quality = details["completeness"], details["quality"]
    links, pairs = details["relationships"], details["diversity"]["nearDuplicatePairs"]
    path, grown = details["pathToProduct"], shape["grownNodes"]
    kept = grown - quality["offTopicCount"] - quality["copiedCount"]
    strong = links["links"] - links["weakLinkCount"]
    found = [
        (
            "completeness",
            f"The graph is complete: {shape['substantiveNodes']} of {shape['expectedNodes']} "
            f"expected nodes have content, and {shape['exactK']:.0%} of parents have exactly "
            f"{shape['childrenCount']} children.",
        ),
        (
            "quality",
            f"{kept} of {_count(grown, 'grown node')} {_be(kept, 'stays', 'stay')} on topic "
            f"(quality {scores['quality']:.2f}).",
        ),
        (
            "relationships",
            f"{strong} of {_count(links['links'], 'link')} {_be(strong, 'has', 'have')} a "
            "rationale that connects both ends.",
        ),
        (
            "diversity",
            f"Only {_count(pairs, 'near-duplicate pair')} among {_count(grown, 'grown node')}."
            if pairs
            else f"No near-duplicate ideas among {_count(grown, 'grown node')}.",
        ),
        (
            "pathToProduct",
            f"{path['reaching']} of {_count(path['of'], 'node')} reach the Product Feature.",
        ),
    ]
    if "grounding" in details:
        ground = details["grounding"]
        verified = f"{ground['verified']} of {_count(ground['of'], 'grown node')}"
        found.append(("grounding", f"{verified} were verified by a web search."))
    return found


def _weaknesses(scores: dict[str, float], details: dict[str, Any]) -> list[tuple[str, str]]:
    """(score name, sentence) for each problem the figures show."""
    shape, quality = details["completeness"], details["quality"]
    links, diversity = details["relationships"], details["diversity"]
    path, grown = details["pathToProduct"], shape["grownNodes"]
    found: list[tuple[str, str]] = []
    if shape["substantiveNodes"] < shape["expectedNodes"]:
        found.append(
            (
                "completeness",
                f"Only {shape['substantiveNodes']} of {shape['expectedNodes']} expected nodes "
                f"were grown with content (K={shape['childrenCount']}, "
                f"G={shape['generations']}).",
            )
        )
    if shape["exactK"] < 1:
        found.append(
            (
                "completeness",
                f"Only {shape['exactK']:.0%} of parents have exactly {shape['childrenCount']} "
                "children.",
            )
        )
    if count := shape["emptyContentCount"]:
        found.append(
            (
                "completeness",
                f"{_count(count, 'node')} {_be(count, 'has', 'have')} empty or near-empty "
                f"content, e.g. {_ids(shape['emptyContent'])}.",
            )
        )
    if count := quality["offTopicCount"]:
        lowest = {item["id"]: item["score"] for item in quality["lowest"]}
        examples = ", ".join(
            f"{node_id} ({lowest[node_id]:.2f})" if node_id in lowest else node_id
            for node_id in details["offTopic"][:EXAMPLES]
        )
        found.append(
            (
                "quality",
                f"{count} of {_count(grown, 'grown node')} {_be(count, 'is', 'are')} off "
                f"topic, e.g. {examples}.",
            )
        )
    if count := quality["copiedCount"]:
        examples = ", ".join(
            f"{node_id} copies {quality['copiedFrom'][node_id]}"
            for node_id in details["copied"][:EXAMPLES]
        )
        found.append(
            (
                "quality",
                f"{_count(count, 'node')} {_be(count, 'copies', 'copy')} text instead of adding "
                f"an idea: {examples}.",
            )
        )
    if count := links["weakLinkCount"]:
        first = details["weakLinks"][0]
        trivial = links["textProblems"]
        which = f" ({trivial} empty, trivial or copied)" if trivial else ""
        found.append(
            (
                "relationships",
                f"{count} of {_count(links['links'], 'link')} {_be(count, 'has', 'have')} a "
                f"weak rationale{which}, e.g. {first['source']} -> {first['target']}: "
                f"{first['reason']}.",
            )
        )
    if count := diversity["nearDuplicatePairs"]:
        pair = details["nearDuplicates"][0]
        found.append(
            (
                "diversity",
                f"{_count(count, 'near-duplicate pair')}, e.g. {pair['a']} and {pair['b']} "
                f"({pair['similarity']:.2f}).",
            )
        )
    spread = diversity["siblingSpread"]
    if spread is not None and spread < WEAK:
        found.append(
            (
                "diversity",
                f"Siblings are alike: mean cosine {diversity['meanSiblingSimilarity']:.2f} "
                f"(spread {spread:.2f}).",
            )
        )
    if count := path["of"] - path["reaching"]:
        found.append(
            (
                "pathToProduct",
                f"{count} of {_count(path['of'], 'node')} {_be(count, 'has', 'have')} no path "
                f"to the Product Feature, e.g. {_ids(path['missing'])}.",
            )
        )
    if "grounding" in details and scores["grounding"] < WEAK:
        ground = details["grounding"]
        found.append(
            (
                "grounding",
                f"Only {ground['verified']} of {_count(ground['of'], 'grown node')} "
                f"{_be(ground['verified'], 'was', 'were')} verified; "
                f"{_ids(ground['unverified'])} not.",
            )
        )
    return found


def _judge_weaknesses(details: dict[str, Any]) -> list[tuple[str, str]]:
    judge = details.get("judge")
    if judge is None:
        return []
    found: list[tuple[str, str]] = []
    if count := judge["unratedLinks"]:
        failure = f" ({judge['failures'][0]})" if judge["failures"] else ""
        found.append(
            (
                "unjudged",
                f"The judge did not rate {count} of {_count(judge['links'], 'link')}{failure}: "
                f"{_be(count, 'it is', 'they are')} scored by the embedding measures alone.",
            )
        )
    if count := judge["lowRatedCount"]:
        low = judge["lowRated"][0]
        found.append(
            (
                "quality" if low["onTopic"] <= low["connection"] else "relationships",
                f"The judge rated {count} of {_count(judge['ratedLinks'], 'link')} 2 or lower, "
                f"e.g. {low['source']} -> {low['target']} (on topic {low['onTopic']}/5, "
                f"connection {low['connection']}/5).",
            )
        )
    return found


def _count(count: int, noun: str) -> str:
    """ "1 node", "2 nodes"."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _be(count: int, one: str, more: str) -> str:
    return one if count == 1 else more


def _ids(ids: list[str]) -> str:
    return ", ".join(ids[:EXAMPLES])
