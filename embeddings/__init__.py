"""Sentence embeddings for the library's node search: offline by default, or an endpoint."""

from embeddings.factory import EmbeddingsUnavailableError, embeddings_name, get_embeddings

__all__ = ["EmbeddingsUnavailableError", "embeddings_name", "get_embeddings"]
