"""Evaluations of finished dreams by id over real HTTP and through the CLI: the original
server's `/api/v1/eval` shapes, kept with the dream in the library, read from a workspace when
the library is off, and the 404s, 422s and the API key."""

import json
from typing import Any

import httpx
import pytest

from core.settings import get_settings
from tests.support.cli import run_cli
from tests.support.live_server import LiveServer
from tests.support.openai_server import FakeOpenAI

SCORES = {"completeness", "quality", "relationships", "diversity", "pathToProduct", "overall"}
UNKNOWN_ID = "dream-20990101-000000-deadbeef"
TRACING = {
    "customer": "Enterprise software companies using microservices",
    "product": "Distributed tracing and observability platform",
    "children_count": 2,
    "generations_count_int": 2,
}
BAKERS = {
    "customer": "Bakers who sell sourdough",
    "product": "A proofing oven",
    "children_count": 1,
    "generations_count_int": 1,
}


async def dream(client: httpx.AsyncClient, body: dict[str, Any]) -> str:
    response = await client.post("/api/v1/dream", json=body)
    assert response.status_code == 200, response.text
    return str(response.json()["metadata"]["workspaceId"])


def assert_evaluation_shape(answer: dict[str, Any], graph_id: str, body: dict[str, Any]) -> None:
    assert answer["graphId"] == graph_id
    evaluation = answer["evaluation"]
    assert set(evaluation["scores"]) == SCORES
    assert all(0.0 <= value <= 1.0 for value in evaluation["scores"].values())
    summary = evaluation["summary"]
    assert summary["grade"] in {"A", "B", "C", "D", "F"}
    assert all(
        isinstance(summary[key], list) for key in ("strengths", "weaknesses", "recommendations")
    )
    assert summary["weaknesses"] or summary["strengths"]
    nodes = (
        1
        + sum(body["children_count"] ** g for g in range(1, body["generations_count_int"] + 1))
        + 1
    )
    assert evaluation["metadata"]["nodeCount"] == nodes
    assert evaluation["metadata"]["edgeCount"] >= nodes - 1
    assert answer["graphMetadata"] == {
        "customer": body["customer"],
        "product": body["product"],
        "createdAt": answer["graphMetadata"]["createdAt"],
        "implementation": "workflow",
    }
    assert answer["graphMetadata"]["createdAt"].startswith(graph_id[6:10])


async def test_evaluation_is_kept_with_the_dream_until_refreshed(
    fake_llm: FakeOpenAI, live_server: LiveServer
) -> None:
    async with httpx.AsyncClient(base_url=live_server.url, timeout=120) as client:
        graph_id = await dream(client, TRACING)
        stored = (await client.get(f"/api/v1/graphs/{graph_id}")).json()
        assert "evaluation" not in stored

        first = await client.post(f"/api/v1/eval/graph/{graph_id}")
        assert first.status_code == 200, first.text
        assert_evaluation_shape(first.json(), graph_id, TRACING)

        record = (await client.get(f"/api/v1/graphs/{graph_id}")).json()
        again = (await client.post(f"/api/v1/eval/graph/{graph_id}")).json()
        listed = (await client.get("/api/v1/graphs")).json()["graphs"]
        refreshed = (await client.post(f"/api/v1/eval/graph/{graph_id}?refresh=true")).json()

    assert record["evaluation"] == first.json()["evaluation"]
    assert again["evaluation"] == first.json()["evaluation"]  # stored, not made again
    assert listed[0]["grade"] == first.json()["evaluation"]["summary"]["grade"]
    assert refreshed["evaluation"]["scores"] == first.json()["evaluation"]["scores"]
    assert "evaluatedAt" in refreshed["evaluation"]


async def test_compare_names_a_winner_and_every_difference(
    fake_llm: FakeOpenAI, live_server: LiveServer
) -> None:
    async with httpx.AsyncClient(base_url=live_server.url, timeout=120) as client:
        tracing, bakers = await dream(client, TRACING), await dream(client, BAKERS)
        response = await client.post(
            "/api/v1/eval/compare",
            json={"graphId1": tracing, "graphId2": bakers, "label1": "tracing"},
        )
        same = await client.post(
            "/api/v1/eval/compare", json={"graphId1": tracing, "graphId2": tracing}
        )

    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["graph1"]["graphId"], answer["graph2"]["graphId"]) == (tracing, bakers)
    assert (answer["graph1"]["label"], answer["graph2"]["label"]) == ("tracing", "Graph 2")
    comparison = answer["comparison"]
    scores1 = answer["graph1"]["evaluation"]["scores"]
    scores2 = answer["graph2"]["evaluation"]["scores"]
    assert SCORES <= set(comparison["scoreDifferences"])
    for name, change in comparison["scoreDifferences"].items():
        assert (change["graph1"], change["graph2"]) == (scores1[name], scores2[name])
        assert change["difference"] == pytest.approx(scores2[name] - scores1[name], abs=1e-4)
    gap = scores2["overall"] - scores1["overall"]
    expected = "Tie" if abs(gap) < 0.02 else ("Graph 2" if gap > 0 else "tracing")
    assert comparison["winner"] == expected
    assert isinstance(comparison["insights"], list) and comparison["insights"]
    assert same.json()["comparison"]["winner"] == "Tie"


async def test_eval_routes_refuse_unknown_and_malformed_ids_and_missing_fields(
    fake_llm: FakeOpenAI, live_server: LiveServer
) -> None:
    async with httpx.AsyncClient(base_url=live_server.url, timeout=60) as client:
        unknown = await client.post(f"/api/v1/eval/graph/{UNKNOWN_ID}")
        malformed = await client.post("/api/v1/eval/graph/..%2Fetc")
        missing = await client.post("/api/v1/eval/compare", json={"graphId1": UNKNOWN_ID})
        unknown_pair = await client.post(
            "/api/v1/eval/compare", json={"graphId1": UNKNOWN_ID, "graphId2": UNKNOWN_ID}
        )
        bad_label = await client.post(
            "/api/v1/eval/compare",
            json={"graphId1": UNKNOWN_ID, "graphId2": UNKNOWN_ID, "label1": "x" * 101},
        )

    assert unknown.status_code == 404 and UNKNOWN_ID in unknown.json()["detail"]
    assert malformed.status_code == 422
    assert missing.status_code == 422
    assert [item["loc"] for item in missing.json()["detail"]] == [["body", "graphId2"]]
    assert unknown_pair.status_code == 404
    assert bad_label.status_code == 422 and bad_label.json()["detail"][0]["loc"] == [
        "body",
        "label1",
    ]


async def test_eval_routes_need_the_api_key_when_one_is_set(
    fake_llm: FakeOpenAI, live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CODREAMER_API_KEY", "eval-secret")
    get_settings.cache_clear()
    async with httpx.AsyncClient(base_url=live_server.url, timeout=60) as client:
        without = await client.post(f"/api/v1/eval/graph/{UNKNOWN_ID}")
        compare = await client.post(
            "/api/v1/eval/compare", json={"graphId1": UNKNOWN_ID, "graphId2": UNKNOWN_ID}
        )
        with_key = await client.post(
            f"/api/v1/eval/graph/{UNKNOWN_ID}", headers={"Authorization": "Bearer eval-secret"}
        )
    assert (without.status_code, compare.status_code, with_key.status_code) == (401, 401, 404)


def test_cli_evaluates_a_workspace_dream_when_the_library_is_off(
    fake_llm: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CODREAMER_LIBRARY", "false")
    made = run_cli(
        "dream",
        "--customer",
        TRACING["customer"],
        "--product",
        TRACING["product"],
        "--generations",
        "2",
        "--json",
    )
    assert made.returncode == 0, made.stderr
    graph_id = json.loads(made.stdout)["metadata"]["workspaceId"]

    shown = run_cli("eval", graph_id)
    as_json = run_cli("eval", graph_id, "--json")
    compared = run_cli("compare", graph_id, graph_id, "--label1", "before", "--label2", "after")

    assert shown.returncode == 0, shown.stderr
    answer = json.loads(as_json.stdout)
    assert_evaluation_shape(answer, graph_id, TRACING)
    assert f"grade {answer['evaluation']['summary']['grade']}" in shown.stderr
    for name, value in answer["evaluation"]["scores"].items():
        assert f"{name}" in shown.stderr and f"{value:.2f}" in shown.stderr
    assert compared.returncode == 0, compared.stderr
    assert "winner: Tie" in compared.stderr and "before" in compared.stderr


def test_cli_eval_of_an_unknown_or_malformed_id_is_one_error_line(fake_llm: FakeOpenAI) -> None:
    unknown = run_cli("eval", UNKNOWN_ID)
    malformed = run_cli("compare", UNKNOWN_ID, "../etc")

    assert unknown.returncode == 1
    assert unknown.stderr.count("error:") == 1 and UNKNOWN_ID in unknown.stderr
    assert "Traceback" not in unknown.stderr
    assert malformed.returncode == 2 and "Traceback" not in malformed.stderr


async def test_the_judge_runs_through_the_route_and_its_ratings_are_kept_in_the_library(
    fake_llm: FakeOpenAI, live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with httpx.AsyncClient(base_url=live_server.url, timeout=120) as client:
        graph_id = await dream(client, TRACING)
        plain = (await client.post(f"/api/v1/eval/graph/{graph_id}")).json()["evaluation"]
        monkeypatch.setenv("CODREAMER_JUDGE_MODEL", "fake-model")
        get_settings.cache_clear()
        fake_llm.reset()
        judged = (await client.post(f"/api/v1/eval/graph/{graph_id}")).json()["evaluation"]
        calls = fake_llm.stats.calls
        again = (await client.post(f"/api/v1/eval/graph/{graph_id}?refresh=true")).json()

    assert "judge" not in plain["details"]
    judge = judged["details"]["judge"]
    assert judged["evaluatedWith"]["judgeModel"] == "fake-model"  # the plain one was stale
    assert judge["links"] == 6 and judge["calls"] == calls >= 1
    assert again["evaluation"]["details"]["judge"]["calls"] == 0
    assert again["evaluation"]["details"]["judge"]["cachedLinks"] == 6
    assert fake_llm.stats.calls == calls


async def test_an_unreachable_judge_is_a_503_naming_it(
    fake_llm: FakeOpenAI, live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with httpx.AsyncClient(base_url=live_server.url, timeout=120) as client:
        graph_id = await dream(client, BAKERS)
        monkeypatch.setenv("CODREAMER_JUDGE_MODEL", "fake-model")
        monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
        get_settings.cache_clear()
        response = await client.post(f"/api/v1/eval/graph/{graph_id}")

    assert response.status_code == 503
    assert "127.0.0.1:9" in response.json()["detail"] and "fake-model" in response.json()["detail"]
