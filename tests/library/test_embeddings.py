"""Node search vectors: the offline MiniLM model, an OpenAI-compatible endpoint (our loopback
server), and LLMock's embeddings (a third-party mock) through the same library."""

import numpy as np
import pytest
from llmock.pytest_plugin import LLMock

from core.settings import get_settings
from embeddings import get_embeddings
from embeddings.minilm import BATCH_SIZE, DIMENSIONS
from library import get_library
from tests.support.dreams import BAKERY, TRACING
from tests.support.openai_server import EMBEDDING_DIMENSIONS, FakeOpenAI

ENDPOINT_MODEL = "openai:text-embedding-3-small"


def test_minilm_vectors_are_unit_length_and_closer_for_related_texts() -> None:
    model = get_embeddings("local")

    cake, pastry, server = np.asarray(
        model.embed_documents(
            ["Bake a chocolate cake", "Make pastries in the oven", "Restart the database server"]
        )
    )

    assert cake.shape == (DIMENSIONS,)
    assert np.allclose(np.linalg.norm([cake, pastry, server], axis=1), 1.0, atol=1e-4)
    assert cake @ pastry > cake @ server + 0.2


def test_minilm_batches_give_the_same_vectors_as_single_texts() -> None:
    model = get_embeddings("local")
    texts = [f"idea number {index} about ovens" for index in range(BATCH_SIZE + 6)]

    together = np.asarray(model.embed_documents(texts))
    alone = np.asarray(model.embed_query(texts[-1]))

    assert together.shape == (len(texts), DIMENSIONS)
    assert np.allclose(together[-1], alone, atol=1e-3)


def test_library_searches_with_an_endpoints_embeddings(
    fake_llm: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CODREAMER_EMBEDDINGS", ENDPOINT_MODEL)
    get_settings.cache_clear()
    library = get_library()
    for output in (BAKERY, TRACING):
        library.index(library.record(output)["id"])

    hits = library.search_nodes("sourdough loaves in the cold", limit=1, min_score=0.3)

    assert [hit["node"]["name"] for hit in hits] == ["Dough rises too slowly"]
    assert fake_llm.stats.embedded_texts == 8 + 1  # every node once, then the query
    assert library.unindexed() == []
    assert len(get_embeddings(ENDPOINT_MODEL).embed_query("x")) == EMBEDDING_DIMENSIONS

    monkeypatch.setenv("CODREAMER_EMBEDDINGS", "local")  # another model: vectors to redo
    get_settings.cache_clear()
    assert sorted(get_library().unindexed()) == [
        BAKERY["metadata"]["workspaceId"],
        TRACING["metadata"]["workspaceId"],
    ]


def test_library_searches_with_llmocks_embeddings(
    llmock: LLMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CODREAMER_EMBEDDINGS", ENDPOINT_MODEL)
    get_settings.cache_clear()
    library = get_library()
    library.index(library.record(TRACING)["id"])
    wanted = TRACING["nodes"][2]

    hits = library.search_nodes(f"{wanted['name']}: {wanted['content']}", limit=1, min_score=0.99)

    assert [hit["node"]["id"] for hit in hits] == [wanted["id"]]
    assert hits[0]["score"] == pytest.approx(1.0, abs=1e-3)
    paths = {record.path for record in llmock.requests}
    assert paths == {"/v1/embeddings"}
