"""The CoDreamer HTTP API: the seed's REST endpoint, its progress stream, and LangServe routes.

Routes and start-up checks only; dreams run in `graph.runner`.
"""

import asyncio
import importlib.metadata
import json
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal, cast

import orjson
from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from langgraph.types import Send
from langserve import add_routes
from langserve.serialization import WellKnownLCSerializer, default
from pydantic import BaseModel, ConfigDict, Field
from sse_starlette import EventSourceResponse

from core.context import DreamContext, InvalidRunSettingsError
from core.safe_text import json_safe
from core.settings import get_settings
from core.state import DreamInput, DreamOutput, Node
from evaluation import JudgeUnavailableError
from evaluation.stored import GraphNotFoundError, comparison_of, evaluation_of
from graph.fork import fork_dream
from graph.runner import (
    DreamNotFoundError,
    close_clients,
    resume_dream,
    run_dream,
    served_config,
    stream_dream,
)
from graph.workflow import graph
from http_guards import BodySizeLimit, CancelOnDisconnect, ConfiguredCORS
from library import (
    GraphRecord,
    LibraryStats,
    LibraryUnavailableError,
    SearchStats,
    close_libraries,
    get_library,
    index_later,
)
from library.purge import purge_workspace
from nodes.create_workspace import new_workspace_id
from nodes.errors import NoUsableAnswerError
from nodes.llm import describe_model
from nodes.structured_call import LLMUnavailableError
from outputs.exports import export_dream
from outputs.history import DreamSummary, UnreadableResultsError, list_dreams, load_dream
from outputs.viewer import to_html
from sandbox import SandboxError, get_backend
from sandbox.base import WorkspaceId, WorkspaceIdError
from sandbox.factory import warm_pool
from sandbox.lease import DreamAlreadyRunningError
from telemetry.metrics import exposition
from webapp.routes import mount_app

logger = logging.getLogger(__name__)
VERSION = importlib.metadata.version("codreamer")
ExportFormat = Literal["json", "graphml", "mermaid", "cypher", "html"]
EXPORT_MEDIA_TYPES = {
    "json": "application/json",
    "graphml": "application/xml",
    "mermaid": "text/plain; charset=utf-8",
    "cypher": "text/plain; charset=utf-8",
    "html": "text/html; charset=utf-8",
}
DreamId = Annotated[WorkspaceId, Path(description="A dream's workspace id (`dream: ...`).")]
Limit = Annotated[int, Query(ge=1, le=100, description="How many to answer (1-100).")]
Offset = Annotated[int, Query(ge=0, description="How many to skip.")]
TextFilter = Annotated[
    str, Query(max_length=500, description="Case-insensitive substring to match.")
]


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    """Fail at boot on bad settings (or a Daytona backend without a key), not mid-dream."""
    settings = get_settings()
    get_backend(settings.sandbox)
    if settings.library:  # open the library now, and index what a stopped server left
        library = get_library()
        index_later(library, library.unindexed())
    async with warm_pool():  # DAYTONA_POOL_SIZE sandboxes kept ready; unclaimed ones deleted
        yield
    await close_clients()
    await asyncio.to_thread(close_libraries)


async def require_api_key(
    credentials: Annotated[
        HTTPAuthorizationCredentials | None, Depends(HTTPBearer(auto_error=False))
    ],
) -> None:
    """With CODREAMER_API_KEY set, a request needs `Authorization: Bearer <key>`."""
    expected = get_settings().api_key
    if expected is None:
        return
    given = credentials.credentials if credentials else ""
    if not secrets.compare_digest(given.encode(), expected.get_secret_value().encode()):
        raise HTTPException(401, "missing or wrong API key", {"WWW-Authenticate": "Bearer"})


app = FastAPI(title="CoDreamer", version=VERSION, lifespan=lifespan)
app.add_middleware(BodySizeLimit)
app.add_middleware(ConfiguredCORS)
app.add_middleware(CancelOnDisconnect)  # outermost: it alone reads from the server
protected = [Depends(require_api_key)]


@app.exception_handler(RequestValidationError)
async def invalid_request(_: Request, error: RequestValidationError) -> JSONResponse:
    """422 naming each bad field; echoed input made JSON-safe (NaN, lone surrogates)."""
    return JSONResponse({"detail": json_safe(jsonable_encoder(error.errors()))}, status_code=422)


STATUS_OF_FAILURE: dict[type[Exception], int] = {
    WorkspaceIdError: 422,
    DreamNotFoundError: 404,
    DreamAlreadyRunningError: 409,
    NoUsableAnswerError: 502,
    LLMUnavailableError: 503,
    SandboxError: 503,
    LibraryUnavailableError: 503,
    GraphNotFoundError: 404,
    JudgeUnavailableError: 503,
}
"""Expected failures of a dream and their HTTP status, the most specific first."""


def failure_status(error: BaseException) -> int | None:
    """The HTTP status of an expected failure; None for a bug."""
    return next((code for kind, code in STATUS_OF_FAILURE.items() if isinstance(error, kind)), None)


async def expected_failure(_: Request, error: Exception) -> JSONResponse:
    """A dream that could not run or finish: its cause, with the status that fits it."""
    return JSONResponse({"detail": str(error)}, status_code=failure_status(error) or 500)


for failure in STATUS_OF_FAILURE:
    app.add_exception_handler(failure, expected_failure)


@app.exception_handler(InvalidRunSettingsError)
async def invalid_run_settings(_: Request, error: InvalidRunSettingsError) -> JSONResponse:
    """422 naming the run setting (LangServe's `configurable`) that was refused."""
    where = ["body", "config", "configurable", error.field]
    return JSONResponse(
        {"detail": [{"loc": where, "msg": str(error), "type": "value_error"}]}, status_code=422
    )


@app.get("/")
async def health() -> dict[str, Any]:
    settings = get_settings()
    status = {
        "status": "ok",
        "version": VERSION,
        "model": describe_model(settings.model),
        "sandbox": settings.sandbox,
        "mode": "workflow" if settings.use_workflow else "legacy",
    }
    if settings.response_shape == "nodes":  # as the original server, for its frontend
        status["service"] = "CoDreamer"
    return status


@app.get(
    "/metrics",
    dependencies=protected,
    response_class=Response,
    responses={200: {"description": "Prometheus text format", "content": {"text/plain": {}}}},
)
def metrics(request: Request) -> Response:
    """This process's Prometheus metrics (dreams, LLM calls and tokens, nodes, sandboxes); in
    OpenMetrics format when the `Accept` header asks for it."""
    body, content_type = exposition(request.headers.get("accept"))
    return Response(body, media_type=content_type)


@app.post("/api/v1/dream", dependencies=protected)
async def dream(body: DreamInput) -> DreamOutput | list[Node]:
    """Run a dream and answer `{nodes, metadata}` (the seed's contract), or with
    CODREAMER_RESPONSE_SHAPE=nodes the bare `Node[]` the original server answered."""
    output = await run_dream(body, DreamContext(), new_workspace_id())
    return output["nodes"] if get_settings().response_shape == "nodes" else output


@app.post(
    "/api/v1/dream/stream",
    dependencies=protected,
    response_class=EventSourceResponse,
    responses={
        200: {
            "description": "`progress` events, then `result` or `error`; data is JSON.",
            "content": {"text/event-stream": {"schema": {"type": "object"}}},
        }
    },
)
async def dream_stream(body: DreamInput) -> EventSourceResponse:
    """Server-sent events: `progress` after every step, then `result` (or `error`)."""

    async def events() -> AsyncIterator[dict[str, str]]:
        try:
            async for kind, data in stream_dream(body, DreamContext(), new_workspace_id()):
                yield {"event": kind, "data": json.dumps(data, ensure_ascii=False)}
        except Exception as error:  # the stream always ends with `result` or `error`
            status = failure_status(error)
            if status is None:
                logger.exception("dream stream failed")
            detail = str(error) if status else f"unexpected error: {type(error).__name__}"
            yield {
                "event": "error",
                "data": json.dumps({"detail": detail, "status": status or 500}),
            }

    return EventSourceResponse(events())


@app.get("/api/v1/dreams", dependencies=protected)
async def dreams() -> list[DreamSummary]:
    """Past dreams, newest first."""
    return await list_dreams()


@app.post("/api/v1/dreams/{dream_id}/resume", dependencies=protected)
async def resume(dream_id: DreamId) -> DreamOutput:
    """Finish a stopped dream from its checkpoints; 409 while another runner has it."""
    return await resume_dream(dream_id)


class ForkRequest(BaseModel):
    """Where to fork a dream, and the run settings the fork changes (the rest are the source's)."""

    model_config = ConfigDict(extra="forbid")

    generation: int = Field(
        ge=0, description="Keep generations 0..N of the source as they are (0: the anchors)."
    )
    temperature: float | None = Field(
        default=None, description="Sampling temperature of the fork (default: the source's)."
    )
    model: str | None = Field(
        default=None, description="Chat model of the fork, one this server serves."
    )


@app.post("/api/v1/dreams/{dream_id}/fork", dependencies=protected)
async def fork(dream_id: DreamId, body: ForkRequest) -> DreamOutput:
    """A new dream from the source's checkpoint after `generation`: generations up to it kept,
    the rest grown again; 404 for an unknown source, 422 naming a bad field."""
    try:
        return await fork_dream(
            dream_id, body.generation, temperature=body.temperature, model=body.model
        )
    except InvalidRunSettingsError as error:
        where = ["body", error.field]
        raise HTTPException(
            422, [{"loc": where, "msg": str(error), "type": "value_error"}]
        ) from None


@app.get("/api/v1/dreams/{dream_id}", dependencies=protected)
async def one_dream(dream_id: DreamId) -> DreamOutput:
    """A finished dream's `{nodes, metadata}`; 404 if there is none by that id."""
    return cast(DreamOutput, await finished_dream(dream_id))  # checked by `parse_results`


@app.get("/api/v1/dreams/{dream_id}/export", dependencies=protected)
async def export(dream_id: DreamId, format: ExportFormat = "json") -> Response:
    """The dream as JSON, GraphML, Mermaid, Cypher or a self-contained HTML viewer."""
    output = await finished_dream(dream_id)
    text = to_html(output) if format == "html" else export_dream(output, format)
    return Response(text, media_type=EXPORT_MEDIA_TYPES[format])


async def finished_dream(dream_id: str) -> dict[str, Any]:
    """The dream's output; 404 when there is none, or none that can be read."""
    try:
        output = await load_dream(dream_id)
    except UnreadableResultsError as error:
        raise HTTPException(
            404, f"dream {dream_id!r} has unreadable results: {error}; run it again"
        ) from None
    if output is None:
        raise HTTPException(404, f"no finished dream {dream_id!r}")
    return output


@app.get("/api/v1/graphs", dependencies=protected)
def graphs(
    customer: TextFilter = "", product: TextFilter = "", limit: Limit = 10, offset: Offset = 0
) -> dict[str, Any]:
    """Stored dreams, newest first: `{graphs, total, limit, offset, hasMore}`."""
    page = get_library().graphs(customer=customer, product=product, limit=limit, offset=offset)
    more = offset + len(page["graphs"]) < page["total"]
    return {**page, "limit": limit, "offset": offset, "hasMore": more}


@app.get("/api/v1/graphs/search", dependencies=protected)
def search_graphs(
    customer: TextFilter = "", product: TextFilter = "", limit: Limit = 10, offset: Offset = 0
) -> dict[str, Any]:
    """Stored dreams whose customer and/or product match; 422 without either filter."""
    if not customer and not product:
        raise HTTPException(
            422,
            [
                {
                    "loc": ["query", "customer"],
                    "msg": "give customer or product (or both) to search by",
                    "type": "missing",
                }
            ],
        )
    page = get_library().graphs(customer=customer, product=product, limit=limit, offset=offset)
    return {
        "query": {"customer": customer, "product": product},
        "results": page["graphs"],
        "total": page["total"],
        "limit": limit,
        "offset": offset,
    }


@app.get("/api/v1/graphs/{graph_id:path}", dependencies=protected)
def stored_graph(graph_id: DreamId) -> GraphRecord:
    """A stored dream with its nodes; 404 when the library has none by that id."""
    record = get_library().get(graph_id)
    if record is None:
        raise HTTPException(404, f"no stored dream {graph_id!r}")
    return record


@app.delete("/api/v1/graphs/{graph_id:path}", dependencies=protected)
async def delete_graph(graph_id: DreamId, purge: bool = False) -> dict[str, Any]:
    """Remove a dream (and its nodes from search); `purge=true` deletes its workspace too."""
    library = get_library()
    record = await asyncio.to_thread(library.get, graph_id)
    if record is None:
        raise HTTPException(404, f"no stored dream {graph_id!r}")
    purged = await purge_workspace(record) if purge else False
    await asyncio.to_thread(library.delete, graph_id)
    also = " and its workspace" if purged else ""
    return {"success": True, "message": f"deleted dream {graph_id}{also}"}


@app.get("/api/v1/stats", dependencies=protected)
def library_stats() -> LibraryStats:
    """How many dreams and nodes the library holds, and their averages."""
    return get_library().stats()


@app.get("/api/v1/search/nodes", dependencies=protected)
def search_nodes(
    q: Annotated[str, Query(min_length=1, max_length=2000, description="What to look for.")],
    limit: Limit = 10,
    customer: TextFilter = "",
    product: TextFilter = "",
    min_score: Annotated[float, Query(alias="minScore", ge=0, le=1)] = 0.5,
) -> dict[str, Any]:
    """Nodes of every stored dream, closest in meaning to `q` (cosine similarity in [0, 1])."""
    results = get_library().search_nodes(
        q, limit=limit, customer=customer, product=product, min_score=min_score
    )
    return {
        "query": q,
        "results": results,
        "count": len(results),
        "filters": {"customer": customer, "product": product, "minScore": min_score},
    }


@app.get("/api/v1/search/stats", dependencies=protected)
def search_stats() -> SearchStats:
    """How many nodes of how many dreams are searchable."""
    return get_library().search_stats()


class CompareRequest(BaseModel):
    """Two finished dreams to compare, and how to call them in the answer."""

    model_config = ConfigDict(extra="forbid")

    graphId1: WorkspaceId
    graphId2: WorkspaceId
    label1: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    label2: Annotated[str, Field(min_length=1, max_length=100)] | None = None


@app.post("/api/v1/eval/graph/{graph_id:path}", dependencies=protected)
async def evaluate_graph(graph_id: DreamId, refresh: bool = False) -> dict[str, Any]:
    """Scores, grade, strengths, weaknesses and recommendations of a finished dream, kept with
    it in the library (`refresh=true` evaluates again); 404 for an unknown id."""
    return await evaluation_of(graph_id, refresh=refresh)


@app.post("/api/v1/eval/compare", dependencies=protected)
async def compare_graphs(body: CompareRequest) -> dict[str, Any]:
    """Two dreams' evaluations side by side: the winner, each score's difference, insights."""
    return await comparison_of(body.graphId1, body.graphId2, body.label1, body.label2)


class GraphSerializer(WellKnownLCSerializer):
    """LangServe's serializer, able to encode the `Send`s a dream's stream events carry."""

    def dumps(self, obj: Any) -> bytes:
        return orjson.dumps(obj, default=_encode)


def _encode(value: Any) -> Any:
    if isinstance(value, Send):
        return {"node": value.node, "arg": value.arg}
    return default(value)


async def bounded_batch(request: Request) -> None:
    """A LangServe batch holds at most CODREAMER_MAX_BATCH dreams."""
    if not request.url.path.endswith("/batch"):
        return
    try:
        inputs = (await request.json()).get("inputs")
    except (ValueError, AttributeError):
        return  # LangServe answers a malformed body itself
    limit = get_settings().max_batch
    if isinstance(inputs, list) and len(inputs) > limit:
        raise HTTPException(
            422,
            [
                {
                    "loc": ["body", "inputs"],
                    "msg": f"a batch holds at most {limit} dreams (CODREAMER_MAX_BATCH), "
                    f"got {len(inputs)}",
                    "type": "too_long",
                }
            ],
        )


add_routes(
    app,
    graph,
    path="/dream",
    per_req_config_modifier=lambda config, _: served_config(config),
    dependencies=[*protected, Depends(bounded_batch)],
    serializer=GraphSerializer(),
)
mount_app(app)
