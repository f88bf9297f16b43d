"""The dream library's commands (`list`, `graphs`, `search`, `stats`, `library import`), run
as a user runs them: the real `codreamer` in a subprocess, its dreams answered by the loopback
LLM server, the library on SQLite and on the private PostgreSQL where the store matters."""

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import SEED_ARGS, run_cli
from tests.support.openai_server import FakeOpenAI

SMALL = ("--children", "2", "--generations", "2")
"""8 nodes: the two anchors, 2 ideas, then 4."""
OTHER_SEED = ("--customer", "Hospital nurses planning weekly shifts", "--product", "Rota app")
RECORD_KEYS = {
    "id",
    "customer",
    "product",
    "nodes",
    "nodeCount",
    "generationTimeMs",
    "createdAt",
    "metadata",
}


def cli(*args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
    """`codreamer *args`, checked to exit with `code` and never to print a traceback."""
    result = run_cli(*args)
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    return result


def cli_json(*args: str) -> Any:
    return json.loads(cli(*args, "--json").stdout)


def dream(*seed: str) -> dict[str, Any]:
    """A finished CLI dream's output (K=2, G=2)."""
    output: dict[str, Any] = cli_json("dream", *(seed or SEED_ARGS), *SMALL)
    return output


def idea_of(output: dict[str, Any]) -> dict[str, Any]:
    """A last-generation node: its content is its own, unlike the anchors'."""
    return next(node for node in output["nodes"] if node["generation"] == 2)


def error_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return result.stderr.splitlines()


def test_list_shows_stored_dreams_newest_first_filtered_and_paged(
    fake_llm: FakeOpenAI, library_database: str
) -> None:
    older = dream(*SEED_ARGS)
    newer = dream(*OTHER_SEED)
    older_id, newer_id = older["metadata"]["workspaceId"], newer["metadata"]["workspaceId"]

    table = cli("list")
    page = cli_json("list")
    enterprise = cli_json("list", "--customer", "ENTERPRISE software")
    none = cli_json("list", "--customer", "nurses", "--product", "tracing")
    second = cli_json("list", "--limit", "1", "--offset", "1")
    stats = cli_json("stats")

    assert table.stdout == ""
    assert older_id in table.stderr and newer_id in table.stderr
    assert "1-2 of 2 stored dreams" in table.stderr
    assert page["total"] == 2
    assert [graph["id"] for graph in page["graphs"]] == [newer_id, older_id]
    assert page["graphs"][1]["customer"] == SEED_ARGS[1]
    assert page["graphs"][1]["nodeCount"] == 8
    assert enterprise == {"graphs": [page["graphs"][1]], "total": 1}
    assert none == {"graphs": [], "total": 0}
    assert second == {"graphs": [page["graphs"][1]], "total": 2}
    times = [older["metadata"]["generationTime"], newer["metadata"]["generationTime"]]
    assert stats == {
        "totalGraphs": 2,
        "totalNodes": 16,
        "avgNodesPerGraph": 8.0,
        "avgGenerationTime": round(sum(times) / 2, 2),
        "searchableNodes": 16,
    }


def test_search_finds_a_cli_dream_once_the_command_returned(
    fake_llm: FakeOpenAI, library_database: str
) -> None:
    output = dream()
    node = idea_of(output)

    hits = cli_json("search", node["content"], "--min-score", "0.9")
    elsewhere = cli_json("search", node["content"], "--customer", "nurses")

    assert hits, "the dream's nodes are not searchable once `codreamer dream` returned"
    assert hits[0]["node"] == node
    assert hits[0]["graphId"] == output["metadata"]["workspaceId"]
    assert hits[0]["customer"] == SEED_ARGS[1] and hits[0]["product"] == SEED_ARGS[3]
    assert all(0.9 <= hit["score"] <= 1.0 for hit in hits)
    assert elsewhere == []


def test_graphs_show_gives_the_record_and_refuses_bad_ids(fake_llm: FakeOpenAI) -> None:
    output = dream()
    graph_id = output["metadata"]["workspaceId"]

    record = cli_json("graphs", "show", graph_id)
    summary = cli("graphs", "show", graph_id)
    unknown = cli("graphs", "show", "dream-20200101-000000-0badf00d", code=1)
    malformed = cli("graphs", "show", "../x", code=2)
    malformed_delete = cli("graphs", "delete", "../x", code=2)

    assert set(record) == RECORD_KEYS
    assert record["id"] == graph_id
    assert record["customer"] == SEED_ARGS[1] and record["product"] == SEED_ARGS[3]
    assert record["nodes"] == output["nodes"] and record["nodeCount"] == 8
    assert record["generationTimeMs"] == output["metadata"]["generationTime"]
    assert record["createdAt"].endswith("Z")
    assert record["metadata"]["childrenCount"] == 2
    assert record["metadata"]["generationsCount"] == 2
    assert record["metadata"]["implementation"] == "workflow"
    assert "dream complete" in summary.stderr and summary.stdout == ""
    (line,) = error_lines(unknown)
    assert line.startswith("error: no stored dream 'dream-20200101-000000-0badf00d'")
    assert "is not a valid dream id" in malformed.stderr
    assert "is not a valid dream id" in malformed_delete.stderr


def test_graphs_delete_removes_a_dream_from_list_and_search(
    fake_llm: FakeOpenAI, library_database: str
) -> None:
    kept_workspace = dream()
    purged = dream(*OTHER_SEED)
    kept_id, purged_id = (
        kept_workspace["metadata"]["workspaceId"],
        purged["metadata"]["workspaceId"],
    )

    deleted = cli("graphs", "delete", kept_id)
    deleted_purged = cli("graphs", "delete", purged_id, "--purge")
    page = cli_json("list")
    hits = cli_json("search", idea_of(kept_workspace)["content"], "--min-score", "0")
    again = cli("graphs", "delete", kept_id, code=1)

    assert f"deleted {kept_id}" in deleted.stderr
    assert f"deleted {purged_id} and its workspace" in deleted_purged.stderr
    assert Path(kept_workspace["metadata"]["workspacePath"]).is_dir()
    assert not Path(purged["metadata"]["workspacePath"]).exists()
    assert page == {"graphs": [], "total": 0}
    assert hits == []
    (line,) = error_lines(again)
    assert line == f"error: no stored dream {kept_id!r}"


def test_library_import_records_unrecorded_dreams_once(
    fake_llm: FakeOpenAI,
    library_database: str,
    isolated_env: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CODREAMER_LIBRARY", "false")
    first = dream()
    second = dream(*OTHER_SEED)
    broken = isolated_env / "workspaces" / "dream-20200101-000000-0badf00d"
    broken.mkdir()
    (broken / "results.json").write_text("{not json", encoding="utf-8")
    before = cli_json("list")
    monkeypatch.delenv("CODREAMER_LIBRARY")

    imported = cli("library", "import")
    page = cli_json("list")
    hits = cli_json("search", idea_of(second)["content"], "--min-score", "0.9")
    again = cli("library", "import")

    assert before == {"graphs": [], "total": 0}
    assert "imported 2, already there 0, skipped 1" in imported.stderr
    assert f"skipped {broken.name}: results.json is not valid JSON" in imported.stderr
    assert page["total"] == 2
    assert {graph["id"] for graph in page["graphs"]} == {
        first["metadata"]["workspaceId"],
        second["metadata"]["workspaceId"],
    }
    assert hits and hits[0]["node"] == idea_of(second)
    assert hits[0]["graphId"] == second["metadata"]["workspaceId"]
    assert "imported 0, already there 2, skipped 1" in again.stderr


def test_search_refuses_an_empty_query() -> None:
    result = cli("search", "", code=2)

    assert "say what to look for" in result.stderr


def test_library_commands_name_a_bad_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODREAMER_DATABASE_URL", "mysql://x")
    unsupported = cli("list", code=2)
    monkeypatch.setenv("CODREAMER_DATABASE_URL", "postgresql://u:secretpw@127.0.0.1:1/db")
    unreachable = cli("list", code=1)

    (line,) = error_lines(unsupported)
    assert line.startswith("error:") and "CODREAMER_DATABASE_URL" in line
    assert "secretpw" not in unreachable.stderr + unreachable.stdout
    # one line, not the connection pool's log of every failed attempt before it
    assert len(error_lines(unreachable)) == 1, unreachable.stderr
    assert unreachable.stderr.startswith("error: the library database cannot be reached")
