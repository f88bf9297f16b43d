"""Export a dream's output as JSON, GraphML, Mermaid or Cypher; every string is treated as data."""

import json
import re
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from typing import Any

from core.state import ANCHOR_IDS, CUSTOMER_JOB, PRODUCT_FEATURE, Edge, Node

FORMATS = ("json", "graphml", "mermaid", "cypher")

GRAPHML_NS = "http://graphml.graphdrawing.org/xmlns"
# (element, attr.name, attr.type) of every GraphML key; the key's id is its attr.name.
GRAPHML_KEYS = (
    ("graph", "customer", "string"),
    ("graph", "product", "string"),
    ("graph", "totalNodes", "int"),
    ("graph", "model", "string"),
    ("graph", "workspaceId", "string"),
    ("node", "name", "string"),
    ("node", "content", "string"),
    ("node", "generation", "int"),
    ("node", "anchor", "boolean"),
    ("edge", "relationship", "string"),
    ("edge", "rationale", "string"),
)
# Characters XML 1.0 cannot carry at all, even escaped.
XML_ILLEGAL = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

# Characters left as they are in a Mermaid label; any other becomes a `#code;` entity.
MERMAID_PLAIN = frozenset(" .,-_()?!'/")
MERMAID_ANCHOR_STYLE = "fill:#ffe8a3,stroke:#b8860b,stroke-width:2px"

CYPHER_ESCAPES = {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def export_dream(output: dict[str, Any], fmt: str) -> str:
    """Render a dream's output in one of `FORMATS`."""
    exporters: dict[str, Callable[[dict[str, Any]], str]] = {
        "json": to_json,
        "graphml": to_graphml,
        "mermaid": to_mermaid,
        "cypher": to_cypher,
    }
    if fmt not in exporters:
        raise ValueError(f"unknown export format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return exporters[fmt](output)


def to_json(output: dict[str, Any]) -> str:
    """The output as pretty JSON, non-ASCII kept as is."""
    return json.dumps(output, ensure_ascii=False, indent=2)


def edges(nodes: list[Node]) -> Iterator[tuple[Node, Edge]]:
    """Each (source node, edge) whose target is one of `nodes`; dangling edges are dropped."""
    ids = {node["id"] for node in nodes}
    for node in nodes:
        for edge in node["edge"]:
            if edge["target_id"] in ids:
                yield node, edge


def to_graphml(output: dict[str, Any]) -> str:
    """GraphML (networkx, Gephi, yEd) with typed node, edge and graph attributes."""
    ET.register_namespace("", GRAPHML_NS)
    root = ET.Element(f"{{{GRAPHML_NS}}}graphml")
    for domain, name, kind in GRAPHML_KEYS:
        attrs = {"id": name, "for": domain, "attr.name": name, "attr.type": kind}
        ET.SubElement(root, f"{{{GRAPHML_NS}}}key", attrs)
    graph = ET.SubElement(root, f"{{{GRAPHML_NS}}}graph", {"edgedefault": "directed"})
    for key, value in graph_attributes(output).items():
        add_graphml_data(graph, key, value)
    nodes: list[Node] = output["nodes"]
    for node in nodes:
        element = ET.SubElement(graph, f"{{{GRAPHML_NS}}}node", {"id": xml_text(node["id"])})
        add_graphml_data(element, "name", node["name"])
        add_graphml_data(element, "content", node["content"])
        add_graphml_data(element, "generation", int(node["generation"]))
        add_graphml_data(element, "anchor", node["id"] in ANCHOR_IDS)
    for source, edge in edges(nodes):
        ends = {"source": xml_text(source["id"]), "target": xml_text(edge["target_id"])}
        element = ET.SubElement(graph, f"{{{GRAPHML_NS}}}edge", ends)
        add_graphml_data(element, "relationship", edge["relationship"])
        add_graphml_data(element, "rationale", edge["rationale"])
    ET.indent(root)
    # ET writes a carriage return raw, which XML readers turn into a newline: escape it.
    text = ET.tostring(root, encoding="unicode", xml_declaration=True).replace("\r", "&#13;")
    return text + "\n"


def graph_attributes(output: dict[str, Any]) -> dict[str, Any]:
    """Customer and product (the anchors' content) and the metadata basics that are present."""
    contents = {node["id"]: node["content"] for node in output["nodes"]}
    metadata = output.get("metadata", {})
    found = {
        "customer": contents.get(CUSTOMER_JOB),
        "product": contents.get(PRODUCT_FEATURE),
        "totalNodes": metadata.get("totalNodes"),
        "model": metadata.get("model"),
        "workspaceId": metadata.get("workspaceId"),
    }
    return {key: value for key, value in found.items() if value is not None}


def add_graphml_data(parent: ET.Element, key: str, value: object) -> None:
    """Append `<data key=...>value</data>`; the XML writer escapes the text."""
    text = str(value).lower() if isinstance(value, bool) else str(value)
    ET.SubElement(parent, f"{{{GRAPHML_NS}}}data", {"key": key}).text = xml_text(text)


def xml_text(text: str) -> str:
    """`text` without the characters XML 1.0 cannot hold (replaced by U+FFFD)."""
    return XML_ILLEGAL.sub("\ufffd", text)


def to_mermaid(output: dict[str, Any]) -> str:
    """A `flowchart LR` with ids n0, n1, ... and entity-escaped labels; anchors styled apart."""
    nodes: list[Node] = output["nodes"]
    safe_ids = {node["id"]: f"n{index}" for index, node in enumerate(nodes)}
    lines = ["flowchart LR", f"    classDef anchor {MERMAID_ANCHOR_STYLE}"]
    for node in nodes:
        lines.append(f'    {safe_ids[node["id"]]}["{mermaid_text(node["name"] or node["id"])}"]')
    for source, edge in edges(nodes):
        label = mermaid_text(edge["relationship"])
        lines.append(f'    {safe_ids[source["id"]]} -->|"{label}"| {safe_ids[edge["target_id"]]}')
    anchors = [safe_ids[node["id"]] for node in nodes if node["id"] in ANCHOR_IDS]
    if anchors:
        lines.append(f"    class {','.join(anchors)} anchor")
    return "\n".join(lines) + "\n"


def mermaid_text(text: str) -> str:
    """`text` for inside a quoted Mermaid label: control characters become spaces, and any
    character but letters, digits and `MERMAID_PLAIN` becomes a `#code;` entity."""
    return "".join(
        char
        if char.isalnum() or char in MERMAID_PLAIN
        else " "
        if unicodedata.category(char) == "Cc"
        else f"#{ord(char)};"
        for char in text
    )


def to_cypher(output: dict[str, Any]) -> str:
    """Neo4j statements, one a line: MERGE each `:Idea` (anchors also `:Anchor`), then LEADS_TO."""
    nodes: list[Node] = output["nodes"]
    lines = [cypher_node(node) for node in nodes]
    lines += [cypher_edge(source, edge) for source, edge in edges(nodes)]
    return "\n".join(lines) + "\n"


def cypher_node(node: Node) -> str:
    """MERGE one node by id and set its properties (and the `:Anchor` label for an anchor)."""
    label = "n:Anchor, " if node["id"] in ANCHOR_IDS else ""
    return (
        f"MERGE (n:Idea {{id: {cypher_string(node['id'])}}}) SET {label}"
        f"n.name = {cypher_string(node['name'])}, "
        f"n.content = {cypher_string(node['content'])}, "
        f"n.generation = {int(node['generation'])};"
    )


def cypher_edge(source: Node, edge: Edge) -> str:
    """MERGE one LEADS_TO relationship between two nodes matched by id."""
    return (
        f"MATCH (a:Idea {{id: {cypher_string(source['id'])}}}), "
        f"(b:Idea {{id: {cypher_string(edge['target_id'])}}}) "
        f"MERGE (a)-[r:LEADS_TO {{relationship: {cypher_string(edge['relationship'])}}}]->(b) "
        f"SET r.rationale = {cypher_string(edge['rationale'])};"
    )


def cypher_string(text: str) -> str:
    """`text` as a single-quoted Cypher string literal that keeps every character on one line."""
    return "'" + "".join(cypher_char(char) for char in text) + "'"


def cypher_char(char: str) -> str:
    """One character escaped for a Cypher string literal."""
    if char in CYPHER_ESCAPES:
        return CYPHER_ESCAPES[char]
    if unicodedata.category(char) == "Cc" or char in "\u2028\u2029":
        return f"\\u{ord(char):04x}"
    return char
