"""The history of past dreams (CLI and REST)."""

import copy
import json
from pathlib import Path

import httpx

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


async def test_history_lists_finished_and_stopped_dreams(
    live_server: LiveServer, fake_llm: FakeOpenAI, isolated_env
) -> None:
    first = await graph.ainvoke(DREAM)
    second = await graph.ainvoke({**DREAM, "customer": "Florists"})
    (isolated_env / "workspaces" / "dream-00000000-000000-stopped").mkdir()

    listed = run_cli("list", "--workspaces", "--json")
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        served = (await client.get("/api/v1/dreams")).json()
        one = await client.get(f"/api/v1/dreams/{first['metadata']['workspaceId']}")
        missing = await client.get("/api/v1/dreams/dream-nope")
        escaping = await client.get("/api/v1/dreams/..%2F..%2Fetc")

    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == served
    by_id = {item["id"]: item for item in served}
    assert by_id[first["metadata"]["workspaceId"]]["customer"] == "Bakers"
    assert by_id[second["metadata"]["workspaceId"]]["customer"] == "Florists"
    assert by_id[second["metadata"]["workspaceId"]]["nodes"] == 8
    assert by_id["dream-00000000-000000-stopped"]["status"] == "incomplete"
    assert [item["id"] for item in served] == sorted(by_id, reverse=True)
    assert one.status_code == 200 and one.json() == first
    assert missing.status_code == 404 and escaping.status_code == 404


def broken_workspaces(root: Path, output: dict) -> dict[str, bytes | None]:
    """Workspaces whose results.json cannot be a dream's output (None: it is a folder)."""
    wrong_type = copy.deepcopy(output)
    wrong_type["metadata"]["totalNodes"] = "8"
    no_edges = copy.deepcopy(output)
    del no_edges["nodes"][3]["edge"]
    cases: dict[str, bytes | None] = {
        "dream-broken-json": b'{"nodes": [',
        "dream-broken-keys": b'{"nodes": []}',
        "dream-broken-type": json.dumps(wrong_type).encode(),
        "dream-broken-node": json.dumps(no_edges).encode(),
        "dream-broken-nan": json.dumps(
            {**output, "metadata": {"totalNodes": float("nan")}}
        ).encode(),
        "dream-broken-list": b"[]",
        "dream-broken-folder": None,
    }
    for workspace_id, content in cases.items():
        results = root / workspace_id / "results.json"
        if content is None:
            results.mkdir(parents=True)
        else:
            results.parent.mkdir(parents=True)
            results.write_bytes(content)
    return cases


async def test_history_lists_broken_workspaces_as_broken(
    live_server: LiveServer, fake_llm: FakeOpenAI, isolated_env: Path
) -> None:
    good = await graph.ainvoke(DREAM)
    broken = broken_workspaces(isolated_env / "workspaces", good)

    listed = run_cli("list", "--workspaces", "--json")
    table = run_cli("list", "--workspaces")
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        served = await client.get("/api/v1/dreams")
        one = {name: await client.get(f"/api/v1/dreams/{name}") for name in broken}
        exported = await client.get("/api/v1/dreams/dream-broken-json/export?format=html")
    cli_export = run_cli("export", "dream-broken-type", "--format", "mermaid")

    assert served.status_code == 200
    assert listed.returncode == 0, listed.stderr
    by_id = {item["id"]: item for item in served.json()}
    assert json.loads(listed.stdout) == served.json()
    assert by_id[good["metadata"]["workspaceId"]]["status"] == "complete"
    assert by_id[good["metadata"]["workspaceId"]]["reason"] is None
    assert {name: by_id[name]["status"] for name in broken} == dict.fromkeys(broken, "broken")
    assert "not valid JSON" in by_id["dream-broken-json"]["reason"]
    assert "metadata: Field required" in by_id["dream-broken-keys"]["reason"]
    assert "metadata.totalNodes" in by_id["dream-broken-type"]["reason"]
    assert "nodes.3.edge: Field required" in by_id["dream-broken-node"]["reason"]
    assert "not valid JSON" in by_id["dream-broken-nan"]["reason"]
    assert "the top level" in by_id["dream-broken-list"]["reason"]
    assert "cannot be read" in by_id["dream-broken-folder"]["reason"]
    assert all(len(item["reason"]) <= 200 for item in by_id.values() if item["reason"])
    assert table.returncode == 0, table.stderr
    assert "dream-broken-json is broken: results.json is not valid JSON" in table.stderr
    for name, answer in one.items():
        assert answer.status_code == 404, name
        assert "unreadable results" in answer.json()["detail"], name
    assert exported.status_code == 404 and "unreadable results" in exported.text
    assert cli_export.returncode == 2 and "Traceback" not in cli_export.stderr
    assert "unreadable results" in cli_export.stderr and "SOURCE" in cli_export.stderr


def test_history_cli_export_refuses_a_results_file_that_is_not_a_dream(
    isolated_env: Path,
) -> None:
    (isolated_env / "results.json").write_text('{"nodes": [], "metadata": {}}')

    result = run_cli("export", "results.json", "--format", "cypher")

    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "metadata.totalNodes" in result.stderr
