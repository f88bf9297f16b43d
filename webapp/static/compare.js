// Two dreams compared: #/compare/{id1}/{id2}, shareable.

import { ApiError, api } from "./api.js";
import { $, el, setText, textList } from "./dom.js";
import { signed } from "./format.js";
import { gradeBlock, scoreEntries, scoreLabel } from "./scores.js";

const COMPARE_LABELS = ["Dream A", "Dream B"];

let comparing = null; // "id1/id2" of the comparison shown or loading

function compareDreamCard(side, testId) {
  const made = side.graphMetadata || {};
  const summary = (side.evaluation && side.evaluation.summary) || {};
  const overall = side.evaluation && side.evaluation.scores ? side.evaluation.scores.overall : undefined;
  return el(
    "div",
    { class: "card compare-dream", "data-testid": testId },
    el("h2", { text: side.label }),
    gradeBlock(summary.grade, `${testId}-grade`),
    el(
      "a",
      { href: `#/graphs/${encodeURIComponent(side.graphId)}`, class: "title", "data-testid": `${testId}-link` },
      el("span", { text: made.customer ?? "" }),
      " → ",
      el("span", { text: made.product ?? "" }),
    ),
    el(
      "p",
      { class: "muted", text: [typeof overall === "number" ? `overall ${overall.toFixed(2)}` : null, made.createdAt, side.graphId].filter(Boolean).join(" · ") },
    ),
  );
}

function scoreTable(differences, labels) {
  const rows = scoreEntries(Object.fromEntries(Object.entries(differences).map(([name, row]) => [name, row.graph1])))
    .map(([name]) => [name, differences[name]]);
  const cell = (value, better) =>
    el("td", { class: better ? "num better" : "num", "data-value": value, text: typeof value === "number" ? value.toFixed(2) : "n/a" });
  return el(
    "div",
    { class: "table-wrap" },
    el(
      "table",
      { class: "scores-table", "data-testid": "score-table" },
      el("caption", { text: `Scores from 0 to 1; the change is ${labels[1]} − ${labels[0]} (in percent of ${labels[0]}).` }),
      el(
        "thead",
        {},
        el("tr", {}, ...["Score", labels[0], labels[1], "Change"].map((text) => el("th", { scope: "col", text }))),
      ),
      el(
        "tbody",
        {},
        ...rows.map(([name, row]) =>
          el(
            "tr",
            { "data-testid": `compare-${name}` },
            el("th", { scope: "row", text: scoreLabel(name) }),
            cell(row.graph1, row.graph1 > row.graph2),
            cell(row.graph2, row.graph2 > row.graph1),
            el(
              "td",
              { class: `num ${row.difference > 0 ? "up" : row.difference < 0 ? "down" : ""}` },
              el("span", { "data-testid": "difference", "data-value": row.difference, text: signed(row.difference, 2) }),
              " ",
              el("span", {
                class: "percent",
                "data-testid": "percent",
                "data-value": row.percentChange ?? "",
                text: typeof row.percentChange === "number" ? `(${signed(row.percentChange, 1)}%)` : "(n/a)",
              }),
            ),
          ),
        ),
      ),
    ),
  );
}

function comparisonParts(answer) {
  const { graph1, graph2, comparison } = answer;
  const labels = [graph1.label, graph2.label];
  const won = comparison.winner === graph1.label ? graph1 : comparison.winner === graph2.label ? graph2 : null;
  const wonWhat = won && won.graphMetadata ? ` — ${won.graphMetadata.customer} → ${won.graphMetadata.product}` : "";
  return [
    el(
      "p",
      { class: "card verdict" },
      el("span", { text: "Winner: " }),
      el("strong", { "data-testid": "winner", text: comparison.winner }),
      el("span", { class: "muted", text: wonWhat }),
    ),
    el("div", { class: "compare-dreams" }, compareDreamCard(graph1, "compare-a"), compareDreamCard(graph2, "compare-b")),
    el("div", { class: "card" }, el("h2", { text: "Scores" }), scoreTable(comparison.scoreDifferences || {}, labels)),
    el("div", { class: "card" }, textList("Insights", comparison.insights, "insights", "h2")),
  ];
}

export async function openCompare(first, second) {
  const key = `${first}/${second}`;
  comparing = key;
  $("compare-body").replaceChildren();
  $("view-compare").setAttribute("aria-busy", "true");
  setText("compare-status", "Comparing… (a dream not evaluated yet is evaluated first)");
  $("compare-status").classList.remove("error");
  try {
    const answer = await api("/api/v1/eval/compare", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ graphId1: first, graphId2: second, label1: COMPARE_LABELS[0], label2: COMPARE_LABELS[1] }),
    });
    if (comparing !== key) return;
    $("compare-body").replaceChildren(...comparisonParts(answer));
    setText("compare-status", "");
  } catch (error) {
    if (comparing !== key) return;
    const status = error instanceof ApiError ? ` (${error.status})` : "";
    setText("compare-status", `Could not compare the dreams${status}: ${error.message}`);
    $("compare-status").classList.add("error");
  } finally {
    if (comparing === key) $("view-compare").setAttribute("aria-busy", "false");
  }
}
