"""Sentence embeddings for the library's node search: offline by default, or an endpoint."""

from embeddings.factory import (
    EmbeddingsUnavailableError,
    LazyEmbeddings,
    embedding_dimensions,
    embeddings_name,
    get_embeddings,
)

__all__ = [
    "EmbeddingsUnavailableError",
    "LazyEmbeddings",
    "embedding_dimensions",
    "embeddings_name",
    "get_embeddings",
]
