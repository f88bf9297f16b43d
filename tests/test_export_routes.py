"""Exports from the CLI and the REST API, of a real dream."""

from pathlib import Path

import httpx
import networkx

from graph import graph
from tests.support.cli import run_cli
from tests.support.live_server import LiveServer
from tests.support.openai_server import FakeOpenAI

DREAM = {
    "customer": "Bakers",
    "product": "An oven",
    "children_count": 2,
    "generations_count_int": 2,
}


async def test_cli_exports_by_workspace_id_and_by_results_file(
    fake_llm: FakeOpenAI, isolated_env: Path
) -> None:
    output = await graph.ainvoke(DREAM)
    workspace_id = output["metadata"]["workspaceId"]
    results = Path(output["metadata"]["workspacePath"]) / "results.json"

    graphml = run_cli("export", workspace_id, "--format", "graphml", "-o", "dream.graphml")
    mermaid = run_cli("export", str(results), "--format", "mermaid")
    page = run_cli("export", workspace_id, "--format", "html", "-o", "dream.html")
    bad_format = run_cli("export", workspace_id, "--format", "pdf")
    unknown = run_cli("export", "dream-that-never-was")

    assert graphml.returncode == 0, graphml.stderr
    read_back = networkx.read_graphml(isolated_env / "dream.graphml")
    assert read_back.number_of_nodes() == 8 and read_back.number_of_edges() == 2 + 4 + 4
    assert mermaid.returncode == 0 and mermaid.stdout.startswith("flowchart")
    assert page.returncode == 0 and "vis.Network" in (isolated_env / "dream.html").read_text()
    assert bad_format.returncode == 2 and "--format" in bad_format.stderr
    assert unknown.returncode == 2 and "dream-that-never-was" in unknown.stderr


async def test_rest_exports_every_format(live_server: LiveServer, fake_llm: FakeOpenAI) -> None:
    output = await graph.ainvoke(DREAM)
    url = f"/api/v1/dreams/{output['metadata']['workspaceId']}/export"

    async with httpx.AsyncClient(base_url=live_server.url) as client:
        answers = {
            fmt: await client.get(url, params={"format": fmt})
            for fmt in ("json", "graphml", "mermaid", "cypher", "html")
        }
        bad = await client.get(url, params={"format": "pdf"})
        missing = await client.get("/api/v1/dreams/dream-nope/export")

    assert all(answer.status_code == 200 for answer in answers.values())
    assert answers["json"].json() == output
    assert answers["graphml"].headers["content-type"].startswith("application/xml")
    assert answers["html"].headers["content-type"].startswith("text/html")
    assert answers["cypher"].text.count("MERGE (n:Idea") == 8
    assert bad.status_code == 422 and "format" in bad.text
    assert missing.status_code == 404
