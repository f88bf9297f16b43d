"""Two evaluations side by side: which graph wins, by how much on each score, and why."""

from typing import Any

TIE_MARGIN = 0.02
"""Overall scores closer than this are a tie: re-evaluating one dream with another judge
answer, or dreaming it again with the same settings, moves its overall score about this much."""


def compare_evaluations(
    first: dict[str, Any],
    second: dict[str, Any],
    label1: str = "Graph 1",
    label2: str = "Graph 2",
) -> dict[str, Any]:
    """`{winner, scoreDifferences, insights}`: the winner by overall score ("Tie" within
    `TIE_MARGIN`); per score in both, the two values, the difference (second - first) and the
    change in percent of the first (None when the first is 0)."""
    one, two = first["scores"], second["scores"]
    differences = {
        name: {
            "graph1": one[name],
            "graph2": two[name],
            "difference": round(two[name] - one[name], 4),
            "percentChange": round((two[name] - one[name]) / one[name] * 100, 1)
            if one[name]
            else None,
        }
        for name in one
        if name in two
    }
    overall = differences.get("overall", {"difference": 0.0})["difference"]
    winner = "Tie" if abs(overall) < TIE_MARGIN else label2 if overall > 0 else label1
    return {
        "winner": winner,
        "scoreDifferences": differences,
        "insights": _insights(first, second, differences, winner, (label1, label2)),
    }


def _insights(
    first: dict[str, Any],
    second: dict[str, Any],
    differences: dict[str, dict[str, Any]],
    winner: str,
    labels: tuple[str, str],
) -> list[str]:
    label1, label2 = labels
    found = []
    if "overall" in differences:
        change = differences["overall"]
        grades = (first["summary"]["grade"], second["summary"]["grade"])
        if winner == "Tie":
            found.append(
                f"Overall the graphs tie: {change['graph1']:.2f} and {change['graph2']:.2f} "
                f"(grades {grades[0]} and {grades[1]})."
            )
        else:
            loser, ahead = (label1, grades[1]) if winner == label2 else (label2, grades[0])
            behind = grades[0] if winner == label2 else grades[1]
            found.append(
                f"{winner} wins overall by {abs(change['difference']):.2f} "
                f"(grade {ahead} against {loser}'s {behind})."
            )
    parts = {name: change for name, change in differences.items() if name != "overall"}
    if parts:
        gain = max(parts, key=lambda name: parts[name]["difference"])
        loss = min(parts, key=lambda name: parts[name]["difference"])
        if parts[gain]["difference"] > 0:
            found.append(_moved(f"{label2}'s biggest gain over {label1}", gain, parts[gain]))
        if parts[loss]["difference"] < 0:
            found.append(_moved(f"{label2}'s biggest loss to {label1}", loss, parts[loss]))
    found += _counts(first, second, labels)
    if first.get("evaluatedWith") != second.get("evaluatedWith"):
        found.append(
            "The two were evaluated differently (embeddings, judge or version): compare them "
            "with care."
        )
    return found


def _moved(what: str, name: str, change: dict[str, Any]) -> str:
    return (
        f"{what}: {name} {change['graph1']:.2f} -> {change['graph2']:.2f} "
        f"({change['difference']:+.2f})."
    )


def _counts(first: dict[str, Any], second: dict[str, Any], labels: tuple[str, str]) -> list[str]:
    """Sentences on the graphs' sizes and near duplicates."""
    label1, label2 = labels
    nodes = (first["metadata"]["nodeCount"], second["metadata"]["nodeCount"])
    found = [f"{label1} has {nodes[0]} nodes, {label2} {nodes[1]}."]
    pairs = [
        evaluation.get("details", {}).get("diversity", {}).get("nearDuplicatePairs")
        for evaluation in (first, second)
    ]
    if None not in pairs and pairs[0] != pairs[1]:
        found.append(f"Near-duplicate pairs: {pairs[0]} in {label1}, {pairs[1]} in {label2}.")
    return found
