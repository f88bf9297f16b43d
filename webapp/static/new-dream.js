// New dream: the form, its progress stream (drawn as it grows), Cancel.

import { authorizedFetch, okOrThrow } from "./api.js";
import { $, el, setText } from "./dom.js";
import { showDream } from "./dream-page.js";
import { showEvaluationOf } from "./evaluation.js";
import { formatCost } from "./format.js";
import { draw, growing } from "./graph-view.js";
import { state } from "./state.js";

/** Yield {event, data} from a text/event-stream body. */
async function* serverEvents(response) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value.replaceAll("\r\n", "\n").replaceAll("\r", "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const text = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "event") event = text;
        else if (field === "data") data.push(text);
      }
      if (data.length) yield { event, data: JSON.parse(data.join("\n")) };
    }
  }
}

function showProgress(progress) {
  $("progress").max = Math.max(1, progress.total);
  $("progress").value = progress.nodes;
  setText("node-count", progress.nodes);
  setText("node-total", progress.total);
  setText("llm-calls", progress.llm_calls);
  setText("step", progress.step.replaceAll("_", " "));
}

async function startDream(event) {
  event.preventDefault();
  if (state.running) return;
  const body = {
    customer: $("customer").value,
    product: $("product").value,
    children_count: Number($("children").value),
    generations_count_int: Number($("generations").value),
  };
  state.running = new AbortController();
  $("dream-button").disabled = true;
  $("cancel-button").disabled = false;
  $("run").hidden = false;
  $("dream").hidden = false;
  state.dream = null;
  setText("dream-title", `${body.customer} → ${body.product}`);
  setText("dream-subtitle", "Dreaming…");
  for (const id of ["dream-meta", "quality", "exports", "node-matches"]) $(id).replaceChildren();
  $("dream-extra").hidden = true;
  showEvaluationOf(null);
  $("node-detail").replaceChildren(el("p", { class: "muted", text: "The dream is growing…" }));
  setText("cost", "–");
  setText("run-status", "Dreaming…");
  showProgress({ nodes: 0, total: 1, llm_calls: 0, step: "starting" });
  draw([], body.generations_count_int, { placeholder: true });
  let drawn = -1;
  const grown = new Map();
  try {
    const response = await authorizedFetch("/api/v1/dream/stream", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
      body: JSON.stringify(body),
      signal: state.running.signal,
    });
    await okOrThrow(response);
    let finished = false;
    for await (const { event: kind, data } of serverEvents(response)) {
      if (kind === "progress") {
        showProgress(data);
        for (const node of data.added || []) grown.set(node.id, node);
        if (grown.size !== drawn) {
          drawn = grown.size;
          draw(growing(grown), body.generations_count_int, { placeholder: true });
        }
      } else if (kind === "result") {
        finished = true;
        const metadata = data.metadata || {};
        setText("node-count", data.nodes.length);
        setText("cost", formatCost(metadata.cost_usd));
        setText("llm-calls", (metadata.usage || {}).llm_calls ?? $("llm-calls").textContent);
        $("progress").value = $("progress").max;
        showDream({
          id: metadata.workspaceId,
          customer: body.customer,
          product: body.product,
          nodes: data.nodes,
          nodeCount: data.nodes.length,
          metadata,
          fromForm: true,
        });
        const link = el("a", { href: `#/graphs/${encodeURIComponent(metadata.workspaceId)}`, text: "Open its page" });
        $("run-status").replaceChildren(`Done: ${data.nodes.length} nodes. `, link);
      } else if (kind === "error") {
        finished = true;
        setText("run-status", `The dream failed (${data.status}): ${data.detail}`);
        setText("dream-subtitle", "Failed.");
      }
    }
    if (!finished) setText("run-status", "The stream ended without a result.");
  } catch (error) {
    if (error.name === "AbortError") {
      setText("run-status", "Cancelled: the server stopped the dream.");
      setText("dream-subtitle", "Cancelled.");
    } else {
      setText("run-status", `The dream failed: ${error.message}`);
    }
  } finally {
    state.running = null;
    $("dream-button").disabled = false;
    $("cancel-button").disabled = true;
  }
}

export function startNewDream() {
  $("dream-form").addEventListener("submit", startDream);
  $("cancel-button").addEventListener("click", () => state.running && state.running.abort());
}
