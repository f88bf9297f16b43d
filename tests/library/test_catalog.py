"""The library on SQLite and on a real PostgreSQL: record, index, list, filter, page, count,
search by meaning, delete; and two processes' libraries over one database."""

import pytest

from library import DreamLibrary, get_library
from library.store import close_store, database_key, open_store
from tests.support.dreams import BAKERY, TRACING, dream_output


@pytest.fixture
def library(library_database: str) -> DreamLibrary:
    return get_library()


def stored(library: DreamLibrary, *outputs: dict) -> list[str]:
    """Record and index each output; their ids."""
    ids = [library.record(output)["id"] for output in outputs]
    for graph_id in ids:
        library.index(graph_id)
    return ids


def test_library_finds_nodes_by_meaning_not_words(library: DreamLibrary) -> None:
    bakery, tracing = stored(library, BAKERY, TRACING)

    hits = library.search_nodes("which backend call is slow", min_score=0.2)

    assert hits[0]["graphId"] == tracing
    assert hits[0]["node"]["name"] == "Latency hunting"
    assert hits[0]["customer"] == "Enterprise teams running microservices"
    assert all(0.2 <= hit["score"] <= 1 for hit in hits)
    assert [hit["score"] for hit in hits] == sorted((hit["score"] for hit in hits), reverse=True)
    bread = library.search_nodes("bread dough fermenting in the cold", limit=1, min_score=0.3)
    assert [(hit["graphId"], hit["node"]["name"]) for hit in bread] == [
        (bakery, "Dough rises too slowly")
    ]


def test_library_search_filters_by_customer_product_and_score(library: DreamLibrary) -> None:
    bakery, tracing = stored(library, BAKERY, TRACING)

    in_bakery = library.search_nodes("slow requests", customer="BAKERS", min_score=0)
    in_tracing = library.search_nodes("slow requests", product="tracing", min_score=0)

    assert in_bakery and {hit["graphId"] for hit in in_bakery} == {bakery}
    assert in_tracing and {hit["graphId"] for hit in in_tracing} == {tracing}
    assert library.search_nodes("slow requests", customer="nobody", min_score=0) == []
    assert library.search_nodes("slow requests", min_score=0.99) == []
    assert len(library.search_nodes("anything", limit=3, min_score=0)) == 3


def test_library_lists_newest_first_with_filters_and_pages(library: DreamLibrary) -> None:
    outputs = [
        dream_output(f"dream-2026110{day}-080000-0000000{day}", f"Customer {day}", "Oven", [])
        for day in range(1, 6)
    ]
    for output in outputs:
        library.record(output)

    first = library.graphs(limit=2)
    second = library.graphs(limit=2, offset=2)

    assert first["total"] == second["total"] == 5
    assert [g["id"] for g in first["graphs"] + second["graphs"]] == [
        f"dream-2026110{day}-080000-0000000{day}" for day in (5, 4, 3, 2)
    ]
    assert library.graphs(customer="customer 3")["graphs"][0]["customer"] == "Customer 3"
    assert library.graphs(customer="CUSTOMER", product="ov")["total"] == 5
    assert library.graphs(product="kettle") == {"graphs": [], "total": 0}
    assert library.graphs(offset=10)["graphs"] == []


def test_library_record_keeps_the_original_servers_shape(library: DreamLibrary) -> None:
    library.record(BAKERY)

    record = library.get("dream-20261101-080000-aaaaaaaa")

    assert record is not None
    assert record["customer"] == "Bakers who sell sourdough at farmers markets"
    assert record["product"] == "A proofing oven with a phone app"
    assert record["nodeCount"] == len(record["nodes"]) == 4
    assert record["generationTimeMs"] == 1002
    assert record["createdAt"] == "2026-11-01T08:00:00Z"
    assert record["metadata"]["childrenCount"] == 2
    assert record["metadata"]["generationsCount"] == 1
    assert record["metadata"]["implementation"] == "workflow"
    assert library.get("dream-20991231-000000-ffffffff") is None


def test_library_counts_dreams_and_searchable_nodes(library: DreamLibrary) -> None:
    library.record(BAKERY)
    stored(library, TRACING)

    assert library.stats() == {
        "totalGraphs": 2,
        "totalNodes": 8,
        "avgNodesPerGraph": 4.0,
        "avgGenerationTime": 1002.0,
    }
    assert library.unindexed() == ["dream-20261101-080000-aaaaaaaa"]
    assert library.search_stats() == {
        "totalNodes": 4,
        "totalGraphs": 1,
        "graphBreakdown": [{"graphId": "dream-20261102-080000-bbbbbbbb", "nodeCount": 4}],
    }


def test_library_delete_takes_a_dream_out_of_lists_and_search(library: DreamLibrary) -> None:
    bakery, tracing = stored(library, BAKERY, TRACING)

    assert library.delete(bakery) is True

    assert library.get(bakery) is None
    assert [g["id"] for g in library.graphs()["graphs"]] == [tracing]
    hits = library.search_nodes("sourdough bread", min_score=0)
    assert hits and {hit["graphId"] for hit in hits} == {tracing}
    assert library.delete(bakery) is False


def test_library_two_processes_see_each_others_writes(library_database: str) -> None:
    """Two stores on one database, each with its own cache, as two servers have."""
    url = database_key(library_database)
    first_store, second_store = open_store(url), open_store(url)
    try:
        first = DreamLibrary(first_store, "local", "local-test")
        second = DreamLibrary(second_store, "local", "local-test")
        assert second.graphs()["total"] == 0 and second.search_nodes("bread", min_score=0) == []

        stored(first, BAKERY)
        assert [g["id"] for g in second.graphs()["graphs"]] == [BAKERY["metadata"]["workspaceId"]]
        assert (
            second.search_nodes("sourdough", min_score=0.3)[0]["graphId"]
            == (BAKERY["metadata"]["workspaceId"])
        )

        first.delete(BAKERY["metadata"]["workspaceId"])
        assert second.graphs()["total"] == 0
        assert second.search_nodes("sourdough", min_score=0) == []
    finally:
        close_store(first_store)
        close_store(second_store)
