"""Run settings of one dream, passable per run from Python, Studio, LangServe, REST and the CLI."""

from dataclasses import asdict, dataclass, field, fields
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, TypeAdapter, ValidationError

from core.settings import get_settings

if TYPE_CHECKING:  # LangChain loads slowly; a CLI that only checks its arguments skips it
    from langchain_core.runnables import RunnableConfig

MAX_PARENTS_PER_TASK = 1_000


class InvalidRunSettingsError(ValueError):
    """A run setting is out of range, of the wrong type or unknown; the message names it."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(kw_only=True)
class DreamContext:
    """How to run a dream. Unset fields fall back to the environment (see README)."""

    model: Annotated[str, Field(min_length=1, max_length=200)] = field(
        default_factory=lambda: get_settings().model,
        metadata={
            "description": "Chat model: 'auto' (embedded unless OPENAI_API_KEY/OPENAI_BASE_URL "
            "is set), 'embedded', a model name served at OPENAI_BASE_URL, or 'provider:model'."
        },
    )
    max_concurrency: Annotated[int, Field(ge=1, le=4096)] = field(
        default_factory=lambda: get_settings().max_concurrency,
        metadata={"description": "Most LLM calls in flight at once for this dream."},
    )
    sandbox: Literal["local", "daytona"] = field(
        default_factory=lambda: get_settings().sandbox,
        metadata={"description": "Where the dream's workspace lives."},
    )
    keep_workspace: bool = field(
        default_factory=lambda: get_settings().keep_daytona_workspace,
        metadata={"description": "Keep the Daytona sandbox after the dream (local ones are kept)."},
    )
    temperature: Annotated[float, Field(ge=0, le=2, allow_inf_nan=False)] = field(
        default=0.7, metadata={"description": "Sampling temperature of the chat model."}
    )
    llm_timeout: Annotated[float, Field(gt=0, le=3600, allow_inf_nan=False)] = field(
        default_factory=lambda: get_settings().llm_timeout,
        metadata={"description": "Seconds one LLM call may take before it is retried."},
    )
    llm_retries: Annotated[int, Field(ge=0, le=10)] = field(
        default_factory=lambda: get_settings().llm_retries,
        metadata={"description": "Retries of a failed or malformed LLM answer."},
    )
    verify: bool = field(
        default_factory=lambda: get_settings().verify,
        metadata={
            "description": "Check every grown idea with a web search (Tavily); the server "
            "needs TAVILY_API_KEY."
        },
    )
    parents_per_task: Annotated[int, Field(ge=1, le=MAX_PARENTS_PER_TASK)] = field(
        default=1,
        metadata={
            "description": "Parents expanded per graph task. A task is the unit a resume redoes: "
            "with 1, no finished expansion is ever paid for twice."
        },
    )


CONTEXT_FIELDS = frozenset(item.name for item in fields(DreamContext))


@cache
def _context_adapter() -> TypeAdapter[DreamContext]:
    return TypeAdapter(DreamContext)


def validated_context(values: dict[str, Any]) -> DreamContext:
    """Run settings from `values`, each checked against its range; unset ones take defaults.

    Raises `InvalidRunSettingsError` naming the first bad or unknown setting.
    """
    unknown = sorted(set(values) - CONTEXT_FIELDS)
    if unknown:
        raise InvalidRunSettingsError(
            f"unknown run setting {unknown[0]!r}; known ones: {', '.join(sorted(CONTEXT_FIELDS))}",
            unknown[0],
        )
    try:
        context = _context_adapter().validate_python(values)
    except ValidationError as error:
        first = error.errors()[0]
        name = ".".join(str(part) for part in first["loc"])
        raise InvalidRunSettingsError(f"run setting {name}: {first['msg']}", name) from None
    if context.verify and get_settings().tavily_api_key is None:
        raise InvalidRunSettingsError(
            "run setting verify: web-search verification needs TAVILY_API_KEY on the server",
            "verify",
        )
    return context


def context_from_config(config: "RunnableConfig | None") -> DreamContext:
    """Run settings from a config's `configurable` (LangServe passes only that); other keys
    there (thread_id, checkpoint_ns, ...) are LangGraph's, not run settings."""
    configurable = (config or {}).get("configurable", {})
    return validated_context({k: v for k, v in configurable.items() if k in CONTEXT_FIELDS})


def resolve_context(
    context: DreamContext | dict[str, Any] | None, config: "RunnableConfig | None"
) -> DreamContext:
    """The run settings, validated, whichever entry point started the run.

    Python and Studio pass `context`; LangServe passes only `configurable` (then context is None).
    """
    if isinstance(context, DreamContext):
        return validated_context(asdict(context))
    if isinstance(context, dict) and context:
        return validated_context(context)
    return context_from_config(config)
