"""ASGI guards around the CoDreamer app: bounded bodies, and no work for a client that left."""

import asyncio
from contextlib import suppress

from fastapi import HTTPException
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.settings import get_settings


class BodySizeLimit:
    """Refuse request bodies over CODREAMER_MAX_BODY_BYTES with 413, declared or streamed."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = get_settings().max_body_bytes
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        if declared.isdigit() and int(declared) > limit:
            response = JSONResponse({"detail": f"request body over {limit} bytes"}, 413)
            return await response(scope, receive, send)
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise HTTPException(413, f"request body over {limit} bytes")
            return message

        await self.app(scope, counted, send)


class ConfiguredCORS:
    """CORS as CODREAMER_CORS_ORIGINS says, read when requests come (settings are read at
    start-up, never at import); off while it is unset."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._cors: dict[tuple[str, ...], ASGIApp] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        origins = tuple(get_settings().cors_origins)
        if scope["type"] != "http" or not origins:
            return await self.app(scope, receive, send)
        if origins not in self._cors:
            self._cors[origins] = CORSMiddleware(
                self.app,
                allow_origins=origins,
                allow_methods=["GET", "POST"],
                allow_headers=["Authorization", "Content-Type"],
            )
        await self._cors[origins](scope, receive, send)


class CancelOnDisconnect:
    """Cancel a request's work when its client disconnects before the answer is sent.

    A dream nobody waits for any more (LangServe `/invoke` and `/batch` included) is stopped,
    which releases its sandbox. One reader takes every message from the server and passes it
    on; a disconnect cancels the app unless its response has already been sent.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        inbox: asyncio.Queue[Message] = asyncio.Queue()
        answered = False

        async def sent(message: Message) -> None:
            nonlocal answered
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                answered = True

        async def run_app() -> None:
            """The app as a coroutine: an ASGI app may return any awaitable, a task needs one."""
            await self.app(scope, inbox.get, sent)

        work = asyncio.create_task(run_app())

        async def read() -> None:
            while True:
                message = await receive()
                await inbox.put(message)
                if message["type"] == "http.disconnect":
                    if not answered:
                        work.cancel()
                    return

        reader = asyncio.create_task(read())
        try:
            await work
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if not work.cancelled() or (current is not None and current.cancelling()):
                work.cancel()
                raise
        finally:
            reader.cancel()
            with suppress(asyncio.CancelledError):
                await reader
