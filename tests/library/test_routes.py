"""The dream library's REST routes over real HTTP, on SQLite and on PostgreSQL: listing and
filtering stored dreams, one dream, deleting (and purging), stats, node search by meaning, the
422s of bad queries, and the API key."""

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.settings import get_settings
from tests.support.live_server import LiveServer

SMALL = {"children_count": 2, "generations_count_int": 2}
BAKERS = {"customer": "Bakers who sell sourdough", "product": "A proofing oven", **SMALL}
NURSES = {"customer": "Hospital nurses on night shifts", "product": "A shift app", **SMALL}
CAKES = {"customer": "Bakers of wedding cakes", "product": "A cake decorating app", **SMALL}
NODES_PER_DREAM = 8
UNKNOWN_ID = "dream-20990101-000000-deadbeef"
MALFORMED_IDS = ["..%2Fetc", "..etc", "a" * 300]


async def dream(client: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/api/v1/dream", json=body)
    assert response.status_code == 200, response.text
    return response.json()


async def searchable(client: httpx.AsyncClient, *graph_ids: str) -> dict[str, Any]:
    """The search stats once these dreams are indexed (indexing runs in the background)."""
    deadline = time.monotonic() + 30
    while True:
        stats = (await client.get("/api/v1/search/stats")).json()
        indexed = {row["graphId"] for row in stats["graphBreakdown"]}
        if indexed >= set(graph_ids) or time.monotonic() > deadline:
            return stats
        await asyncio.sleep(0.1)


def created_at(graph_id: str) -> str:
    """`dream-YYYYMMDD-HHMMSS-...` as ISO 8601 UTC."""
    day, clock = graph_id.split("-")[1:3]
    return f"{day[:4]}-{day[4:6]}-{day[6:]}T{clock[:2]}:{clock[2:4]}:{clock[4:]}Z"


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def text_of(node: dict[str, Any]) -> str:
    """What a node is searched by: its name and content."""
    return f"{node['name']}: {node['content']}"


async def test_graphs_list_filter_page_and_count_newest_first(
    library_database: str, live_server: LiveServer
) -> None:
    async with httpx.AsyncClient(base_url=live_server.url, timeout=60) as client:
        outputs = await asyncio.gather(*(dream(client, b) for b in (BAKERS, NURSES, CAKES)))
        indexed = await searchable(client, *(out["metadata"]["workspaceId"] for out in outputs))
        listed = (await client.get("/api/v1/graphs")).json()
        pages = [
            (await client.get("/api/v1/graphs", params={"limit": 2, "offset": o})).json()
            for o in (0, 2, 5)
        ]
        filtered = {
            (c, p): (
                await client.get("/api/v1/graphs", params={"customer": c, "product": p})
            ).json()["graphs"]
            for c, p in [("BAKERS", ""), ("", "APP"), ("bakers", "App"), ("florists", "")]
        }
        searched = (
            await client.get("/api/v1/graphs/search", params={"customer": "bakers", "limit": 1})
        ).json()
        stats = (await client.get("/api/v1/stats")).json()

    ids = {
        body["customer"]: out["metadata"]["workspaceId"]
        for body, out in zip((BAKERS, NURSES, CAKES), outputs, strict=True)
    }
    summaries = listed["graphs"]
    assert [listed[key] for key in ("total", "limit", "offset", "hasMore")] == [3, 10, 0, False]
    assert [s["id"] for s in summaries] == [
        s["id"]
        for s in sorted(
            summaries, key=lambda s: (s["createdAt"], s["recordedAt"], s["id"]), reverse=True
        )
    ]
    for summary in summaries:
        assert summary["createdAt"] == created_at(summary["id"])
        assert ids[summary["customer"]] == summary["id"]
        assert summary["nodeCount"] == NODES_PER_DREAM
        assert summary["implementation"] == "workflow"
    assert {s["product"] for s in summaries} == {b["product"] for b in (BAKERS, NURSES, CAKES)}
    assert [g["id"] for p in pages for g in p["graphs"]] == [s["id"] for s in summaries]
    paging = [(p["total"], p["offset"], p["hasMore"]) for p in pages]
    assert paging == [(3, 0, True), (3, 2, False), (3, 5, False)]
    by_filter = {key: {g["customer"] for g in graphs} for key, graphs in filtered.items()}
    assert by_filter == {
        ("BAKERS", ""): {BAKERS["customer"], CAKES["customer"]},
        ("", "APP"): {NURSES["customer"], CAKES["customer"]},
        ("bakers", "App"): {CAKES["customer"]},
        ("florists", ""): set(),
    }
    assert searched == {
        "query": {"customer": "bakers", "product": ""},
        "results": [s for s in summaries if "Bakers" in s["customer"]][:1],
        "total": 2,
        "limit": 1,
        "offset": 0,
    }
    times = [out["metadata"]["generationTime"] for out in outputs]
    assert stats == {
        "totalGraphs": 3,
        "totalNodes": 3 * NODES_PER_DREAM,
        "avgNodesPerGraph": NODES_PER_DREAM,
        "avgGenerationTime": round(sum(times) / 3, 2),
    }
    assert indexed["totalGraphs"] == 3 and indexed["totalNodes"] == 3 * NODES_PER_DREAM
    assert sorted(map(tuple, (b.values() for b in indexed["graphBreakdown"]))) == sorted(
        (graph_id, NODES_PER_DREAM) for graph_id in ids.values()
    )


async def test_search_nodes_ranks_by_meaning_within_filters(
    library_database: str, live_server: LiveServer
) -> None:
    async with httpx.AsyncClient(base_url=live_server.url, timeout=60) as client:
        bakers, nurses = [await dream(client, body) for body in (BAKERS, NURSES)]
        bakers_id, nurses_id = (out["metadata"]["workspaceId"] for out in (bakers, nurses))
        await searchable(client, bakers_id, nurses_id)
        record = (await client.get(f"/api/v1/graphs/{bakers_id}")).json()
        wanted = next(n for n in record["nodes"] if n["content"] == BAKERS["customer"])
        idea = next(n for n in record["nodes"] if n["generation"] == 2)

        async def search(**params: Any) -> dict[str, Any]:
            response = await client.get("/api/v1/search/nodes", params=params)
            assert response.status_code == 200, response.text
            return response.json()

        exact = await search(q=text_of(wanted), minScore=0.9)
        by_idea = await search(q=text_of(idea), minScore=0.9)
        perfect = await search(q=text_of(wanted), minScore=1)
        elsewhere = await search(q=wanted["content"], customer="NIGHT shifts", minScore=0)
        everything = await search(q=wanted["content"], minScore=0, limit=100)
        ovens = await search(q="bread", product="oven", minScore=0, limit=100)
        top_three = await search(q="bread", minScore=0, limit=3)
        nonsense = await search(q="zqx vortex glyph 93817 kumquat", minScore=0.99)
        nobody = await search(q=wanted["content"], customer="florists", minScore=0)

    assert exact["query"] == text_of(wanted)
    assert exact["filters"] == {"customer": "", "product": "", "minScore": 0.9}
    first = exact["results"][0]
    assert first["node"] == wanted and first["graphId"] == bakers_id
    assert (first["customer"], first["product"]) == (BAKERS["customer"], BAKERS["product"])
    assert 0.99 < first["score"] <= 1
    assert exact["count"] == len(exact["results"])
    assert all(0.9 <= hit["score"] <= 1 for hit in exact["results"])
    assert by_idea["results"][0]["node"] == idea and by_idea["results"][0]["score"] > 0.99
    assert all(hit["node"] == wanted for hit in perfect["results"])
    assert elsewhere["filters"]["customer"] == "NIGHT shifts"
    assert elsewhere["count"] == NODES_PER_DREAM
    assert {hit["graphId"] for hit in elsewhere["results"]} == {nurses_id}
    scores = [hit["score"] for hit in everything["results"]]
    assert everything["count"] == 2 * NODES_PER_DREAM and scores == sorted(scores, reverse=True)
    assert all(0 <= score <= 1 for score in scores)
    assert ovens["count"] == NODES_PER_DREAM
    assert {hit["graphId"] for hit in ovens["results"]} == {bakers_id}
    assert top_three["count"] == 3
    assert nonsense["results"] == [] and nonsense["count"] == 0
    assert nobody["results"] == []


async def test_graph_get_answers_the_record_404_or_422(
    library_database: str, live_server: LiveServer
) -> None:
    async with httpx.AsyncClient(base_url=live_server.url, timeout=60) as client:
        output = await dream(client, BAKERS)
        graph_id = output["metadata"]["workspaceId"]
        found = await client.get(f"/api/v1/graphs/{graph_id}")
        missing = await client.get(f"/api/v1/graphs/{UNKNOWN_ID}")
        malformed = [await client.get(f"/api/v1/graphs/{bad}") for bad in MALFORMED_IDS]

    assert found.status_code == 200, found.text
    record = found.json()
    assert record == {
        "id": graph_id,
        "customer": BAKERS["customer"],
        "product": BAKERS["product"],
        "nodes": output["nodes"],
        "nodeCount": NODES_PER_DREAM,
        "generationTimeMs": output["metadata"]["generationTime"],
        "createdAt": created_at(graph_id),
        "metadata": {
            **output["metadata"],
            "childrenCount": 2,
            "generationsCount": 2,
            "implementation": "workflow",
        },
    }
    assert missing.status_code == 404 and UNKNOWN_ID in missing.text
    assert [response.status_code for response in malformed] == [422] * len(MALFORMED_IDS)


async def test_graph_delete_removes_record_search_hits_and_purged_workspace(
    library_database: str, live_server: LiveServer
) -> None:
    async with httpx.AsyncClient(base_url=live_server.url, timeout=60) as client:
        kept, purged = [await dream(client, body) for body in (BAKERS, NURSES)]
        kept_id, purged_id = (out["metadata"]["workspaceId"] for out in (kept, purged))
        await searchable(client, kept_id, purged_id)
        folders = [Path(out["metadata"]["workspacePath"]) for out in (kept, purged)]
        existed = [folder.is_dir() for folder in folders]

        deleted = await client.delete(f"/api/v1/graphs/{kept_id}")
        gone = await client.get(f"/api/v1/graphs/{kept_id}")
        hits = await client.get(
            "/api/v1/search/nodes", params={"q": BAKERS["customer"], "minScore": 0, "limit": 100}
        )
        index_after_one = (await client.get("/api/v1/search/stats")).json()
        listed_after_one = (await client.get("/api/v1/graphs")).json()
        purging = await client.delete(f"/api/v1/graphs/{purged_id}", params={"purge": "true"})
        again = await client.delete(f"/api/v1/graphs/{kept_id}")
        unknown = await client.delete(f"/api/v1/graphs/{UNKNOWN_ID}")
        malformed = await client.delete("/api/v1/graphs/..etc")
        stats = (await client.get("/api/v1/stats")).json()
        index_after_both = (await client.get("/api/v1/search/stats")).json()

    assert existed == [True, True]
    assert deleted.status_code == 200 and deleted.json()["success"] is True
    assert set(deleted.json()) == {"success", "message"} and kept_id in deleted.json()["message"]
    assert gone.status_code == 404 and folders[0].is_dir()
    assert {hit["graphId"] for hit in hits.json()["results"]} == {purged_id}
    assert index_after_one["graphBreakdown"] == [
        {"graphId": purged_id, "nodeCount": NODES_PER_DREAM}
    ]
    assert [g["id"] for g in listed_after_one["graphs"]] == [purged_id]
    assert purging.status_code == 200 and purging.json()["success"] is True
    assert "workspace" in purging.json()["message"] and not folders[1].exists()
    assert again.status_code == 404 and unknown.status_code == 404
    assert malformed.status_code == 422
    assert set(stats.values()) == {0}
    assert index_after_both == {"totalNodes": 0, "totalGraphs": 0, "graphBreakdown": []}


BAD_QUERIES = [
    ("/api/v1/graphs/search", {}, "customer"),
    ("/api/v1/graphs/search", {"customer": "", "product": ""}, "customer"),
    ("/api/v1/graphs/search", {"customer": "x", "limit": 0}, "limit"),
    ("/api/v1/graphs", {"limit": 101}, "limit"),
    ("/api/v1/graphs", {"offset": -1}, "offset"),
    ("/api/v1/search/nodes", {}, "q"),
    ("/api/v1/search/nodes", {"q": ""}, "q"),
    ("/api/v1/search/nodes", {"q": "bread", "minScore": -0.1}, "minScore"),
    ("/api/v1/search/nodes", {"q": "bread", "minScore": 1.01}, "minScore"),
    ("/api/v1/search/nodes", {"q": "bread", "limit": 0}, "limit"),
    ("/api/v1/search/nodes", {"q": "bread", "limit": 101}, "limit"),
]


async def test_search_routes_refuse_bad_queries_with_422_naming_the_field(
    library_database: str, live_server: LiveServer
) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        responses = [await client.get(path, params=params) for path, params, _ in BAD_QUERIES]

    refused = [
        (response.status_code, [error["loc"][-1] for error in response.json()["detail"]])
        for response in responses
    ]
    assert refused == [(422, [field]) for _, _, field in BAD_QUERIES]


async def test_library_routes_need_the_api_key_when_one_is_set(
    library_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CODREAMER_API_KEY", "library-secret")
    get_settings.cache_clear()
    routes = [
        ("GET", "/api/v1/graphs", 200),
        ("GET", "/api/v1/graphs/search?customer=bakers", 200),
        ("GET", f"/api/v1/graphs/{UNKNOWN_ID}", 404),
        ("DELETE", f"/api/v1/graphs/{UNKNOWN_ID}", 404),
        ("GET", "/api/v1/stats", 200),
        ("GET", "/api/v1/search/nodes?q=bread", 200),
        ("GET", "/api/v1/search/stats", 200),
    ]
    server = LiveServer().start()
    try:
        async with httpx.AsyncClient(base_url=server.url) as client:
            answers = {
                (method, path): [
                    (await client.request(method, path, headers=headers)).status_code
                    for headers in ({}, bearer("wrong-key"), bearer("library-secret"))
                ]
                for method, path, _ in routes
            }
    finally:
        server.stop()

    assert answers == {(method, path): [401, 401, status] for method, path, status in routes}


async def test_graph_delete_during_its_indexing_stays_deleted(
    library_database: str, live_server: LiveServer
) -> None:
    """A dream deleted while its nodes are being embedded must not come back (86 nodes: the
    embedding takes long enough for the DELETE to land in the middle of it)."""
    async with httpx.AsyncClient(base_url=live_server.url, timeout=60) as client:
        early = await dream(client, {**BAKERS, "children_count": 4, "generations_count_int": 3})
        early_id = early["metadata"]["workspaceId"]
        deleted = await client.delete(f"/api/v1/graphs/{early_id}")
        later_id = (await dream(client, NURSES))["metadata"]["workspaceId"]
        indexed = await searchable(client, later_id)  # one worker, in order: `early` is done
        listed = (await client.get("/api/v1/graphs")).json()
        hits = await client.get("/api/v1/search/nodes", params={"q": "bread", "minScore": 0})
        found = await client.get(f"/api/v1/graphs/{early_id}")

    assert deleted.status_code == 200 and found.status_code == 404
    assert [graph["id"] for graph in listed["graphs"]] == [later_id]
    assert indexed["graphBreakdown"] == [{"graphId": later_id, "nodeCount": NODES_PER_DREAM}]
    assert {hit["graphId"] for hit in hits.json()["results"]} == {later_id}
