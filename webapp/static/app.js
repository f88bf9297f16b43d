// CoDreamer's web app: plain JS, no build. Every text that comes from a dream is untrusted
// and reaches the page through textContent only (the `el` helper below), never innerHTML.

const CUSTOMER_JOB = "Customer Job";
const PRODUCT_FEATURE = "Product Feature";
const KEY_STORAGE = "codreamer.apiKey";
const PAGE_SIZE = 10;
const EXPORT_FORMATS = ["json", "graphml", "mermaid", "cypher", "html"];

const $ = (id) => document.getElementById(id);

/** An element with attributes and children (strings become text nodes, never markup). */
function el(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "text") element.textContent = String(value);
    else if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    element.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return element;
}

function setText(id, value) {
  $(id).textContent = value === null || value === undefined ? "" : String(value);
}

// ---------------------------------------------------------------------------------------
// API calls, with the API key asked for on the first 401.

class ApiError extends Error {
  constructor(status, detail) {
    super(typeof detail === "string" ? detail : JSON.stringify(detail));
    this.status = status;
  }
}

let keyRequest = null;

/** Show the key form and resolve with the key typed in (one prompt for concurrent calls). */
function askForKey(refused) {
  setText("auth-message", refused ? "That API key was refused. Check it and try again." : "");
  $("auth").hidden = false;
  $("api-key").value = "";
  $("api-key").focus();
  if (!keyRequest) {
    keyRequest = new Promise((resolve) => {
      const form = $("auth-form");
      form.addEventListener(
        "submit",
        (event) => {
          event.preventDefault();
          const key = $("api-key").value.trim();
          sessionStorage.setItem(KEY_STORAGE, key);
          $("auth").hidden = true;
          keyRequest = null;
          resolve(key);
        },
        { once: true },
      );
    });
  }
  return keyRequest;
}

function authHeaders() {
  const key = sessionStorage.getItem(KEY_STORAGE);
  return key ? { Authorization: `Bearer ${key}` } : {};
}

/** fetch() with the stored key; on 401 asks for a key and tries again. */
async function authorizedFetch(path, options = {}) {
  for (;;) {
    const response = await fetch(path, {
      ...options,
      headers: { ...(options.headers || {}), ...authHeaders() },
    });
    if (response.status !== 401) return response;
    const hadKey = sessionStorage.getItem(KEY_STORAGE) !== null;
    await askForKey(hadKey);
  }
}

async function detailOf(response) {
  try {
    const body = await response.json();
    const detail = body.detail ?? body;
    if (Array.isArray(detail)) {
      return detail.map((item) => `${(item.loc || []).slice(1).join(".")}: ${item.msg}`).join("; ");
    }
    return typeof detail === "string" ? detail : JSON.stringify(detail);
  } catch {
    return response.statusText || `HTTP ${response.status}`;
  }
}

async function api(path, options = {}) {
  const response = await authorizedFetch(path, options);
  if (!response.ok) throw new ApiError(response.status, await detailOf(response));
  return response.json();
}

function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== "" && value !== undefined && value !== null) search.set(name, String(value));
  }
  return search.toString();
}

// ---------------------------------------------------------------------------------------
// The graph: vis-network, one level per generation, Product Feature last.

let network = null;
let current = null; // {id, nodes, byId, parents, metadata, ...} of the dream shown

function narrow() {
  return window.matchMedia("(max-width: 760px)").matches;
}

function levelOf(node, generations) {
  return node.id === PRODUCT_FEATURE ? generations + 1 : node.generation;
}

function short(text, size = 36) {
  return text.length > size ? `${text.slice(0, size - 1)}…` : text;
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

/** Draw `nodes` (each with id, name, generation and edges) and record how many were drawn. */
function draw(nodes, generations, { placeholder = false } = {}) {
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
  if (network) network.destroy();
  network = new vis.Network(container, data, options);
  network.on("click", (event) => {
    if (event.nodes.length && current && !placeholder) selectNode(event.nodes[0]);
  });
  container.dataset.nodeCount = String(nodes.length);
}

/** The nodes a running dream has grown so far (from its progress events), each linked from
 * its parent, and the newest generation dashed to Product Feature: where the dream is heading. */
function growing(grown) {
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

// ---------------------------------------------------------------------------------------
// One dream: graph, node search, node detail, quality and exports.

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

function showDream(record) {
  const nodes = record.nodes || [];
  const metadata = record.metadata || {};
  current = {
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
  draw(nodes, generations);
  $("node-search").value = "";
  $("node-matches").replaceChildren();
  $("node-detail").replaceChildren(el("p", { class: "muted", text: "Click a node, or find one, to read it." }));
  $("dream-extra").hidden = false;
  showMeta(record, metadata);
  showQuality(metadata.quality);
  showExports(record.id);
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

function formatCost(cost) {
  return typeof cost === "number" ? `$${cost.toFixed(4)}` : "unknown";
}

function definitionRows(rows) {
  return rows
    .filter(([, value]) => value !== undefined && value !== null)
    .flatMap(([name, value]) => [el("dt", { text: name }), el("dd", { text: String(value) })]);
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
    const response = await authorizedFetch(href);
    if (!response.ok) throw new ApiError(response.status, await detailOf(response));
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

function searchNodes(text) {
  const needle = text.trim().toLowerCase();
  const list = $("node-matches");
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

function selectNode(id) {
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
  const position = network.getPositions([id])[id];
  if (!position) return true;
  const point = network.canvasToDOM(position);
  const box = $("graph").getBoundingClientRect();
  return point.x >= 0 && point.y >= 0 && point.x <= box.width && point.y <= box.height;
}

// ---------------------------------------------------------------------------------------
// New dream: the form, its progress stream, Cancel.

let running = null; // the AbortController of the dream being streamed

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
  if (running) return;
  const body = {
    customer: $("customer").value,
    product: $("product").value,
    children_count: Number($("children").value),
    generations_count_int: Number($("generations").value),
  };
  running = new AbortController();
  $("dream-button").disabled = true;
  $("cancel-button").disabled = false;
  $("run").hidden = false;
  $("dream").hidden = false;
  current = null;
  setText("dream-title", `${body.customer} → ${body.product}`);
  setText("dream-subtitle", "Dreaming…");
  for (const id of ["dream-meta", "quality", "exports", "node-matches"]) $(id).replaceChildren();
  $("dream-extra").hidden = true;
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
      signal: running.signal,
    });
    if (!response.ok) throw new ApiError(response.status, await detailOf(response));
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
    running = null;
    $("dream-button").disabled = false;
    $("cancel-button").disabled = true;
  }
}

// ---------------------------------------------------------------------------------------
// Library: stored dreams, filters, paging, delete; node search across dreams.

const library = { offset: 0, customer: "", product: "" };

async function loadLibrary() {
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
  return el(
    "li",
    { "data-testid": "graph-row", class: "card graph-row" },
    el("div", { class: "row-main" }, link, el("span", { class: "muted", text: facts })),
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

// ---------------------------------------------------------------------------------------
// Routing by the URL's fragment: #/ (new dream), #/library, #/graphs/{id}?node={nodeId}.

async function openGraph(id, nodeId) {
  $("dream").hidden = false;
  if (!current || current.id !== id) {
    current = null;
    setText("dream-title", "Dream");
    setText("dream-subtitle", id);
    setText("dream-status", "Loading…");
    draw([], 1, { placeholder: true });
    $("dream-extra").hidden = true;
    try {
      showDream(await api(`/api/v1/graphs/${encodeURIComponent(id)}`));
    } catch (error) {
      setText("dream-status", error.status === 404 ? `No stored dream ${id}.` : `Could not load the dream: ${error.message}`);
      return;
    }
  }
  if (nodeId) selectNode(nodeId);
}

function route() {
  const hash = location.hash.replace(/^#/, "") || "/";
  const [path, search = ""] = hash.split("?");
  const params = new URLSearchParams(search);
  const graph = path.match(/^\/graphs\/(.+)$/);
  const view = graph ? "graph" : path === "/library" ? "library" : "new";
  $("view-new").hidden = view !== "new";
  $("view-library").hidden = view !== "library";
  const fromForm = running !== null || (current !== null && current.fromForm === true);
  $("dream").hidden = !(view === "graph" || (view === "new" && fromForm));
  for (const link of document.querySelectorAll("[data-nav]")) {
    if (link.dataset.nav === view) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  if (view === "graph") openGraph(decodeURIComponent(graph[1]), params.get("node"));
  else if (view === "library") loadLibrary();
}

function start() {
  $("dream-form").addEventListener("submit", startDream);
  $("cancel-button").addEventListener("click", () => running && running.abort());
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
  $("node-search").addEventListener("input", (event) => searchNodes(event.target.value));
  window.addEventListener("hashchange", route);
  let wasNarrow = narrow();
  window.addEventListener("resize", () => {
    if (narrow() === wasNarrow) return;
    wasNarrow = narrow();
    if (current) showDream(current); // the layout turns: top-down on phones, left-right else
  });
  route();
  window.codreamerApp = { selectNode, showDream, get network() { return network; }, get dream() { return current; } };
}

start();
