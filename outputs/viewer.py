"""A dream as one self-contained HTML file: an interactive graph that needs no network.

The drawing library (vis-network) comes from the `pyvis` wheel, installed with `--no-deps`
at setup, and is inlined; node texts travel as JSON with `<`, `>` and `&` escaped (so they can
neither end the data's script element nor open a comment in it) and reach the page only through
`textContent`, so a node's content can never become markup or script.
"""

import html
import json
import re
from functools import cache
from typing import Any

from core.safe_text import json_for_script
from core.state import ANCHOR_IDS
from core.wheel_data import WheelDataMissingError, wheel_file

VIS_DISTRIBUTION = "pyvis"
VIS_SCRIPT = "vis-9.1.2/vis-network.min.js"
PLACEHOLDER = re.compile(r"__(TITLE|ANCHORS|LAST_LEVEL|VIS|DATA)__")
"""Filled in one pass, so a filled-in value is never searched for placeholders again."""

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy"
 content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>CoDreamer: __TITLE__</title>
<style>
body { margin: 0; font: 14px system-ui, sans-serif; display: flex; height: 100vh; }
#graph { flex: 1; }
aside { width: 340px; padding: 12px; overflow: auto; border-left: 1px solid #ddd; }
input { width: 100%; box-sizing: border-box; padding: 6px; margin-bottom: 8px; }
h2 { font-size: 16px; margin: 8px 0; } .muted { color: #666; } li { margin-bottom: 6px; }
</style>
</head>
<body>
<div id="graph"></div>
<aside>
<input id="search" type="search" placeholder="Search ideas...">
<div class="muted"><span id="count"></span> nodes. Click one to read it.</div>
<h2 id="title"></h2>
<p id="content"></p>
<ul id="edges"></ul>
</aside>
<script>__VIS__</script>
<script id="dream" type="application/json">__DATA__</script>
<script>
const dream = JSON.parse(document.getElementById("dream").textContent);
const byId = new Map(dream.nodes.map((n) => [n.id, n]));
const anchors = new Set(__ANCHORS__);
const nodes = new vis.DataSet(dream.nodes.map((n) => ({
  id: n.id, label: n.name.length > 40 ? n.name.slice(0, 39) + "…" : n.name,
  level: n.id === "Product Feature" ? __LAST_LEVEL__ : n.generation,
  shape: anchors.has(n.id) ? "box" : "ellipse",
  color: anchors.has(n.id) ? { background: "#ffd666", border: "#d48806" } : undefined,
  font: anchors.has(n.id) ? { size: 18, bold: true } : undefined,
})));
const edges = new vis.DataSet(dream.nodes.flatMap((n) => n.edge.map((e, i) => ({
  id: n.id + "->" + i, from: n.id, to: e.target_id, label: e.relationship, arrows: "to",
}))));
const network = new vis.Network(document.getElementById("graph"), { nodes, edges }, {
  layout: { hierarchical: { direction: "LR", sortMethod: "directed", levelSeparation: 260 } },
  physics: false, edges: { font: { size: 10 }, smooth: false },
});
function text(id, value) { document.getElementById(id).textContent = value; }
function show(id) {
  const node = byId.get(id);
  text("title", node.name);
  text("content", node.content);
  const list = document.getElementById("edges");
  list.replaceChildren(...node.edge.map((e) => {
    const item = document.createElement("li");
    item.textContent = e.relationship + " → " + byId.get(e.target_id).name + ": " + e.rationale;
    return item;
  }));
}
network.on("click", (event) => { if (event.nodes.length) show(event.nodes[0]); });
document.getElementById("search").addEventListener("input", (event) => {
  const query = event.target.value.trim().toLowerCase();
  const found = query ? dream.nodes.filter((n) =>
    (n.name + " " + n.content).toLowerCase().includes(query)).map((n) => n.id) : [];
  network.selectNodes(found);
  if (found.length) { network.focus(found[0], { animation: false }); show(found[0]); }
});
text("count", String(dream.nodes.length));
window.codreamer = { network, nodes: dream.nodes, show };
</script>
</body>
</html>
"""


class ViewerUnavailableError(RuntimeError):
    """vis-network is not installed, so no viewer can be written."""


def to_html(output: dict[str, Any]) -> str:
    """The dream's interactive viewer as a single HTML page."""
    generations = output["metadata"].get("generations", 1)
    title = json.dumps(output["metadata"].get("workspaceId", "dream"))[1:-1]
    values = {
        "TITLE": html.escape(title),
        "ANCHORS": json.dumps(sorted(ANCHOR_IDS)),
        "LAST_LEVEL": str(generations + 1),
        "VIS": vis_network_script(),
        "DATA": json_for_script(output),
    }
    return PLACEHOLDER.sub(lambda match: values[match[1]], PAGE)


@cache
def vis_network_script() -> str:
    """vis-network's minified script, from the `pyvis` wheel."""
    try:
        path = wheel_file(VIS_DISTRIBUTION, VIS_SCRIPT, "pip install --no-deps pyvis")
    except WheelDataMissingError as error:
        raise ViewerUnavailableError(f"the graph viewer needs vis-network: {error}") from None
    return path.read_text(encoding="utf-8")
