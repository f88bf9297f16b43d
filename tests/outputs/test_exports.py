"""Exports of a dream read back by real parsers, hostile strings kept as data."""

import html
import json
import os
import re
import shutil
import subprocess
import unicodedata
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from graphglot.ast.expressions import CharacterStringLiteral
from graphglot.dialect.neo4j import Neo4j

from core.state import Node
from outputs.exports import (
    FORMATS,
    cypher_string,
    export_dream,
    to_cypher,
    to_graphml,
    to_json,
    to_mermaid,
)

SCRIPT = "<script>alert(1)</script>"
BREAKOUT = '"]) DETACH DELETE n //'
HOSTILE = (
    'q"uo\'te `tick` | [br] {cu} ; #quot; #35; &amp; %%{init: {"securityLevel": "loose"}}%%'
    " \\' \\\\ line\r\nbreak\ttab é 🙂 ﬂ°¶ß end"
)
MERMAID_DIR = Path(
    os.environ.get("MERMAID_NODE_DIR", Path(__file__).parents[2] / ".venv" / "mermaid")
)
MERMAID_INSTALL = (
    "npm install --prefix .venv/mermaid --no-save --no-audit --no-fund mermaid@11.17.2 jsdom@29.1.1"
)
# Parses Mermaid from stdin with mermaid itself and prints what its flowchart db holds.
MERMAID_PARSE_JS = """
const { createRequire } = require("node:module");
const { pathToFileURL } = require("node:url");
const load = createRequire(process.argv.at(-1) + "/package.json");
const { JSDOM } = load("jsdom");
const { window } = new JSDOM("");
globalThis.window = window;
globalThis.document = window.document;
(async () => {
  const mermaid = (await import(pathToFileURL(load.resolve("mermaid")).href)).default;
  const source = require("node:fs").readFileSync(0, "utf8");
  try {
    await mermaid.parse(source);
  } catch (error) {
    console.error(error.message);
    process.exit(1);
  }
  const { db } = await mermaid.mermaidAPI.getDiagramFromText(source);
  const vertices = [...db.getVertices().values()].map((v) => [v.id, v.text, v.classes]);
  const edges = db.getEdges().map((e) => [e.start, e.end, e.text]);
  console.log(JSON.stringify({ vertices, edges }));
})();
"""


def node(id_: str, name: str, content: str, generation: int, parent: str | None = None) -> Node:
    """A node without edges."""
    return {
        "id": id_,
        "content": content,
        "edge": [],
        "name": name,
        "generation": generation,
        "parent_id": parent,
    }


def link(source: Node, target: Node, relationship: str, rationale: str) -> None:
    """Add an edge from `source` to `target`."""
    edge = {"target_id": target["id"], "relationship": relationship, "rationale": rationale}
    source["edge"].append(edge)  # type: ignore[arg-type]


@pytest.fixture
def output() -> dict[str, Any]:
    """Two anchors, three grown nodes with hostile strings everywhere, five edges."""
    job = node("Customer Job", "Customer Job", "Teams <b>shipping</b> microservices", 0)
    product = node("Product Feature", "Product Feature", "Tracing & 'observability'", 0)
    first = node("idea-1", BREAKOUT, SCRIPT, 1, job["id"])
    second = node('idea-"2"', HOSTILE, HOSTILE, 2, first["id"])
    third = node("idea 3 ]) //", "", "bell\x07 and \x00 nul", 2, first["id"])
    link(job, first, SCRIPT, "needs")
    link(first, second, BREAKOUT, HOSTILE)
    link(first, third, "|pipe| -->", "ok")
    link(second, product, HOSTILE, "bell\x07")
    link(third, product, "leads to", "'; MATCH (x) DETACH DELETE x; //")
    nodes = [job, product, first, second, third]
    metadata = {"totalNodes": 5, "model": "gpt-x <1>", "workspaceId": "ws-1", "usage": {}}
    return {"nodes": nodes, "metadata": metadata}


def all_edges(output: dict[str, Any]) -> list[tuple[str, dict[str, str]]]:
    """Every (source id, edge) of the output, in order."""
    return [(n["id"], e) for n in output["nodes"] for e in n["edge"]]


def test_export_dream_dispatches_and_rejects_unknown(output: dict[str, Any]) -> None:
    exporters = {"json": to_json, "graphml": to_graphml, "mermaid": to_mermaid}
    exporters["cypher"] = to_cypher
    assert tuple(exporters) == FORMATS
    for fmt, exporter in exporters.items():
        assert export_dream(output, fmt) == exporter(output)
    with pytest.raises(ValueError, match="unknown export format"):
        export_dream(output, "svg")


def test_json_round_trips_and_keeps_unicode(output: dict[str, Any]) -> None:
    text = to_json(output)
    assert json.loads(text) == output
    assert "🙂" in text
    assert "\n  " in text


def test_graphml_read_back_by_networkx(output: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "dream.graphml"
    path.write_text(to_graphml(output), encoding="utf-8")
    graph = nx.read_graphml(path, force_multigraph=True)
    assert graph.is_directed()
    assert graph.number_of_nodes() == len(output["nodes"])
    for original in output["nodes"]:
        assert graph.nodes[original["id"]] == {
            "name": original["name"],
            "content": original["content"].replace("\x07", "\ufffd").replace("\x00", "\ufffd"),
            "generation": original["generation"],
            "anchor": original["id"] in {"Customer Job", "Product Feature"},
        }
    read_edges = sorted(
        (source, target, data["relationship"], data["rationale"])
        for source, target, data in graph.edges(data=True)
    )
    expected = sorted(
        (source, e["target_id"], e["relationship"], e["rationale"].replace("\x07", "\ufffd"))
        for source, e in all_edges(output)
    )
    assert read_edges == expected
    assert {key: graph.graph[key] for key in graph.graph if "default" not in key} == {
        "customer": "Teams <b>shipping</b> microservices",
        "product": "Tracing & 'observability'",
        "totalNodes": 5,
        "model": "gpt-x <1>",
        "workspaceId": "ws-1",
    }


def test_graphml_keeps_markup_as_text(output: dict[str, Any]) -> None:
    text = to_graphml(output)
    assert SCRIPT not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    tags = {element.tag.rsplit("}", 1)[-1] for element in ET.fromstring(text).iter()}
    assert tags == {"graphml", "key", "graph", "node", "edge", "data"}


def mermaid_db(source: str) -> dict[str, Any]:
    """What mermaid's own flowchart parser makes of `source`; fails on a syntax error."""
    node_bin = shutil.which("node")
    if node_bin is None:
        pytest.skip("node is not installed: the Mermaid check runs mermaid's parser under node")
    if not (MERMAID_DIR / "node_modules" / "mermaid").is_dir():
        pytest.fail(f"mermaid is not installed in {MERMAID_DIR}; run: {MERMAID_INSTALL}")
    result = subprocess.run(
        [node_bin, "-e", MERMAID_PARSE_JS, "--", str(MERMAID_DIR)],
        input=source,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"mermaid rejected the diagram: {result.stderr}"
    return json.loads(result.stdout)


def mermaid_label(text: str) -> str:
    """A label as mermaid would show it: its entity placeholders decoded, then HTML entities."""
    encoded = text.replace("ﬂ°°", "&#").replace("ﬂ°", "&").replace("¶ß", ";")
    return html.unescape(encoded)


def plain(text: str) -> str:
    """`text` with its control characters (newlines, tabs, ...) as spaces, as a label shows it."""
    return "".join(" " if unicodedata.category(char) == "Cc" else char for char in text)


def test_mermaid_parsed_by_mermaid(output: dict[str, Any]) -> None:
    db = mermaid_db(to_mermaid(output))
    ids = {n["id"]: f"n{index}" for index, n in enumerate(output["nodes"])}
    anchors = {"Customer Job", "Product Feature"}
    assert db["vertices"] == [
        [ids[n["id"]], db["vertices"][index][1], ["anchor"] if n["id"] in anchors else []]
        for index, n in enumerate(output["nodes"])
    ]
    labels = [mermaid_label(text) for _, text, _ in db["vertices"]]
    assert labels == [plain(n["name"] or n["id"]) for n in output["nodes"]]
    assert [[start, end, mermaid_label(text)] for start, end, text in db["edges"]] == [
        [ids[source], ids[e["target_id"]], plain(e["relationship"])]
        for source, e in all_edges(output)
    ]


def test_mermaid_parser_rejects_a_raw_quote() -> None:
    """The check is real: an unescaped quote in a label is a syntax error for mermaid."""
    node_bin = shutil.which("node")
    if node_bin is None:
        pytest.skip("node is not installed: the Mermaid check runs mermaid's parser under node")
    with pytest.raises(AssertionError, match="mermaid rejected the diagram: Parse error"):
        mermaid_db('flowchart LR\n    n0["a " b"]\n')


def test_mermaid_has_no_raw_hostile_characters(output: dict[str, Any]) -> None:
    text = to_mermaid(output)
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    labels = [line.split('"')[1] for line in lines if '"' in line]
    assert len(labels) == len(output["nodes"]) + len(all_edges(output))
    assert all(line.count('"') in (0, 2) for line in lines)
    for label in labels:
        assert re.fullmatch(r"(?:[^\W_]|[ .,\-_()?!'/]|#\d+;)+", label), label


def cypher_strings(statement: str) -> list[str]:
    """The string literals of one Cypher statement, decoded by a real Cypher (Neo4j) parser."""
    (program,) = Neo4j().parse(statement)
    return [literal.value for literal in program.find_all(CharacterStringLiteral, bfs=False)]


def test_cypher_parsed_and_literals_round_trip(output: dict[str, Any]) -> None:
    lines = to_cypher(output).splitlines()
    nodes = output["nodes"]
    assert len(lines) == len(nodes) + len(all_edges(output))
    assert all(line.endswith(";") for line in lines)
    assert len(Neo4j().parse(to_cypher(output))) == len(lines)
    for line, original in zip(lines, nodes, strict=False):
        assert cypher_strings(line) == [original["id"], original["name"], original["content"]]
        anchor = original["id"] in {"Customer Job", "Product Feature"}
        assert line.startswith("MERGE (n:Idea {id: ")
        assert (" SET n:Anchor, n.name = " in line) == anchor
        assert line.endswith(f"n.generation = {original['generation']};")
    for line, (source, e) in zip(lines[len(nodes) :], all_edges(output), strict=True):
        literals = [source, e["target_id"], e["relationship"], e["rationale"]]
        assert cypher_strings(line) == literals
        assert line.startswith("MATCH (a:Idea {id: ")
        assert "MERGE (a)-[r:LEADS_TO {relationship: " in line


def test_cypher_literal_check_catches_a_breakout() -> None:
    """The round trip is a real check: a naively quoted name adds a property, an escaped one not."""
    name = "x', n.evil = 'y"
    naive = f"MERGE (n:Idea {{id: 'x'}}) SET n.name = '{name}';"
    assert cypher_strings(naive) == ["x", "x", "y"]
    escaped = f"MERGE (n:Idea {{id: 'x'}}) SET n.name = {cypher_string(name)};"
    assert cypher_strings(escaped) == ["x", name]


@pytest.mark.parametrize("fmt", FORMATS)
def test_injection_stays_data(output: dict[str, Any], fmt: str) -> None:
    text = export_dream(output, fmt)
    if fmt == "mermaid":
        assert "#60;script#62;alert(1)#60;/script#62;" in text
        assert '"#34;#93;) DETACH DELETE n //"' in text
    elif fmt == "graphml":
        assert "&lt;script&gt;" in text
    elif fmt == "cypher":
        assert f"n.content = '{SCRIPT}'" in text
        assert "n.name = '\"]) DETACH DELETE n //'" in text
    else:
        assert json.loads(text)["nodes"][2] == output["nodes"][2]
