"""Process-wide settings from the environment and `.env`, validated once."""

import os
from functools import cache
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PREFIX = "CODREAMER_"


class SettingsError(ValueError):
    """The environment or `.env` holds a value CoDreamer cannot run with."""


class Settings(BaseSettings):
    """Server-side configuration. Secrets and endpoints live here, never in a request."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    openai_api_key: SecretStr | None = Field(default=None, alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(default=None, alias="OPENAI_BASE_URL")
    model: str = Field(default="auto", alias="CODREAMER_MODEL", min_length=1)
    prices: dict[str, tuple[float, float]] = Field(default={}, alias="CODREAMER_PRICES")
    """Extra or corrected prices, JSON: {"model": [usd per 1M input tokens, per 1M output]}."""
    relevance: bool = Field(default=False, alias="CODREAMER_RELEVANCE")
    """Add embedding relevance to metadata.quality (the offline MiniLM model: ~0.5 s to load)."""
    llm_cache: Path | None = Field(default=None, alias="CODREAMER_LLM_CACHE")
    """A SQLite file caching accepted LLM answers: an identical dream re-run makes no calls."""
    max_nodes: int = Field(default=20_000, alias="CODREAMER_MAX_NODES", ge=3, le=20_000)
    """The most nodes one dream may have (K and G together); lower it to cap a dream's cost."""
    database_url: str = Field(
        default="sqlite:///.codreamer/library.sqlite",
        alias="CODREAMER_DATABASE_URL",
        pattern=r"^(sqlite:///|postgres(ql)?://).+",
    )
    """The dream library: `sqlite:///path` (one machine) or `postgresql://user:pw@host:port/db`."""
    library: bool = Field(default=True, alias="CODREAMER_LIBRARY")
    """Record every finished dream in the library and index its nodes for search."""
    embeddings: str = Field(
        default="local", alias="CODREAMER_EMBEDDINGS", pattern=r"^(local|[\w.-]+:[\w./-]+)$"
    )
    """Node search vectors: "local" (all-MiniLM-L6-v2, offline) or "provider:model"."""
    max_concurrency: int = Field(default=32, alias="CODREAMER_MAX_CONCURRENCY", ge=1, le=4096)
    workspaces_dir: str = Field(default=".codreamer/workspaces", alias="CODREAMER_WORKSPACES")
    llm_timeout: float = Field(default=120.0, alias="CODREAMER_LLM_TIMEOUT", gt=0, le=3600)
    llm_retries: int = Field(default=5, alias="CODREAMER_LLM_RETRIES", ge=0, le=10)
    embedded_slots: int = Field(default=8, alias="CODREAMER_EMBEDDED_SLOTS", ge=1, le=64)
    use_daytona: bool = Field(default=False, alias="USE_DAYTONA")
    use_workflow: bool = Field(default=True, alias="USE_WORKFLOW")
    keep_daytona_workspace: bool = Field(default=False, alias="KEEP_DAYTONA_WORKSPACE")
    api_key: SecretStr | None = Field(default=None, alias="CODREAMER_API_KEY")
    cors_origins: Annotated[list[str], NoDecode] = Field(default=[], alias="CODREAMER_CORS_ORIGINS")
    allowed_models: Annotated[list[str], NoDecode] = Field(
        default=[], alias="CODREAMER_ALLOWED_MODELS"
    )
    """Models a served request may ask for besides CODREAMER_MODEL (comma-separated)."""
    response_shape: Literal["full", "nodes"] = Field(
        default="full", alias="CODREAMER_RESPONSE_SHAPE"
    )
    """What `POST /api/v1/dream` answers: "full" `{nodes, metadata}` (the seed's), or "nodes",
    a bare `Node[]` as the original server answered (its frontend reads that)."""
    max_batch: int = Field(default=8, alias="CODREAMER_MAX_BATCH", ge=1, le=100)
    """The most dreams one LangServe `/dream/batch` request may hold."""
    max_body_bytes: int = Field(default=65_536, alias="CODREAMER_MAX_BODY_BYTES", ge=1_024)
    judge_model: str | None = Field(default=None, alias="CODREAMER_JUDGE_MODEL", max_length=200)
    """A chat model that also judges evaluations with a written rubric (the same forms as
    CODREAMER_MODEL); unset, evaluations use embeddings and the graph's shape only."""
    verify: bool = Field(default=False, alias="CODREAMER_VERIFY")
    """Check every grown idea with a web search (Tavily); needs TAVILY_API_KEY."""
    verify_concurrency: int = Field(default=5, alias="CODREAMER_VERIFY_CONCURRENCY", ge=1, le=64)
    """Most web searches in flight at once for one dream."""
    search_credit_usd: float = Field(
        default=0.008, alias="CODREAMER_SEARCH_CREDIT_USD", ge=0, allow_inf_nan=False
    )
    """What one Tavily API credit costs (a basic search is one credit)."""
    tavily_api_key: SecretStr | None = Field(default=None, alias="TAVILY_API_KEY")
    tavily_api_url: str | None = Field(default=None, alias="TAVILY_API_URL", pattern=r"^https?://")
    """Another Tavily-compatible search endpoint (default: Tavily's public API)."""
    daytona_api_key: SecretStr | None = Field(default=None, alias="DAYTONA_API_KEY")
    daytona_api_url: str = Field(default="https://app.daytona.io/api", alias="DAYTONA_API_URL")
    daytona_target: str | None = Field(default=None, alias="DAYTONA_TARGET")
    daytona_auto_stop_minutes: int = Field(default=30, alias="DAYTONA_AUTO_STOP_MINUTES", ge=0)
    daytona_auto_delete_minutes: int = Field(default=60, alias="DAYTONA_AUTO_DELETE_MINUTES", ge=0)
    daytona_snapshot: str | None = Field(default=None, alias="DAYTONA_SNAPSHOT", max_length=200)
    """The Daytona snapshot every dream's sandbox is created from (default: Daytona's own)."""
    daytona_pool_size: int = Field(default=0, alias="DAYTONA_POOL_SIZE", ge=0, le=100)
    """Started sandboxes a server keeps ready for dreams to claim (0: none)."""

    @field_validator("cors_origins", "allowed_models", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        return (
            [item.strip() for item in value.split(",") if item.strip()]
            if isinstance(value, str)
            else value
        )

    @field_validator(
        "llm_cache", "tavily_api_url", "judge_model", "daytona_snapshot", mode="before"
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("api_key", "openai_api_key", "daytona_api_key", "tavily_api_key", mode="after")
    @classmethod
    def _no_blank_secrets(cls, value: SecretStr | None) -> SecretStr | None:
        return value if value is None or value.get_secret_value().strip() else None

    @model_validator(mode="after")
    def _verify_needs_key(self) -> "Settings":
        if self.verify and self.tavily_api_key is None:
            raise ValueError(
                "CODREAMER_VERIFY=true needs TAVILY_API_KEY (a Tavily key, or any key your "
                "TAVILY_API_URL endpoint accepts)"
            )
        return self

    @property
    def sandbox(self) -> Literal["local", "daytona"]:
        """The backend dreams use unless a run says otherwise: "daytona" with USE_DAYTONA."""
        return "daytona" if self.use_daytona else "local"

    def secrets(self) -> list[str]:
        """Every secret value set, to keep out of logs, files, results and errors."""
        keys = (self.api_key, self.openai_api_key, self.daytona_api_key, self.tavily_api_key)
        found = [key.get_secret_value() for key in keys if key is not None]
        database_password = urlsplit(self.database_url).password
        return [*found, database_password] if database_password else found


MIN_REDACTED_LENGTH = 6
"""Shorter values are not real keys; replacing them everywhere would garble every text."""


def redact(text: str) -> str:
    """`text` with every configured secret replaced by `***`."""
    for secret in get_settings().secrets():
        if len(secret) >= MIN_REDACTED_LENGTH:
            text = text.replace(secret, "***")
    return text


@cache
def get_settings() -> Settings:
    """Load settings once; raise `SettingsError` naming each bad or unknown variable."""
    known = {field.alias for field in Settings.model_fields.values() if field.alias is not None}
    unknown = sorted(name for name in os.environ if name.startswith(PREFIX) and name not in known)
    if unknown:
        raise SettingsError(
            f"unknown CoDreamer settings: {', '.join(unknown)} (a typo?); "
            f"known ones: {', '.join(sorted(k for k in known if k.startswith(PREFIX)))}"
        )
    try:
        return Settings()
    except ValidationError as error:
        problems = "; ".join(_problem(item) for item in error.errors())
        raise SettingsError(f"invalid CoDreamer settings: {problems}") from None


def _problem(error: ErrorDetails) -> str:
    """One validation error: "VARIABLE: message", or the message alone for a combination."""
    message = error["msg"].removeprefix("Value error, ")
    name = ".".join(str(part) for part in error["loc"])
    return f"{name}: {message}" if name else message
