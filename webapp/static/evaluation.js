// A dream's Evaluation section: grade, scores, what it does well and badly, and the nodes
// concerned (each a link that selects its node).

import { ApiError, api } from "./api.js";
import { $, definitionRows, el, setText, textList } from "./dom.js";
import { figure, formatCost } from "./format.js";
import { nodeLink } from "./node-detail.js";
import { SCORE_LABELS, gradeBlock, scoreEntries, scoreLabel } from "./scores.js";
import { state } from "./state.js";

const WORKED_EXAMPLE = "worked example"; // what `copiedFrom` names when a node copies the prompt

let evaluationOf = null; // the id of the dream whose Evaluation section is shown
let evaluationBusy = null; // the id of the dream being evaluated

function scoreMeter([name, value]) {
  const id = `score-meter-${name}`;
  return el(
    "div",
    { class: name === "overall" ? "score overall" : "score" },
    el("label", { for: id, text: scoreLabel(name) }),
    el("meter", {
      id,
      "data-testid": `score-${name}`,
      min: 0,
      max: 1,
      low: 0.5,
      high: 0.75,
      optimum: 1,
      value,
    }),
    el("span", { class: "score-value", "aria-hidden": "true", text: value.toFixed(2) }),
  );
}

/** One kind of finding: its title and count, what it means, and an item per finding. */
function foundList(title, note, items, item, testId) {
  const list = Array.isArray(items) ? items : [];
  return el(
    "div",
    { class: "eval-list found", "data-testid": testId },
    el("h3", { text: `${title} (${list.length})` }),
    el("p", { class: "muted note", text: note }),
    list.length ? el("ul", {}, ...list.map((entry) => el("li", {}, ...item(entry)))) : el("p", { class: "muted", text: "None found." }),
  );
}

function foundParts(details) {
  const copiedFrom = (details.quality && details.quality.copiedFrom) || {};
  return [
    foundList(
      "Near duplicates",
      "Pairs of ideas that say nearly the same thing.",
      details.nearDuplicates,
      (pair) => [
        nodeLink(pair.a),
        el("span", { class: "muted", text: " and " }),
        nodeLink(pair.b),
        typeof pair.similarity === "number" ? el("span", { class: "muted", text: ` (similarity ${pair.similarity.toFixed(2)})` }) : null,
      ],
      "near-duplicates",
    ),
    foundList(
      "Off topic",
      "Ideas far from their parent and from both the customer and the product.",
      details.offTopic,
      (id) => [nodeLink(id)],
      "off-topic",
    ),
    foundList(
      "Copied",
      "Ideas that copy their parent, an anchor or the prompt's example instead of adding one.",
      details.copied,
      (id) => {
        const from = copiedFrom[id];
        const source = from === undefined ? null : from === WORKED_EXAMPLE ? "the prompt's worked example" : nodeLink(from);
        return [nodeLink(id), source ? el("span", { class: "muted", text: " copies " }) : null, source];
      },
      "copied",
    ),
    foundList(
      "Weak links",
      "Links whose rationale does not explain how one idea leads to the next.",
      details.weakLinks,
      (link) => [
        nodeLink(link.source),
        el("span", { class: "relationship", text: " → " }),
        nodeLink(link.target),
        link.reason ? el("span", { class: "rationale", text: String(link.reason) }) : null,
      ],
      "weak-links",
    ),
    details.judge
      ? foundList(
          "Rated low by the judge",
          "Links the LLM judge rated 2 or less of 5 on topic or on connection.",
          details.judge.lowRated,
          (link) => [
            nodeLink(link.source),
            el("span", { class: "relationship", text: " → " }),
            nodeLink(link.target),
            el("span", { class: "rationale", text: `on topic ${figure(link.onTopic)}/5, connection ${figure(link.connection)}/5` }),
          ],
          "low-rated",
        )
      : null,
    details.grounding
      ? foundList(
          "Not verified",
          "Ideas a web search did not confirm.",
          details.grounding.unverified,
          (id) => [nodeLink(id)],
          "unverified",
        )
      : null,
  ];
}

function judgeRows(judge) {
  if (!judge) return [["Judge", "none (embeddings and the graph's shape only)"]];
  const rated = typeof judge.ratedLinks === "number" ? `${judge.ratedLinks} of ${judge.links}` : judge.links;
  return [
    ["Judge", judge.model],
    ["Links rated", rated],
    ["From the cache", judge.cachedLinks],
    ["Judge calls", judge.calls],
    ["Tokens in / out", judge.inputTokens !== undefined ? `${judge.inputTokens} / ${judge.outputTokens}` : undefined],
    ["Judge cost", formatCost(judge.costUsd)],
  ];
}

/** The numbers behind each score (details.<score>), folded away. */
function figuresBlock(details) {
  const groups = Object.entries(details).filter(
    ([name, value]) => name in SCORE_LABELS && value && typeof value === "object" && !Array.isArray(value),
  );
  if (!groups.length) return null;
  return el(
    "details",
    { class: "figures" },
    el("summary", { text: "The figures behind the scores" }),
    ...groups.map(([name, values]) =>
      el(
        "div",
        {},
        el("h3", { text: scoreLabel(name) }),
        el("dl", { class: "kv" }, ...definitionRows(Object.entries(values).map(([key, value]) => [key, figure(value)]))),
      ),
    ),
  );
}

function evaluationParts(evaluation) {
  const summary = evaluation.summary || {};
  const details = evaluation.details || {};
  const shape = evaluation.metadata || {};
  const made = evaluation.evaluatedWith || {};
  return [
    el(
      "div",
      { class: "evaluation-top" },
      gradeBlock(summary.grade),
      el("div", { class: "scores" }, ...scoreEntries(evaluation.scores || {}).map(scoreMeter)),
      el(
        "dl",
        { class: "kv evaluation-facts", "data-testid": "evaluation-facts" },
        ...definitionRows([
          ["Nodes", shape.nodeCount],
          ["Links", shape.edgeCount],
          ["Links per node", shape.avgEdgesPerNode],
          ...judgeRows(details.judge),
          ["Embeddings", made.embeddings],
          ["Evaluation version", made.version],
          ["Evaluated", evaluation.evaluatedAt],
        ]),
      ),
    ),
    el(
      "div",
      { class: "evaluation-lists" },
      textList("Strengths", summary.strengths, "strengths"),
      textList("Weaknesses", summary.weaknesses, "weaknesses"),
      textList("Recommendations", summary.recommendations, "recommendations"),
    ),
    el("h3", { class: "found-title", text: "What the evaluation found" }),
    el("div", { class: "evaluation-found" }, ...foundParts(details)),
    figuresBlock(details),
  ];
}

export function setEvaluationStatus(text, isError = false) {
  setText("evaluation-status", text);
  $("evaluation-status").classList.toggle("error", isError);
}

/** Show the Evaluation section of dream `id` (hidden when `id` is null): `evaluation`, or
 * the Evaluate button when there is none yet. */
export function showEvaluationOf(id, evaluation) {
  evaluationOf = id;
  $("evaluation").hidden = id === null;
  setEvaluationStatus(evaluationBusy !== null && evaluationBusy === id ? "Evaluating…" : "");
  renderEvaluation(evaluation);
}

function renderEvaluation(evaluation) {
  const busy = evaluationBusy !== null && evaluationBusy === evaluationOf;
  $("evaluate").hidden = Boolean(evaluation);
  $("re-evaluate").hidden = !evaluation;
  $("evaluate").disabled = busy;
  $("re-evaluate").disabled = busy;
  $("evaluation").setAttribute("aria-busy", busy ? "true" : "false");
  $("evaluation-body").replaceChildren(
    ...(evaluation
      ? evaluationParts(evaluation)
      : [el("p", { class: "muted", text: "Not evaluated yet. Evaluate scores the dream's ideas, links and shape and grades it A to F." })]),
  );
}

/** POST the evaluation of the dream shown (`refresh`: evaluate again) and show it. */
async function evaluate(refresh) {
  const id = evaluationOf;
  if (id === null || evaluationBusy !== null) return;
  evaluationBusy = id;
  const previous = state.dream && state.dream.id === id ? state.dream.evaluation : undefined;
  renderEvaluation(previous);
  setEvaluationStatus("Evaluating… (the first one loads the embeddings; an LLM judge takes longer)");
  try {
    const answer = await api(`/api/v1/eval/graph/${encodeURIComponent(id)}${refresh ? "?refresh=true" : ""}`, {
      method: "POST",
    });
    evaluationBusy = null;
    if (state.dream && state.dream.id === id) state.dream.evaluation = answer.evaluation;
    if (evaluationOf !== id) return; // another dream is shown now
    renderEvaluation(answer.evaluation);
    setEvaluationStatus(`Evaluated: grade ${(answer.evaluation.summary || {}).grade ?? "?"}.`);
  } catch (error) {
    evaluationBusy = null;
    if (evaluationOf !== id) return;
    renderEvaluation(previous);
    const status = error instanceof ApiError ? ` (${error.status})` : "";
    setEvaluationStatus(`The evaluation failed${status}: ${error.message}`, true);
  }
}

export function startEvaluation() {
  $("evaluate").addEventListener("click", () => evaluate(false));
  $("re-evaluate").addEventListener("click", () => evaluate(true));
}
