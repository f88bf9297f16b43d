"""Chat model loading: the embedded model or any OpenAI-compatible endpoint, one setting away."""

import asyncio
import weakref
from dataclasses import dataclass
from typing import Any, NamedTuple

import openai
from langchain_core.language_models import BaseChatModel
from langchain_openai import ChatOpenAI
from pydantic import SecretStr

from core.settings import get_settings
from nodes.embedded_llm import EMBEDDED_MODEL_NAME, embedded_base_url

DEFAULT_OPENAI_MODEL = "gpt-4o-mini"
OPENAI_URL = "https://api.openai.com/v1"
PLACEHOLDER_API_KEY = "not-needed"
"""Sent to endpoints that take no key (the embedded server, Ollama, vLLM)."""
EMBEDDED_REPEAT_PENALTY = 0.3
"""Frequency and presence penalty for the embedded model: a tiny model loops on its own words
without a penalty for repeating them."""
_models_by_loop: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict["ModelKey", "LoadedModel"]
] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class LoadedModel:
    """A chat model and the name to report for it (never a key or a URL with credentials)."""

    chat_model: BaseChatModel
    name: str
    endpoint: str


def describe_model(spec: str) -> str:
    """The name a dream reports for the model `spec` resolves to, without loading it."""
    kind, name = _resolve(spec)
    return f"embedded:{EMBEDDED_MODEL_NAME}" if kind == "embedded" else name


def load_chat_model(spec: str, temperature: float, timeout: float) -> LoadedModel:
    """Load the model `spec` names (see `DreamContext.model`); clients are reused per process.

    Retries are ours (see `structured_call`), so the client's own are off.
    """
    settings = get_settings()
    kind, name = _resolve(spec)
    if kind == "embedded":
        url = embedded_base_url(settings.embedded_slots)
        return _load(kind, EMBEDDED_MODEL_NAME, url, PLACEHOLDER_API_KEY, temperature, timeout)
    if kind == "openai":
        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
        return _load(
            kind, name, settings.openai_base_url, key or PLACEHOLDER_API_KEY, temperature, timeout
        )
    return _load(kind, name, None, None, temperature, timeout)


class ModelKey(NamedTuple):
    """Everything that tells two chat model clients apart."""

    kind: str
    name: str
    base_url: str | None
    api_key: str | None
    temperature: float
    timeout: float


def _load(*fields: Any) -> LoadedModel:
    """One client per event loop and `ModelKey`: async HTTP clients cannot cross loops."""
    key = ModelKey(*fields)
    models = _models_by_loop.setdefault(asyncio.get_running_loop(), {})
    if key not in models:
        models[key] = _build(key)
    return models[key]


async def close_models() -> None:
    """Close the HTTP clients this event loop's models opened (call before the loop ends)."""
    for model in _models_by_loop.pop(asyncio.get_running_loop(), {}).values():
        client = getattr(model.chat_model, "root_async_client", None)
        if client is not None:
            await client.close()


def _build(key: ModelKey) -> LoadedModel:
    kind, name, base_url, api_key, temperature, timeout = key
    if kind == "init_chat_model":
        from langchain.chat_models import init_chat_model

        model = init_chat_model(name, temperature=temperature, timeout=timeout, max_retries=0)
        return LoadedModel(model, name, name.split(":", 1)[0])
    penalty = EMBEDDED_REPEAT_PENALTY if kind == "embedded" else None
    chat_model = ChatOpenAI(
        model=name,
        base_url=base_url,
        api_key=SecretStr(api_key) if api_key is not None else None,
        temperature=temperature,
        timeout=timeout,
        max_retries=0,
        disable_streaming=True,
        http_async_client=openai.DefaultAioHttpClient(),
        frequency_penalty=penalty,
        presence_penalty=penalty,
    )
    label = f"embedded:{name}" if kind == "embedded" else name
    return LoadedModel(chat_model, label, base_url or OPENAI_URL)


def _resolve(spec: str) -> tuple[str, str]:
    """("embedded" | "openai" | "init_chat_model", model name) for a model setting."""
    settings = get_settings()
    spec = spec.strip()
    if spec == "embedded":
        return "embedded", EMBEDDED_MODEL_NAME
    if spec == "auto":
        if settings.openai_api_key or settings.openai_base_url:
            return "openai", DEFAULT_OPENAI_MODEL
        return "embedded", EMBEDDED_MODEL_NAME
    if spec.startswith("openai:"):
        return "openai", spec.removeprefix("openai:")
    if ":" in spec:
        return "init_chat_model", spec
    return "openai", spec
