// The library: stored dreams (filters, paging, delete, dreams ticked to compare) and the
// search for ideas across dreams.

import { api, query } from "./api.js";
import { $, el, setText } from "./dom.js";
import { short } from "./format.js";

const PAGE_SIZE = 10;

const library = { offset: 0, customer: "", product: "", picked: new Set() }; // picked: ids to compare

export async function loadLibrary() {
  setText("library-status", "Loading…");
  try {
    const page = await api(
      `/api/v1/graphs?${query({ customer: library.customer, product: library.product, limit: PAGE_SIZE, offset: library.offset })}`,
    );
    $("graph-list").replaceChildren(...page.graphs.map(graphRow));
    const first = page.graphs.length ? page.offset + 1 : 0;
    setText("page-info", `${first}-${page.offset + page.graphs.length} of ${page.total}`);
    $("prev-page").disabled = page.offset === 0;
    $("next-page").disabled = !page.hasMore;
    setText("library-status", page.total ? "" : "No stored dream matches.");
  } catch (error) {
    setText("library-status", `Could not load the library: ${error.message}`);
  }
}

function graphRow(graph) {
  const link = el("a", { href: `#/graphs/${encodeURIComponent(graph.id)}`, class: "title" },
    el("span", { text: graph.customer }), " → ", el("span", { text: graph.product }));
  const facts = [
    `${graph.nodeCount} nodes`,
    `${graph.generationTimeMs} ms`,
    graph.createdAt,
    graph.model,
  ].filter(Boolean).join(" · ");
  const pick = el("input", {
    type: "checkbox",
    "data-testid": "compare-pick",
    "aria-label": `Compare ${graph.customer} → ${graph.product}`,
    checked: library.picked.has(graph.id),
    onchange: (event) => {
      if (event.target.checked) library.picked.add(graph.id);
      else library.picked.delete(graph.id);
      updateComparePick();
    },
  });
  const grade = typeof graph.grade === "string" && graph.grade ? graph.grade : null;
  return el(
    "li",
    { "data-testid": "graph-row", class: "card graph-row" },
    el("label", { class: "pick" }, pick, el("span", { text: "Compare" })),
    el("div", { class: "row-main" }, link, el("span", { class: "muted", text: facts })),
    grade
      ? el("span", {
          class: `grade-badge${/^[A-F]$/.test(grade) ? ` grade-${grade}` : ""}`,
          "data-testid": "graph-grade",
          text: `Grade ${grade}`,
        })
      : null,
    el("button", {
      type: "button",
      class: "danger",
      "aria-label": `Delete the dream ${graph.customer} → ${graph.product}`,
      text: "Delete",
      onclick: () => deleteGraph(graph),
    }),
  );
}

async function deleteGraph(graph) {
  if (!window.confirm(`Delete the dream "${graph.customer} → ${graph.product}"?`)) return;
  try {
    await api(`/api/v1/graphs/${encodeURIComponent(graph.id)}`, { method: "DELETE" });
    library.picked.delete(graph.id);
    updateComparePick();
    setText("library-status", "Deleted.");
    await loadLibrary();
    setText("library-status", `Deleted ${graph.id}.`);
  } catch (error) {
    setText("library-status", `Could not delete: ${error.message}`);
  }
}

async function searchAcrossDreams(event) {
  event.preventDefault();
  const q = $("global-query").value.trim();
  if (!q) return;
  setText("search-status", "Searching…");
  try {
    const found = await api(`/api/v1/search/nodes?${query({ q, minScore: $("min-score").value, limit: 20 })}`);
    $("search-results").replaceChildren(
      ...found.results.map((hit) =>
        el(
          "li",
          { "data-testid": "search-hit", class: "card" },
          el("a", {
            href: `#/graphs/${encodeURIComponent(hit.graphId)}?node=${encodeURIComponent(hit.node.id)}`,
            text: hit.node.name,
          }),
          el("span", { class: "muted", text: ` ${hit.customer} → ${hit.product} · score ${hit.score.toFixed(2)}` }),
          el("p", { class: "snippet", text: short(hit.node.content || "", 160) }),
        ),
      ),
    );
    setText("search-status", `${found.results.length} idea(s) found.`);
  } catch (error) {
    setText("search-status", `Search failed: ${error.message}`);
  }
}

function updateComparePick() {
  const count = library.picked.size;
  $("compare-button").disabled = count !== 2;
  setText(
    "compare-pick",
    count === 0
      ? "Tick two dreams to compare them."
      : count === 1
        ? "1 dream ticked: tick one more to compare."
        : count === 2
          ? "2 dreams ticked."
          : `${count} dreams ticked: untick all but two to compare.`,
  );
}

export function startLibrary() {
  $("filter-form").addEventListener("submit", (event) => {
    event.preventDefault();
    library.customer = $("filter-customer").value.trim();
    library.product = $("filter-product").value.trim();
    library.offset = 0;
    loadLibrary();
  });
  $("prev-page").addEventListener("click", () => {
    library.offset = Math.max(0, library.offset - PAGE_SIZE);
    loadLibrary();
  });
  $("next-page").addEventListener("click", () => {
    library.offset += PAGE_SIZE;
    loadLibrary();
  });
  $("node-search-form").addEventListener("submit", searchAcrossDreams);
  $("compare-button").addEventListener("click", () => {
    const [first, second] = library.picked;
    location.hash = `#/compare/${encodeURIComponent(first)}/${encodeURIComponent(second)}`;
  });
}
