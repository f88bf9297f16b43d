"""Verification against trawl, a third-party Tavily-compatible search server, run over a
loopback SearXNG-style index: Tavily's client, our verdict and trawl's answers must agree."""

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from core.context import DreamContext
from core.settings import get_settings
from core.state import ANCHOR_IDS, DreamInput
from graph.runner import run_dream
from nodes.create_workspace import new_workspace_id
from tests.support.openai_server import FakeOpenAI
from tests.support.ports import free_port
from tests.support.search_servers import FakeSearxng

TRAWL_KEY = "tvly-trawl-peer-key-42"


@pytest.fixture
def trawl(tmp_path: Path) -> Iterator[tuple[str, FakeSearxng]]:
    """trawl on a loopback port, searching only the loopback index (no fallback to the web)."""
    log = tmp_path / "trawl.log"
    with FakeSearxng() as index, log.open("w") as stderr:
        port = free_port()
        env = {
            **os.environ,
            "TRAWL_SEARCH_PROVIDER": "searxng",
            "TRAWL_SEARXNG_URL": index.url,
            "TRAWL_PROVIDER_FALLBACK": "false",
            "TRAWL_API_KEYS": TRAWL_KEY,
            "TRAWL_LOG_LEVEL": "warning",
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "trawl", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            stderr=stderr,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    httpx.get(f"{url}/", timeout=1)
                    break
                except httpx.TransportError:
                    assert process.poll() is None, log.read_text()
                    assert time.monotonic() < deadline, "trawl did not start"
                    time.sleep(0.1)
            yield url, index
        finally:
            process.terminate()
            process.wait(timeout=10)


async def test_ideas_are_verified_through_trawl(
    fake_llm: FakeOpenAI, trawl: tuple[str, FakeSearxng], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, index = trawl
    monkeypatch.setenv("TAVILY_API_URL", url)
    monkeypatch.setenv("TAVILY_API_KEY", TRAWL_KEY)
    get_settings.cache_clear()
    dream_input = DreamInput(
        customer="Enterprise software companies using microservices",
        product="Distributed tracing and observability platform",
        children_count=2,
        generations_count_int=2,
    )

    output = await run_dream(dream_input, DreamContext(verify=True), new_workspace_id())

    ideas = [node for node in output["nodes"] if node["id"] not in ANCHOR_IDS]
    assert len(ideas) == 6
    assert len(index.queries) == 6
    for node in ideas:
        check = node["verification"]
        assert 0.0 <= check["confidence"] <= 1.0
        assert check["sources"], check
        assert all(source.startswith("https://index") for source in check["sources"])
        assert check["verified"] == (check["confidence"] >= 0.5)
        assert check["summary"]
    summary = output["metadata"]["verification"]
    assert (summary["searches"], summary["credits"], summary["failed_searches"]) == (6, 6, 0)
