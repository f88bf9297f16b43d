// An evaluation's scores and grade as both the Evaluation section and the compare page show them.

import { el } from "./dom.js";

/** The known scores, in the order they are shown. */
export const SCORE_LABELS = {
  overall: "Overall",
  completeness: "Completeness",
  quality: "Quality",
  relationships: "Relationships",
  diversity: "Diversity",
  pathToProduct: "Path to product",
  grounding: "Grounding",
};

export function scoreLabel(name) {
  return SCORE_LABELS[name] ?? name.replace(/([A-Z])/g, " $1").replace(/^./, (c) => c.toUpperCase());
}

/** [name, value] of the numeric scores: the known ones in their order, then any others. */
export function scoreEntries(scores) {
  const names = [...Object.keys(SCORE_LABELS), ...Object.keys(scores).filter((name) => !(name in SCORE_LABELS))];
  return names.filter((name) => typeof scores[name] === "number").map((name) => [name, scores[name]]);
}

export function gradeBlock(grade, testId = "grade") {
  const letter = typeof grade === "string" && grade ? grade : "?";
  const known = /^[A-F]$/.test(letter) ? ` grade-${letter}` : "";
  return el(
    "p",
    { class: `grade${known}` },
    el("span", { class: "grade-label", text: "Grade " }),
    el("strong", { class: "grade-letter", "data-testid": testId, text: letter }),
  );
}
