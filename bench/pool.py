"""The warm pool's effect on a dream, as a user of the REST API sees it: a `codreamer serve`
process on a loopback Daytona API that takes `CREATE_LATENCY_S` to create a sandbox, with a
loopback LLM that answers at once, runs K=2 G=2 dreams one at a time with DAYTONA_POOL_SIZE=0
and with a pool of 2 (each dream posted once the pool is full). Each server is then stopped
with SIGINT, as Ctrl-C stops it. Prints a JSON line.
"""

import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from sandbox.daytona import POOL_LABEL, WARM_LABEL
from tests.support.daytona_server import FakeDaytona
from tests.support.openai_server import FakeOpenAI
from tests.support.ports import free_port

CREATE_LATENCY_S = 2.0
POOL_SIZES = (0, 2)
RUNS = 4
DREAM = {
    "customer": "Enterprise software companies using microservices",
    "product": "Distributed tracing and observability platform",
    "children_count": 2,
    "generations_count_int": 2,
}
CODREAMER = Path(sys.executable).with_name("codreamer")


def main() -> None:
    with (
        FakeDaytona(create_latency=CREATE_LATENCY_S) as daytona,
        FakeOpenAI(latency=0.0) as llm,
        tempfile.TemporaryDirectory() as folder,
    ):
        runs = [measure(size, daytona, llm, Path(folder)) for size in POOL_SIZES]
    print(json.dumps({"create_latency_s": CREATE_LATENCY_S, "runs": runs}))


def measure(size: int, daytona: FakeDaytona, llm: FakeOpenAI, folder: Path) -> dict[str, Any]:
    """`RUNS` dreams on a server with a pool of `size`: each one's wall time (the POST's) and
    whether it ran in a sandbox the pool made before it; the pool's fill time; what the
    server's clean stop left behind."""
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("CODREAMER_", "DAYTONA_"))},
        "USE_DAYTONA": "true",
        "USE_WORKFLOW": "true",
        "KEEP_DAYTONA_WORKSPACE": "false",
        "DAYTONA_API_URL": daytona.url,
        "DAYTONA_API_KEY": daytona.api_key,
        "DAYTONA_TARGET": "us",
        "DAYTONA_POOL_SIZE": str(size),
        "OPENAI_BASE_URL": llm.url,
        "CODREAMER_MODEL": "bench-model",
        "CODREAMER_LIBRARY": "false",
        "CODREAMER_WORKSPACES": str(folder / f"workspaces-{size}"),
        "CODREAMER_DATABASE_URL": f"sqlite:///{folder}/library-{size}.sqlite",
    }
    log = (folder / f"server-{size}.log").open("w")
    server = subprocess.Popen(
        [CODREAMER, "serve", "--port", str(port)], env=env, stdout=log, stderr=log, cwd=folder
    )
    walls, claimed = [], 0
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
        wait_until(lambda: healthy(client), "the server", server)
        started = time.perf_counter()
        wait_until(lambda: len(members(daytona)) >= size, "a full pool", server)
        fill_s = time.perf_counter() - started
        for _ in range(RUNS):
            wait_until(lambda: len(members(daytona)) >= size, "a full pool", server)
            ready = set(members(daytona))
            began = time.perf_counter()
            response = client.post("/api/v1/dream", json=DREAM)
            walls.append(time.perf_counter() - began)
            response.raise_for_status()
            claimed += response.json()["metadata"]["daytonaWorkspaceId"] in ready
    server.send_signal(signal.SIGINT)
    stopping = time.perf_counter()
    server.wait(timeout=120)
    log.close()
    return {
        "pool_size": size,
        "dream": "K=2 G=2",
        "walls_s": walls,
        "cold_s": walls[0],
        "median_s": statistics.median(walls),
        "min_s": min(walls),
        "max_s": max(walls),
        "claimed": claimed,
        "fill_s": fill_s,
        "stop_s": time.perf_counter() - stopping,
        "left_after_stop": len(daytona.live_sandboxes()),
    }


def members(daytona: FakeDaytona) -> list[str]:
    """The ids of the pool members no dream has claimed yet."""
    return [
        live["id"]
        for live in daytona.live_sandboxes()
        if WARM_LABEL in live["labels"] and POOL_LABEL in live["labels"]
    ]


def healthy(client: httpx.Client) -> bool:
    try:
        return client.get("/").status_code == 200
    except httpx.TransportError:
        return False


def wait_until(condition: Any, what: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while not condition():
        if server.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"no {what} (server exit code {server.poll()})")
        time.sleep(0.02)


if __name__ == "__main__":
    main()
