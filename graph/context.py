"""Run settings of one dream, passable per run from Python, Studio, LangServe, REST and the CLI."""

from dataclasses import dataclass, field, fields
from typing import Any, Literal

from langchain_core.runnables import RunnableConfig

from graph.settings import get_settings


@dataclass(kw_only=True)
class DreamContext:
    """How to run a dream. Unset fields fall back to the environment (see README)."""

    model: str = field(
        default_factory=lambda: get_settings().model,
        metadata={
            "description": "Chat model: 'auto' (embedded unless OPENAI_API_KEY/OPENAI_BASE_URL "
            "is set), 'embedded', a model name served at OPENAI_BASE_URL, or 'provider:model'."
        },
    )
    max_concurrency: int = field(
        default_factory=lambda: get_settings().max_concurrency,
        metadata={"description": "Most LLM calls in flight at once for this dream."},
    )
    sandbox: Literal["local", "daytona"] = field(
        default_factory=lambda: "daytona" if get_settings().use_daytona else "local",
        metadata={"description": "Where the dream's workspace lives."},
    )
    keep_workspace: bool = field(
        default_factory=lambda: get_settings().keep_daytona_workspace,
        metadata={"description": "Keep the Daytona sandbox after the dream (local ones are kept)."},
    )
    temperature: float = field(
        default=0.7, metadata={"description": "Sampling temperature of the chat model."}
    )
    llm_timeout: float = field(
        default_factory=lambda: get_settings().llm_timeout,
        metadata={"description": "Seconds one LLM call may take before it is retried."},
    )
    llm_retries: int = field(
        default_factory=lambda: get_settings().llm_retries,
        metadata={"description": "Retries of a failed or malformed LLM answer."},
    )
    parents_per_task: int = field(
        default=1,
        metadata={
            "description": "Parents expanded per graph task. A task is the unit a resume redoes: "
            "with 1, no finished expansion is ever paid for twice."
        },
    )


CONTEXT_FIELDS = frozenset(item.name for item in fields(DreamContext))


def context_from_config(config: RunnableConfig | None) -> DreamContext:
    """Build run settings from a config's `configurable` (LangServe passes only that)."""
    configurable = (config or {}).get("configurable", {})
    return DreamContext(**{k: v for k, v in configurable.items() if k in CONTEXT_FIELDS})


def resolve_context(
    context: DreamContext | dict[str, Any] | None, config: RunnableConfig | None
) -> DreamContext:
    """The run settings, whichever entry point started the run.

    Python and Studio pass `context`; LangServe passes only `configurable` (then context is None).
    """
    if isinstance(context, DreamContext):
        return context
    if isinstance(context, dict) and context:
        return DreamContext(**{k: v for k, v in context.items() if k in CONTEXT_FIELDS})
    return context_from_config(config)
