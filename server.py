"""The CoDreamer HTTP API: the seed's REST endpoint, its progress stream, and LangServe routes.

Routes and start-up checks only; dreams run in `graph.runner`.
"""

import asyncio
import importlib.metadata
import json
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal

import orjson
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from langgraph.types import Send
from langserve import add_routes
from langserve.serialization import WellKnownLCSerializer, default
from sse_starlette import EventSourceResponse
from starlette.types import ASGIApp, Message, Receive, Scope
from starlette.types import Send as ASGISend

from graph.context import DreamContext
from graph.exports import export_dream
from graph.history import DreamSummary, list_dreams, load_dream
from graph.runner import close_clients, run_dream, served_config, stream_dream
from graph.settings import get_settings
from graph.state import DreamInput, DreamOutput
from graph.viewer import to_html
from graph.workflow import graph
from nodes.create_workspace import new_workspace_id
from nodes.llm import describe_model
from nodes.structured_call import LLMUnavailableError
from sandbox import SandboxError, get_backend

VERSION = importlib.metadata.version("codreamer")
ExportFormat = Literal["json", "graphml", "mermaid", "cypher", "html"]
EXPORT_MEDIA_TYPES = {
    "json": "application/json",
    "graphml": "application/xml",
    "mermaid": "text/plain; charset=utf-8",
    "cypher": "text/plain; charset=utf-8",
    "html": "text/html; charset=utf-8",
}


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    """Fail at boot on bad settings (or a Daytona backend without a key), not mid-dream."""
    settings = get_settings()
    get_backend("daytona" if settings.use_daytona else "local")
    yield
    await close_clients()


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


class BodySizeLimit:
    """Refuse request bodies over CODREAMER_MAX_BODY_BYTES with 413, declared or streamed."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: ASGISend) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = get_settings().max_body_bytes
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        if declared.isdigit() and int(declared) > limit:
            return await _too_large(limit)(scope, receive, send)
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise HTTPException(413, f"request body over {limit} bytes")
            return message

        await self.app(scope, counted, send)


def _too_large(limit: int) -> JSONResponse:
    return JSONResponse({"detail": f"request body over {limit} bytes"}, status_code=413)


app = FastAPI(title="CoDreamer", version=VERSION, lifespan=lifespan)
app.add_middleware(BodySizeLimit)
if get_settings().cors_origins:
    app.add_middleware(
        CORSMiddleware,
        allow_origins=get_settings().cors_origins,
        allow_methods=["GET", "POST"],
        allow_headers=["Authorization", "Content-Type"],
    )
protected = [Depends(require_api_key)]


@app.exception_handler(LLMUnavailableError)
@app.exception_handler(SandboxError)
async def unavailable(_: Request, error: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(error)}, status_code=503)


@app.get("/")
async def health() -> dict[str, Any]:
    settings = get_settings()
    return {
        "status": "ok",
        "version": VERSION,
        "model": describe_model(settings.model),
        "sandbox": "daytona" if settings.use_daytona else "local",
        "mode": "workflow" if settings.use_workflow else "legacy",
    }


@app.post("/api/v1/dream", dependencies=protected)
async def dream(body: DreamInput, request: Request) -> DreamOutput:
    """Run a dream and answer `{nodes, metadata}` (the seed's contract)."""
    run = asyncio.create_task(run_dream(body, DreamContext(), new_workspace_id()))
    return await until_disconnected(request, run)


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
        except (LLMUnavailableError, SandboxError) as error:
            yield {"event": "error", "data": json.dumps({"detail": str(error)})}

    return EventSourceResponse(events())


@app.get("/api/v1/dreams", dependencies=protected)
async def dreams() -> list[DreamSummary]:
    """Past dreams, newest first."""
    return await list_dreams()


@app.get("/api/v1/dreams/{dream_id}", dependencies=protected)
async def one_dream(dream_id: str) -> DreamOutput:
    """A finished dream's `{nodes, metadata}`; 404 if there is none by that id."""
    return await finished_dream(dream_id)


@app.get("/api/v1/dreams/{dream_id}/export", dependencies=protected)
async def export(dream_id: str, format: ExportFormat = "json") -> Response:
    """The dream as JSON, GraphML, Mermaid, Cypher or a self-contained HTML viewer."""
    output = await finished_dream(dream_id)
    text = to_html(output) if format == "html" else export_dream(output, format)
    return Response(text, media_type=EXPORT_MEDIA_TYPES[format])


async def finished_dream(dream_id: str) -> dict[str, Any]:
    output = await load_dream(dream_id)
    if output is None:
        raise HTTPException(404, f"no finished dream {dream_id!r}")
    return output


async def until_disconnected(request: Request, run: asyncio.Task) -> Any:
    """The task's result; cancelled (its sandbox released) if the client goes away first."""
    while not run.done():
        if await request.is_disconnected():
            run.cancel()
        await asyncio.wait({run}, timeout=0.5)
    return run.result()


class GraphSerializer(WellKnownLCSerializer):
    """LangServe's serializer, able to encode the `Send`s a dream's stream events carry."""

    def dumps(self, obj: Any) -> bytes:
        return orjson.dumps(obj, default=_encode)


def _encode(value: Any) -> Any:
    if isinstance(value, Send):
        return {"node": value.node, "arg": value.arg}
    return default(value)


add_routes(
    app,
    graph,
    path="/dream",
    per_req_config_modifier=lambda config, _: served_config(config),
    dependencies=protected,
    serializer=GraphSerializer(),
)
