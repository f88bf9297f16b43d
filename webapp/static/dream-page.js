// One dream's page: its graph, run facts, quality report, exports and Evaluation section;
// `#/graphs/{id}` loads it from the library.

import { api, authorizedFetch, okOrThrow } from "./api.js";
import { $, definitionRows, el, narrow, setText } from "./dom.js";
import { setEvaluationStatus, showEvaluationOf } from "./evaluation.js";
import { formatCost } from "./format.js";
import { PRODUCT_FEATURE, draw } from "./graph-view.js";
import { searchNodes, selectNode } from "./node-detail.js";
import { state } from "./state.js";

const EXPORT_FORMATS = ["json", "graphml", "mermaid", "cypher", "html"];

function parentsOf(nodes) {
  const parents = new Map();
  for (const node of nodes) {
    for (const edge of node.edge || []) {
      if (edge.target_id !== PRODUCT_FEATURE && !parents.has(edge.target_id)) {
        parents.set(edge.target_id, { parent: node, edge });
      }
    }
  }
  return parents;
}

export function showDream(record) {
  const nodes = record.nodes || [];
  const metadata = record.metadata || {};
  state.dream = {
    ...record,
    nodes,
    metadata,
    byId: new Map(nodes.map((node) => [node.id, node])),
    parents: parentsOf(nodes),
  };
  $("dream").hidden = false;
  setText("dream-title", record.customer ? `${record.customer} → ${record.product}` : "Dream");
  setText("dream-subtitle", record.id || "");
  setText("dream-status", "");
  const generations = metadata.generations ?? Math.max(0, ...nodes.map((n) => n.generation || 0));
  draw(nodes, generations, { onSelect: selectNode });
  $("node-search").value = "";
  $("node-matches").replaceChildren();
  $("node-detail").replaceChildren(el("p", { class: "muted", text: "Click a node, or find one, to read it." }));
  $("dream-extra").hidden = false;
  showMeta(record, metadata);
  showQuality(metadata.quality);
  showExports(record.id);
  showEvaluationOf(record.id ?? null, record.evaluation);
}

function showMeta(record, metadata) {
  const usage = metadata.usage || {};
  const rows = [
    ["Nodes", record.nodeCount ?? (record.nodes || []).length],
    ["Generations", metadata.generations],
    ["Children", metadata.childrenCount],
    ["Time", metadata.generationTime !== undefined ? `${metadata.generationTime} ms` : record.generationTimeMs !== undefined ? `${record.generationTimeMs} ms` : undefined],
    ["LLM calls", usage.llm_calls],
    ["Cost", formatCost(metadata.cost_usd)],
    ["Model", metadata.model],
    ["Created", record.createdAt],
  ];
  $("dream-meta").replaceChildren(...definitionRows(rows));
}

function showQuality(quality) {
  if (!quality) {
    $("quality").replaceChildren(el("dd", { text: "No quality report." }));
    return;
  }
  const rows = Object.entries(quality).map(([name, value]) => [
    name.replaceAll("_", " "),
    value === null ? "n/a" : typeof value === "number" && !Number.isInteger(value) ? value.toFixed(2) : typeof value === "object" ? JSON.stringify(value) : value,
  ]);
  $("quality").replaceChildren(...definitionRows(rows));
}

function showExports(id) {
  const links = EXPORT_FORMATS.map((format) => {
    const href = `/api/v1/dreams/${encodeURIComponent(id)}/export?format=${format}`;
    return el("a", {
      class: "button secondary",
      href,
      download: `${id}.${{ json: "json", graphml: "graphml", mermaid: "mmd", cypher: "cypher", html: "html" }[format]}`,
      text: format.toUpperCase(),
      onclick: (event) => {
        event.preventDefault();
        download(href, event.currentTarget.getAttribute("download"));
      },
    });
  });
  $("exports").replaceChildren(...links);
}

/** Fetch an export with the API key and save it (a plain link could not send the key). */
async function download(href, name) {
  try {
    const response = await okOrThrow(await authorizedFetch(href));
    const url = URL.createObjectURL(await response.blob());
    const link = el("a", { href: url, download: name });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (error) {
    setText("dream-status", `Export failed: ${error.message}`);
  }
}

/** Show the stored dream `id` (loaded unless it is the one shown), then select `nodeId`. */
export async function openGraph(id, nodeId) {
  $("dream").hidden = false;
  if (!state.dream || state.dream.id !== id) {
    state.dream = null;
    setText("dream-title", "Dream");
    setText("dream-subtitle", id);
    setText("dream-status", "Loading…");
    draw([], 1, { placeholder: true });
    $("dream-extra").hidden = true;
    showEvaluationOf(null);
    try {
      showDream(await api(`/api/v1/graphs/${encodeURIComponent(id)}`));
    } catch (error) {
      if (error.status !== 404) {
        setText("dream-status", `Could not load the dream: ${error.message}`);
        return;
      }
      setText("dream-status", `No stored dream ${id}.`);
      // The server also evaluates a finished dream from its workspace, outside the library.
      showEvaluationOf(id, undefined);
      setEvaluationStatus("The library has no record of this dream; the server may still find its workspace.");
      return;
    }
  }
  if (nodeId) selectNode(nodeId);
}

export function startDreamPage() {
  $("node-search").addEventListener("input", (event) => searchNodes(event.target.value));
  let wasNarrow = narrow();
  window.addEventListener("resize", () => {
    if (narrow() === wasNarrow) return;
    wasNarrow = narrow();
    if (state.dream) showDream(state.dream); // the layout turns: top-down on phones, left-right else
  });
}
