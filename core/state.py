"""What flows through a dream: its input, the working state and its output."""

import operator
from collections.abc import Mapping
from typing import Annotated, Any, NotRequired, cast

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from typing_extensions import TypedDict

from core.settings import get_settings

CUSTOMER_JOB = "Customer Job"
PRODUCT_FEATURE = "Product Feature"
ANCHOR_IDS = frozenset({CUSTOMER_JOB, PRODUCT_FEATURE})
MAX_TEXT_CHARS = 2_000


class Edge(TypedDict):
    """A directed link from the node that holds it to `target_id`."""

    target_id: str
    relationship: str
    rationale: str


class Verification(TypedDict):
    """The original CoDreamer's web-search check of a node (optional on every node)."""

    verified: bool
    confidence: float
    """In [0, 1]."""
    summary: str
    sources: list[str]
    """URLs."""
    timestamp: str


class Node(TypedDict):
    """A node as the original CoDreamer frontend reads it (`id`, `content`, `edge`) plus extras."""

    id: str
    content: str
    edge: list[Edge]
    name: str
    """Short label the LLM gave the idea (the anchors' ids for anchors)."""
    generation: int
    """0 for the anchors, N for nodes grown in generation N."""
    parent_id: str | None
    verification: NotRequired[Verification]
    """Set when the node was checked by a web search."""


class Usage(TypedDict):
    """LLM usage summed over a dream."""

    llm_calls: int
    """Requests the endpoint answered (HTTP 200 with an answer, usable or not)."""
    input_tokens: int
    output_tokens: int
    cached_answers: int
    """Answers taken from the LLM cache (CODREAMER_LLM_CACHE): no call, no tokens."""
    rate_limited: int
    """Requests answered 429 (rate limited): waited out, not counted against the retries."""
    server_errors: int
    """Requests that failed on the endpoint's side: HTTP 5xx, transport errors, timeouts."""
    retries: int
    """Requests after the first of a call, for any reason (retries, fallbacks, rate limits)."""


def add_usage(left: Usage | None, right: Usage | None) -> Usage:
    """Reducer: sum two usage records (a record from an older checkpoint may lack a key)."""
    # mypy cannot follow a loop over a TypedDict's keys: read both records as plain counts.
    old = cast(Mapping[str, int], left or {})
    new = cast(Mapping[str, int], right or {})
    return cast(Usage, {key: old.get(key, 0) + new.get(key, 0) for key in empty_usage()})


def empty_usage() -> Usage:
    return {
        "llm_calls": 0,
        "input_tokens": 0,
        "output_tokens": 0,
        "cached_answers": 0,
        "rate_limited": 0,
        "server_errors": 0,
        "retries": 0,
    }


class SearchUsage(TypedDict):
    """Web searches of a dream's verification (CODREAMER_VERIFY)."""

    searches: int
    """Requests the search API answered."""
    credits: float
    """API credits they cost (a basic Tavily search is one)."""
    failed: int
    """Ideas left unverified because their search failed (their `verification` says why)."""


def add_search_usage(left: SearchUsage | None, right: SearchUsage | None) -> SearchUsage:
    """Reducer: sum two search usage records."""
    old = cast(Mapping[str, float], left or {})
    new = cast(Mapping[str, float], right or {})
    return cast(
        SearchUsage,
        {key: old.get(key, 0) + new.get(key, 0) for key in ("searches", "credits", "failed")},
    )


OUTPUT_MODES = ("json_schema", "json_object", "prompt")
"""How answers are asked for, strongest first: the endpoint enforces a JSON schema, enforces
JSON of any shape, or nothing (the shape is in the prompt and the answer parsed tolerantly)."""


def weakest_output_mode(left: str | None, right: str | None) -> str | None:
    """Reducer: the weaker of two structured-output modes (None is no answer yet)."""
    if left is None or right is None:
        return left or right
    return max(left, right, key=OUTPUT_MODES.index)


def merge_nodes(left: dict[str, Node] | None, right: dict[str, Node] | None) -> dict[str, Node]:
    """Reducer: add new nodes and replace updated ones (a parent that gained edges)."""
    return {**(left or {}), **(right or {})}


def total_node_count(children_count: int, generations: int) -> int:
    """Both anchors plus K + K^2 + ... + K^G grown nodes."""
    grown: int = sum(children_count**generation for generation in range(1, generations + 1))
    return 2 + grown


class DreamInput(BaseModel):
    """What a dream needs: who the customer is, the product, and how big to grow the graph."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    customer: str = Field(
        min_length=1,
        max_length=MAX_TEXT_CHARS,
        description="The customer and the job they need done (the 'Customer Job' anchor).",
    )
    product: str = Field(
        min_length=1,
        max_length=MAX_TEXT_CHARS,
        description="The product (the 'Product Feature' anchor).",
    )
    children_count: int = Field(default=2, ge=1, le=10, description="K: children per node.")
    generations_count_int: int = Field(
        default=3, ge=1, le=6, description="G: generations grown from the Customer Job."
    )

    @field_validator("customer", "product", mode="before")
    @classmethod
    def _check_unicode(cls, value: Any) -> Any:
        """Refuse lone surrogates (no file, prompt or JSON answer could carry them) by name."""
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError(
                    "must be valid Unicode text; it holds a lone surrogate (such as \\ud800)"
                ) from None
        return value

    @model_validator(mode="after")
    def _check_total_size(self) -> "DreamInput":
        total = total_node_count(self.children_count, self.generations_count_int)
        limit = get_settings().max_nodes
        if total > limit:
            raise ValueError(
                f"children_count={self.children_count} and "
                f"generations_count_int={self.generations_count_int} give {total} nodes; "
                f"the limit is {limit}. Lower one of them."
            )
        return self


class ForkOrigin(TypedDict):
    """The dream a fork started from, and the last of its generations the fork kept."""

    id: str
    generation: int


class DreamState(TypedDict):
    """Working state of a dream, checkpointed after every step."""

    customer: str
    product: str
    children_count: int
    generations_count_int: int
    mode: NotRequired[str]
    """How the dream runs: "workflow" (LangGraph, the default) or "legacy" (a plain loop)."""
    settings: NotRequired[dict[str, Any]]
    """Run settings (`DreamContext` as a dict), fixed at the start so a resume reuses them."""
    workspace_id: NotRequired[str]
    """Id of the dream's workspace; also the LangGraph thread id of a resumable run."""
    sandbox: NotRequired[str]
    """Backend holding the workspace: "local" or "daytona"."""
    sandbox_id: NotRequired[str | None]
    """The Daytona sandbox id (None on the local backend)."""
    workspace_path: NotRequired[str]
    """Where the workspace files live (a local directory or a path in the sandbox)."""
    started_at: NotRequired[float]
    """Unix time the dream started."""
    generation: NotRequired[int]
    """How many generations are complete."""
    nodes_by_id: Annotated[dict[str, Node], merge_nodes]
    usage: Annotated[Usage, add_usage]
    searches: Annotated[SearchUsage, add_search_usage]
    """Web searches spent verifying ideas (none unless the run verifies)."""
    structured_output: Annotated[str | None, weakest_output_mode]
    """The weakest structured-output mode any answer came in (see `OUTPUT_MODES`)."""
    warnings: Annotated[list[str], operator.add]
    """Failures the dream survived (a parent left unexpanded, an unjudged link, a lost file)."""
    forked_from: NotRequired[ForkOrigin]
    """Set on a fork (`graph.fork`): the source dream and the generation it was forked at."""
    nodes: NotRequired[list[Node]]
    metadata: NotRequired[dict[str, Any]]


class DreamOutput(TypedDict):
    """The seed's response: every node (anchors included) and the run's metadata."""

    nodes: list[Node]
    metadata: dict[str, Any]


class ParentTask(TypedDict):
    """One parent to expand, with the chain of ideas that led to it."""

    node: Node
    path: list[str]
    """Names from the Customer Job down to this parent."""
    first_child_number: int
    """Sequence number of this parent's first child; the id suffix that keeps ids unique."""


class ExpandTask(TypedDict):
    """Input of one `expand_generation` task: a chunk of one generation's parents."""

    customer: str
    product: str
    children_count: int
    generation: int
    workspace_id: str
    sandbox: str
    settings: dict[str, Any]
    parents: list[ParentTask]
