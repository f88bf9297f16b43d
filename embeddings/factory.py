"""The embeddings CODREAMER_EMBEDDINGS names: "local" (offline MiniLM) or "provider:model"."""

from functools import cache
from typing import Any

from langchain_core.embeddings import Embeddings

from core.settings import get_settings
from core.wheel_data import WheelDataMissingError

LOCAL = "local"
LOCAL_MODEL = "all-MiniLM-L6-v2 (ONNX int8, local)"
NO_API_KEY = "not-needed"


class EmbeddingsUnavailableError(RuntimeError):
    """The configured embeddings cannot be loaded; the message says what to install or set."""


def embeddings_name() -> str:
    """What the vectors are made with: stored beside them, so a change of model is noticed."""
    spec = get_settings().embeddings
    return LOCAL_MODEL if spec == LOCAL else spec


def get_embeddings(spec: str) -> Embeddings:
    """The embeddings `spec` names (CODREAMER_EMBEDDINGS), loaded once per process and endpoint."""
    if spec == LOCAL:
        return _local_embeddings()
    settings = get_settings()
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else NO_API_KEY
    return _endpoint_embeddings(spec, settings.openai_base_url, key)


@cache
def _local_embeddings() -> Embeddings:
    try:
        from embeddings.minilm import MiniLMEmbeddings

        return MiniLMEmbeddings()
    except (ImportError, WheelDataMissingError) as error:
        raise EmbeddingsUnavailableError(f"the local embedding model is missing: {error}") from None


@cache
def _endpoint_embeddings(spec: str, base_url: str | None, api_key: str) -> Embeddings:
    """An endpoint through LangChain's `init_embeddings` ("openai:text-embedding-3-small").

    OpenAI-compatible endpoints get OPENAI_BASE_URL and OPENAI_API_KEY (a placeholder for a
    local endpoint without keys), and no local token counting (its files would be downloaded).
    """
    from langchain.embeddings import init_embeddings

    options: dict[str, Any] = {}
    if spec.startswith("openai:"):
        options = {"check_embedding_ctx_length": False, "base_url": base_url, "api_key": api_key}
    try:
        return init_embeddings(spec, **options)
    except (ImportError, ValueError) as error:
        raise EmbeddingsUnavailableError(f"CODREAMER_EMBEDDINGS={spec!r}: {error}") from None


class LazyEmbeddings(Embeddings):
    """The embeddings `spec` names, loaded at their first use (a store may never need them)."""

    def __init__(self, spec: str) -> None:
        self.spec = spec

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return get_embeddings(self.spec).embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return get_embeddings(self.spec).embed_query(text)


def embedding_dimensions(spec: str) -> int:
    """How long the vectors of `spec` are (an endpoint is asked once)."""
    if spec == LOCAL:
        from embeddings.minilm import DIMENSIONS

        return DIMENSIONS
    return len(get_embeddings(spec).embed_query("How long are these vectors?"))
