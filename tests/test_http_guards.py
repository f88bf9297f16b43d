"""The ASGI guards of http_guards.py over real HTTP: bounded bodies, and CORS only as configured."""

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.cli import CODREAMER
from tests.support.live_server import LiveServer
from tests.support.openai_server import FakeOpenAI
from tests.support.ports import free_port

SEED = {
    "customer": "Enterprise software companies using microservices",
    "product": "Distributed tracing and observability platform",
    "children_count": 2,
    "generations_count_int": 3,
}
ALLOWED = ("http://app.example", "https://studio.example:8443")
OTHER = "http://evil.example"
PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "content-type",
}


@pytest.fixture
def cors_server(isolated_env: Path) -> Iterator[str]:
    """`codreamer serve` in its own process, CODREAMER_CORS_ORIGINS set before it starts: the
    app sees it whether it reads its settings at import, at start-up or per request."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "CODREAMER_CORS_ORIGINS": " , ".join(ALLOWED)}
    log = isolated_env / "serve.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [CODREAMER, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{url}/", timeout=2)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"codreamer serve did not start:\n{log.read_text()}")
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


async def test_oversized_bodies_get_413(live_server: LiveServer, fake_llm: FakeOpenAI) -> None:
    huge = {**SEED, "customer": "x" * 100_000}

    async def chunks():
        yield json.dumps(huge).encode()

    async with httpx.AsyncClient(base_url=live_server.url) as client:
        declared = await client.post("/api/v1/dream", json=huge)
        streamed = await client.post(
            "/api/v1/dream", content=chunks(), headers={"content-type": "application/json"}
        )
        langserve = await client.post("/dream/invoke", json={"input": huge})

    assert (declared.status_code, streamed.status_code, langserve.status_code) == (413, 413, 413)
    assert fake_llm.stats.calls == 0


async def test_cors_is_off_unless_configured(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        preflight = await client.options(
            "/api/v1/dream",
            headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"},
        )

    assert "access-control-allow-origin" not in preflight.headers


async def test_cors_answers_only_the_configured_origins(cors_server: str) -> None:
    async with httpx.AsyncClient(base_url=cors_server) as client:
        allowed = [
            await client.options("/api/v1/dream", headers={"Origin": origin, **PREFLIGHT})
            for origin in ALLOWED
        ]
        simple = await client.get("/", headers={"Origin": ALLOWED[0]})
        other_preflight = await client.options(
            "/api/v1/dream", headers={"Origin": OTHER, **PREFLIGHT}
        )
        other_simple = await client.get("/", headers={"Origin": OTHER})

    for origin, preflight in zip(ALLOWED, allowed, strict=True):
        assert preflight.status_code == 200, preflight.text
        assert preflight.headers["access-control-allow-origin"] == origin
        assert "POST" in preflight.headers["access-control-allow-methods"]
    assert simple.status_code == 200
    assert simple.headers["access-control-allow-origin"] == ALLOWED[0]
    assert other_preflight.status_code == 400
    assert "access-control-allow-origin" not in other_preflight.headers
    assert other_simple.status_code == 200
    assert "access-control-allow-origin" not in other_simple.headers
