// The graph: vis-network (the classic script loaded before this module, as `vis`), one level
// per generation, Product Feature last.

import { $, narrow } from "./dom.js";
import { short } from "./format.js";
import { state } from "./state.js";

export const CUSTOMER_JOB = "Customer Job";
export const PRODUCT_FEATURE = "Product Feature";

function levelOf(node, generations) {
  return node.id === PRODUCT_FEATURE ? generations + 1 : node.generation;
}

function visNode(node, generations) {
  const anchor = node.id === CUSTOMER_JOB || node.id === PRODUCT_FEATURE;
  const verified = node.verification ? node.verification.verified : null;
  return {
    id: node.id,
    label: short(node.name, narrow() ? 18 : 36),
    level: levelOf(node, generations),
    shape: anchor ? "box" : "ellipse",
    color: anchor
      ? { background: "#ffd666", border: "#d48806" }
      : verified === true
        ? { background: "#d9f7be", border: "#389e0d" }
        : verified === false
          ? { background: "#fff1f0", border: "#cf1322" }
          : { background: "#e6f0ff", border: "#2f6fde" },
    font: anchor ? { size: 16, bold: true } : { size: 13 },
    borderWidth: verified === null ? 1 : 2,
  };
}

/** Draw `nodes` (each with id, name, generation and edges) and record how many were drawn;
 * a click on a node calls `onSelect(id)` (never on a placeholder drawing). */
export function draw(nodes, generations, { placeholder = false, onSelect = null } = {}) {
  const container = $("graph");
  const data = {
    nodes: new vis.DataSet(nodes.map((node) => visNode(node, generations))),
    edges: new vis.DataSet(
      nodes.flatMap((node) =>
        (node.edge || []).map((edge, index) => ({
          id: `${node.id}->${index}`,
          from: node.id,
          to: edge.target_id,
          label: placeholder || narrow() ? undefined : short(edge.relationship, 24),
          arrows: "to",
          dashes: edge.pending === true,
          color: edge.pending === true ? { color: "#d0d7de" } : undefined,
        })),
      ),
    ),
  };
  const options = {
    layout: {
      hierarchical: {
        direction: narrow() ? "UD" : "LR",
        sortMethod: "directed",
        levelSeparation: narrow() ? 110 : 230,
        nodeSpacing: narrow() ? 110 : 70,
      },
    },
    physics: false,
    interaction: { hover: true },
    edges: { font: { size: 10, align: "middle" }, smooth: false, color: "#8c8c8c" },
  };
  if (state.network) state.network.destroy();
  state.network = new vis.Network(container, data, options);
  state.network.on("click", (event) => {
    if (event.nodes.length && state.dream && !placeholder && onSelect) onSelect(event.nodes[0]);
  });
  container.dataset.nodeCount = String(nodes.length);
}

/** The nodes a running dream has grown so far (from its progress events), each linked from
 * its parent, and the newest generation dashed to Product Feature: where the dream is heading. */
export function growing(grown) {
  const nodes = [...grown.values()].map((node) => ({ ...node, edge: [] }));
  const byId = new Map(nodes.map((node) => [node.id, node]));
  for (const node of nodes) {
    const parent = node.parent_id ? byId.get(node.parent_id) : undefined;
    if (parent) parent.edge.push({ target_id: node.id });
  }
  const newest = Math.max(0, ...nodes.map((node) => node.generation));
  if (byId.has(PRODUCT_FEATURE) && newest > 0) {
    for (const node of nodes) {
      if (node.generation === newest) node.edge.push({ target_id: PRODUCT_FEATURE, pending: true });
    }
  }
  return nodes;
}
