// One node of the dream shown: finding it by name, selecting it, and reading it (content,
// verification, and its chains from the Customer Job and to the Product Feature).

import { $, el, narrow } from "./dom.js";
import { CUSTOMER_JOB, PRODUCT_FEATURE } from "./graph-view.js";
import { state } from "./state.js";

export function searchNodes(text) {
  const needle = text.trim().toLowerCase();
  const list = $("node-matches");
  const { dream: current, network } = state;
  if (!current || !needle) {
    list.replaceChildren();
    if (network) network.unselectAll();
    return;
  }
  const found = current.nodes.filter((node) =>
    `${node.name} ${node.content}`.toLowerCase().includes(needle),
  );
  list.replaceChildren(
    ...found.map((node) =>
      el(
        "li",
        {},
        el("button", {
          type: "button",
          class: "node-item",
          "data-testid": "node-item",
          "data-node-id": node.id,
          text: node.name,
          onclick: () => selectNode(node.id),
        }),
      ),
    ),
  );
  if (found.length === 0) list.replaceChildren(el("li", { class: "muted", text: "No node matches." }));
  if (network) network.selectNodes(found.map((node) => node.id));
}

/** The chain of (parent, edge, child) steps from Customer Job down to `id`. */
function chainTo(id) {
  const current = state.dream;
  const steps = [];
  const seen = new Set();
  let node = current.byId.get(id);
  while (node && current.parents.has(node.id) && !seen.has(node.id)) {
    seen.add(node.id);
    const { parent, edge } = current.parents.get(node.id);
    steps.unshift({ parent, edge, child: node });
    node = parent;
  }
  return steps;
}

/** From `id` down (first child each time) to the leaf that links to Product Feature. */
function linkToProduct(id) {
  const current = state.dream;
  const steps = [];
  const seen = new Set();
  let node = current.byId.get(id);
  while (node && !seen.has(node.id)) {
    seen.add(node.id);
    const toProduct = (node.edge || []).find((edge) => edge.target_id === PRODUCT_FEATURE);
    if (toProduct) {
      steps.push({ parent: node, edge: toProduct, child: current.byId.get(PRODUCT_FEATURE) });
      return steps;
    }
    const next = (node.edge || [])[0];
    if (!next) return steps;
    const child = current.byId.get(next.target_id);
    steps.push({ parent: node, edge: next, child });
    node = child;
  }
  return steps;
}

function stepItem({ parent, edge, child }) {
  return el(
    "li",
    {},
    el("strong", { text: parent.name }),
    el("span", { class: "relationship", text: ` —${edge.relationship || "leads to"}→ ` }),
    el("strong", { text: child ? child.name : edge.target_id }),
    edge.rationale ? el("span", { class: "rationale", text: edge.rationale }) : null,
  );
}

function verificationBlock(verification) {
  if (!verification) return null;
  const verified = verification.verified;
  const confidence = typeof verification.confidence === "number" ? ` (confidence ${Math.round(verification.confidence * 100)}%)` : "";
  const sources = (verification.sources || []).map((source) => {
    const text = typeof source === "string" ? source : source.url || source.title || JSON.stringify(source);
    let safe = null;
    try {
      const url = new URL(typeof source === "string" ? source : source.url || "");
      if (url.protocol === "https:" || url.protocol === "http:") safe = url.href;
    } catch {
      safe = null;
    }
    return el("li", {}, safe ? el("a", { href: safe, rel: "noopener noreferrer", target: "_blank", text }) : text);
  });
  return el(
    "div",
    { class: "verification" },
    el("span", {
      class: `badge ${verified ? "ok" : "no"}`,
      "data-testid": "verification-badge",
      text: `${verified ? "Verified" : "Not verified"}${confidence}`,
    }),
    verification.summary ? el("p", { text: verification.summary }) : null,
    sources.length ? el("ul", { class: "sources" }, ...sources) : null,
    verification.timestamp ? el("p", { class: "muted", text: `Checked ${verification.timestamp}` }) : null,
  );
}

export function selectNode(id) {
  const { dream: current, network } = state;
  if (!current || !current.byId.has(id)) return;
  const node = current.byId.get(id);
  const chain = chainTo(id);
  const toProduct = id === PRODUCT_FEATURE ? [] : linkToProduct(id);
  const parts = [
    el("h2", { text: node.name }),
    el("p", { class: "muted", text: `Generation ${node.generation}` }),
    verificationBlock(node.verification),
    el("p", { class: "content", text: node.content }),
    el("h3", { text: `From ${CUSTOMER_JOB}` }),
    chain.length
      ? el("ol", { class: "chain" }, ...chain.map(stepItem))
      : el("p", { class: "muted", text: id === CUSTOMER_JOB ? "This is the Customer Job." : "Not reached from the Customer Job." }),
    el("h3", { text: `To ${PRODUCT_FEATURE}` }),
    toProduct.length
      ? el("ol", { class: "chain" }, ...toProduct.map(stepItem))
      : el("p", { class: "muted", text: id === PRODUCT_FEATURE ? "This is the Product Feature." : "No link to the Product Feature." }),
  ];
  $("node-detail").replaceChildren(...parts.filter(Boolean));
  if (network) {
    network.selectNodes([id]);
    if (!inView(id)) network.focus(id, { animation: false, scale: network.getScale() });
  }
}

/** Whether node `id` is drawn inside the graph's box (else the view moves to it). */
function inView(id) {
  const network = state.network;
  const position = network.getPositions([id])[id];
  if (!position) return true;
  const point = network.canvasToDOM(position);
  const box = $("graph").getBoundingClientRect();
  return point.x >= 0 && point.y >= 0 && point.x <= box.width && point.y <= box.height;
}

/** A link that selects node `id` in the graph (and puts `?node=` in the URL); text alone for
 * an id the dream does not have. */
export function nodeLink(id) {
  const current = state.dream;
  const node = current && current.byId.get(id);
  if (!node) return el("span", { class: "node-ref", text: String(id) });
  const href = `#/graphs/${encodeURIComponent(current.id)}?node=${encodeURIComponent(id)}`;
  return el("a", {
    href,
    class: "node-ref",
    "data-testid": "node-link",
    "data-node-id": id,
    title: node.name === id ? undefined : id,
    text: node.name,
    onclick: (event) => {
      if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
      event.preventDefault();
      if (location.hash.startsWith("#/graphs/") && location.hash !== href) history.pushState(null, "", href);
      selectNode(id);
      (narrow() ? $("node-detail") : $("graph")).scrollIntoView({ block: "start" });
    },
  });
}
