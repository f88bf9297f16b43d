"""Past dreams, read back from their workspaces (local ones and kept Daytona sandboxes)."""

import asyncio
from functools import cache
from typing import Any, NotRequired, cast

from pydantic import TypeAdapter, ValidationError
from pydantic_core import from_json
from typing_extensions import TypedDict

from core.settings import get_settings
from core.state import CUSTOMER_JOB, PRODUCT_FEATURE, Node
from core.workspace_layout import RESULTS_FILE
from sandbox import SandboxError, SandboxGoneError, WorkspaceInfo, get_backend

MAX_REASON_CHARS = 200


class UnreadableResultsError(ValueError):
    """A dream's results.json is there but is not a dream's output; the message says why."""


class StoredMetadata(TypedDict):
    """The metadata that history, exports and the viewer read from a results.json."""

    totalNodes: int
    generationTime: int
    generations: NotRequired[int]
    workspaceId: NotRequired[str]
    cost_usd: NotRequired[float | None]
    model: NotRequired[str | None]


class StoredDream(TypedDict):
    """What a results.json must hold to be read back (extra metadata keys are kept)."""

    nodes: list[Node]
    metadata: StoredMetadata


class DreamSummary(TypedDict):
    """One past dream, as `codreamer list` and `GET /api/v1/dreams` show it."""

    id: str
    status: str
    """"complete"; "incomplete" (stopped before its results; `codreamer resume` it); or
    "broken" (its results cannot be read; `reason` says why)."""
    reason: str | None
    """Why a broken dream cannot be read; None for the others."""
    sandbox: str
    customer: str | None
    product: str | None
    nodes: int | None
    generation_time_ms: int | None
    cost_usd: float | None
    model: str | None


async def workspace_infos() -> list[WorkspaceInfo]:
    """Every dream workspace this process can see: local ones, and with USE_DAYTONA the kept
    sandboxes."""
    infos = await get_backend("local").list()
    if get_settings().use_daytona:
        infos += await get_backend("daytona").list()
    return infos


async def list_dreams() -> list[DreamSummary]:
    """Every dream this process can see, newest first."""
    infos = await workspace_infos()
    summaries = await asyncio.gather(*(_summary(info) for info in infos))
    return sorted(summaries, key=lambda summary: summary["id"], reverse=True)


async def load_dream(dream_id: str) -> dict[str, Any] | None:
    """A finished dream's output `{nodes, metadata}`, or None if there is no such result.

    A malformed id names no workspace (None); results that cannot be read or are not a
    dream's output raise `UnreadableResultsError`.
    """
    backends = ["local", "daytona"] if get_settings().use_daytona else ["local"]
    for name in backends:
        try:
            workspace = await get_backend(name).connect(dream_id)
            raw = await workspace.read_file(RESULTS_FILE)
        except (SandboxGoneError, FileNotFoundError):
            continue
        except OSError as error:
            raise UnreadableResultsError(
                f"{RESULTS_FILE} cannot be read: {error.strerror or error}"
            ) from None
        return parse_results(raw)
    return None


def parse_results(raw: bytes) -> dict[str, Any]:
    """A results.json's content, checked to be a dream's output, or `UnreadableResultsError`.

    Strict JSON only: no NaN or Infinity, no lone surrogates (no JSON encoder could send them).
    """
    try:
        output = from_json(raw, allow_inf_nan=False)
    except ValueError as error:
        raise UnreadableResultsError(f"{RESULTS_FILE} is not valid JSON: {error}") from None
    try:
        _stored_dream().validate_python(output, strict=True)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the top level"
        more = f" (and {error.error_count() - 1} more problems)" if error.error_count() > 1 else ""
        raise UnreadableResultsError(
            f"{RESULTS_FILE} is not a dream's output: {where}: {first['msg']}{more}"
        ) from None
    return cast(dict[str, Any], output)  # checked above: a `StoredDream` object


@cache
def _stored_dream() -> TypeAdapter[StoredDream]:
    return TypeAdapter(StoredDream)


async def _summary(info: WorkspaceInfo) -> DreamSummary:
    summary: DreamSummary = {
        "id": info.id,
        "status": "incomplete",
        "reason": None,
        "sandbox": info.backend,
        "customer": None,
        "product": None,
        "nodes": None,
        "generation_time_ms": None,
        "cost_usd": None,
        "model": None,
    }
    try:
        output = await load_dream(info.id)
    except (UnreadableResultsError, SandboxError) as error:
        return {**summary, "status": "broken", "reason": str(error)[:MAX_REASON_CHARS]}
    if output is None:
        return summary
    metadata = output["metadata"]
    anchors = {node["id"]: node["content"] for node in output["nodes"] if node["generation"] == 0}
    return {
        **summary,
        "status": "complete",
        "customer": anchors.get(CUSTOMER_JOB),
        "product": anchors.get(PRODUCT_FEATURE),
        "nodes": metadata["totalNodes"],
        "generation_time_ms": metadata["generationTime"],
        "cost_usd": metadata.get("cost_usd"),
        "model": metadata.get("model"),
    }
