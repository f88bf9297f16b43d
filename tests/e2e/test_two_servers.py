"""Several servers, one PostgreSQL: two `codreamer serve` processes sharing a library database
and a Daytona see each other's dreams, search them, and one finishes a dream whose server was
SIGKILLed mid-dream. And a server that used Daytona still stops gracefully on Ctrl+C."""

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.state import total_node_count
from tests.support.cli import CODREAMER
from tests.support.daytona_server import FakeDaytona
from tests.support.openai_server import FakeOpenAI
from tests.support.ports import free_port


class Server:
    """One `codreamer serve` process (uvicorn runs in it: its pid is the server's)."""

    def __init__(self, name: str, log: Path) -> None:
        self.name, self.log, port = name, log, free_port()
        self.url = f"http://127.0.0.1:{port}"
        with log.open("w") as out:
            self.process = subprocess.Popen(
                [CODREAMER, "serve", "--host", "127.0.0.1", "--port", str(port)],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=dict(os.environ),
            )
        self.http = httpx.Client(base_url=self.url, timeout=120)

    def output(self) -> str:
        return f"server {self.name} said:\n{self.log.read_text()[-3000:]}"

    def ready(self) -> bool:
        assert self.process.poll() is None, self.output()
        try:
            return self.http.get("/").status_code == 200
        except httpx.TransportError:
            return False

    def stop(self, sig: signal.Signals) -> int:
        """Send `sig` if it still runs; its exit code (killed after 30 s without exiting)."""
        self.http.close()
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                return self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self.process.wait(timeout=30)


def wait_for(condition: Callable[[], Any], what: str, timeout: float) -> Any:
    """The first truthy value of `condition()`, polled until `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)
    return value


@pytest.fixture
def serve(
    postgres_url: str,
    fake_daytona: FakeDaytona,
    fake_llm: FakeOpenAI,
    isolated_env: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Callable[..., list[Server]]]:
    """Starts servers on one PostgreSQL library and one Daytona, each once the last answers (at
    once, two can race to create the library's tables); every one is stopped at the end."""
    monkeypatch.setenv("CODREAMER_DATABASE_URL", postgres_url)
    monkeypatch.setenv("USE_DAYTONA", "true")
    started: list[Server] = []

    def start(*names: str) -> list[Server]:
        for name in names:
            started.append(Server(name, isolated_env / f"server-{name}.log"))
            wait_for(started[-1].ready, f"server {name} to answer", timeout=60)
        return started[-len(names) :]

    try:
        yield start
    finally:
        for server in started:
            server.stop(signal.SIGTERM)
        fake_llm.latency = 0.0


def dream_body(customer: str, generations: int) -> dict[str, Any]:
    return {
        "customer": customer,
        "product": "Distributed tracing and observability platform",
        "children_count": 2,
        "generations_count_int": generations,
    }


def kill_after_generation_2(server: Server, body: dict[str, Any], fake_llm: FakeOpenAI) -> None:
    """Stream a dream on `server`; SIGKILL the server once generation 2 is saved and generation
    3's LLM calls are in flight (the stream stays open: a disconnect would cancel the dream)."""
    with server.http.stream("POST", "/api/v1/dream/stream", json=body) as response:
        assert response.status_code == 200
        event = ""
        for line in response.iter_lines():
            if line.startswith("event:"):
                event = line.removeprefix("event:").strip()
            elif line.startswith("data:") and event != "progress":
                raise AssertionError(f"the dream ended before it was killed: {line}")
            elif line.startswith("data:"):
                progress = json.loads(line.removeprefix("data:"))
                if progress["step"] == "save_generation" and progress["generation"] == 2:
                    break
        wait_for(lambda: fake_llm.stats.in_flight, "generation 3's LLM calls", timeout=30)
        server.process.send_signal(signal.SIGKILL)
        assert server.process.wait(timeout=30) == -signal.SIGKILL  # reaped: its pid is gone
    wait_for(lambda: fake_llm.stats.in_flight == 0, "the killed server's calls", timeout=30)


def resume_when_free(server: Server, dream_id: str) -> httpx.Response:
    """Resume on `server`, retrying while the dead runner's lease still answers 409."""

    def attempt() -> httpx.Response | None:
        response = server.http.post(f"/api/v1/dreams/{dream_id}/resume")
        return None if response.status_code == 409 else response

    return wait_for(attempt, f"the lease of dream {dream_id}", timeout=70)


def test_two_servers_share_dreams_search_and_a_killed_dream(
    serve: Callable[..., list[Server]], fake_llm: FakeOpenAI, fake_daytona: FakeDaytona
) -> None:
    a, b = serve("A", "B")

    first = a.http.post("/api/v1/dream", json=dream_body("Bakers baking bread", 2))
    assert first.status_code == 200, first.text
    dream_1 = first.json()["metadata"]["workspaceId"]
    listed = wait_for(
        lambda: b.http.get("/api/v1/graphs").json()["graphs"], "dream 1 on B", timeout=10
    )
    assert [graph["id"] for graph in listed] == [dream_1]
    node = next(n for n in first.json()["nodes"] if n["generation"] == 1)

    def found() -> list[dict[str, Any]]:
        query = {"q": node["content"], "minScore": 0.5}
        hits = b.http.get("/api/v1/search/nodes", params=query).json()["results"]
        return [hit for hit in hits if hit["graphId"] == dream_1 and hit["node"] == node]

    wait_for(found, "dream 1's node in B's search", timeout=30)
    assert b.http.get("/api/v1/search/stats").json()["totalGraphs"] == 1

    fake_llm.latency = 1.0
    kill_after_generation_2(a, dream_body("Enterprise software companies", 3), fake_llm)
    fake_llm.latency = 0.0
    calls_before_resume = fake_llm.stats.calls
    stopped = [d for d in b.http.get("/api/v1/dreams").json() if d["status"] == "incomplete"]
    assert len(stopped) == 1, stopped
    dream_2 = stopped[0]["id"]
    assert dream_2 != dream_1 and stopped[0]["sandbox"] == "daytona"

    resumed = resume_when_free(b, dream_2)

    assert resumed.status_code == 200, resumed.text
    output = resumed.json()
    assert output["metadata"]["workspaceId"] == dream_2
    assert len(output["nodes"]) == output["metadata"]["totalNodes"] == total_node_count(2, 3)
    assert len({n["id"] for n in output["nodes"]}) == 16
    # generations 1-2 are not paid for again: at most generation 3's 4 expansions and 4 links
    assert 0 < fake_llm.stats.calls - calls_before_resume <= 4 + 4
    assert output["metadata"]["usage"]["llm_calls"] == 1 + 2 + 4 + 4
    stored = b.http.get(f"/api/v1/graphs/{dream_2}")
    assert stored.status_code == 200 and len(stored.json()["nodes"]) == 16
    assert b.http.get("/api/v1/graphs").json()["total"] == 2
    assert fake_daytona.live_sandboxes() == []


def test_ctrl_c_stops_a_server_that_used_daytona_gracefully(
    serve: Callable[..., list[Server]],
) -> None:
    """Shutdown runs (SDK clients closed, queued indexing finished), not a crash report."""
    (server,) = serve("C")
    dreamt = server.http.post("/api/v1/dream", json=dream_body("Bakers baking bread", 1))
    assert dreamt.status_code == 200, dreamt.text

    assert server.stop(signal.SIGINT) == 0, server.output()
    assert "Application shutdown complete" in server.log.read_text(), server.output()
    assert "Traceback" not in server.log.read_text(), server.output()
