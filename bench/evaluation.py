"""What evaluating and verifying a dream cost, on real dreams grown by the loopback LLM.
Prints a JSON line (for `bench.run`).

Evaluation: dreams K=3 G=4 (122 nodes) and K=4 G=5 (1,366 nodes) grown at L = 0, then
`evaluate_graph` (no judge) in a fresh process (`bench.evaluate`): K=3 G=4 cold (the first call,
the MiniLM model loads) and warm (the second), K=4 G=5 warm.

Verification: the same K=3 G=3 dream at L = 200 ms without verification and with it, against
a loopback Tavily answering in 300 ms, at CODREAMER_VERIFY_CONCURRENCY 5 (the default) and 32.
"""

import asyncio
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from core.context import DreamContext
from core.settings import get_settings
from core.state import DreamInput, DreamOutput
from graph.runner import close_clients, run_dream
from nodes.create_workspace import new_workspace_id
from tests.support.openai_server import FakeOpenAI
from tests.support.search_servers import FakeTavily

EVALUATED = {"K=3 G=4": (3, 4), "K=4 G=5": (4, 5)}
EVALUATIONS = [("K=3 G=4", "cold"), ("K=3 G=4", "warm"), ("K=4 G=5", "warm")]
"""(dream, call) in the order `bench.evaluate` makes them: the first call is the cold one."""
VERIFIED = (3, 3)
LLM_LATENCY_S = 0.2
SEARCH_LATENCY_S = 0.3
VERIFY_RUNS = 3
"""Runs of each verification variant; the table shows the median wall time."""
VARIANTS = [("without verification", False, 5), ("verified", True, 5), ("verified", True, 32)]
"""(name, verify, CODREAMER_VERIFY_CONCURRENCY)."""


def main() -> None:
    with (
        tempfile.TemporaryDirectory() as folder,
        FakeOpenAI() as llm,
        FakeTavily() as tavily,
    ):
        configure(folder, llm, tavily)
        outputs, verification = asyncio.run(grow_and_verify(llm, tavily))
        paths = {name: Path(folder, f"{name.replace(' ', '-')}.json") for name in outputs}
        for name, output in outputs.items():
            paths[name].write_text(json.dumps(output))
        evaluation = evaluation_costs([str(paths[name]) for name, _ in EVALUATIONS])
    print(json.dumps({"evaluation": evaluation, "verification": verification}))


def configure(folder: str, llm: FakeOpenAI, tavily: FakeTavily) -> None:
    """This process's settings: the loopback LLM and search API, workspaces in `folder`, no
    library (indexing would share the CPU), no LLM cache, verification off by default."""
    for name in ("OPENAI_API_KEY", "CODREAMER_LLM_CACHE", "CODREAMER_JUDGE_MODEL"):
        os.environ.pop(name, None)
    os.environ.update(
        CODREAMER_WORKSPACES=folder,
        CODREAMER_DATABASE_URL=f"sqlite:///{folder}/library.sqlite",
        CODREAMER_LIBRARY="false",
        CODREAMER_MAX_CONCURRENCY="32",
        USE_WORKFLOW="true",
        USE_DAYTONA="false",
        OPENAI_BASE_URL=llm.url,
        CODREAMER_MODEL="bench-model",
        CODREAMER_VERIFY="false",
        TAVILY_API_KEY=tavily.api_key,
        TAVILY_API_URL=tavily.url,
    )
    get_settings.cache_clear()


async def grow_and_verify(
    llm: FakeOpenAI, tavily: FakeTavily
) -> tuple[dict[str, DreamOutput], dict[str, Any]]:
    """The outputs of the `EVALUATED` dreams (grown at L = 0), and the verification figures
    (the dreams grown first warm this process's clients)."""
    llm.latency = 0.0
    outputs = {
        name: await dream(children, generations, verify=False)
        for name, (children, generations) in EVALUATED.items()
    }
    verification = await verification_overhead(llm, tavily)
    await close_clients()
    return outputs, verification


async def dream(children: int, generations: int, *, verify: bool) -> DreamOutput:
    """One real dream of K = `children`, G = `generations` on the loopback LLM."""
    dream_input = DreamInput(
        customer="Enterprise software companies using microservices",
        product="Distributed tracing and observability platform",
        children_count=children,
        generations_count_int=generations,
    )
    return await run_dream(dream_input, DreamContext(verify=verify), new_workspace_id())


def evaluation_costs(paths: list[str]) -> list[dict[str, Any]]:
    """`bench.evaluate`'s figures, from its own process, labelled as `EVALUATIONS`."""
    completed = subprocess.run(
        [sys.executable, "-m", "bench.evaluate", *paths], capture_output=True, text=True, check=True
    )
    measured = json.loads(completed.stdout.strip().splitlines()[-1])
    return [
        {"dream": name, "call": call, **figures}
        for (name, call), figures in zip(EVALUATIONS, measured, strict=True)
    ]


async def verification_overhead(llm: FakeOpenAI, tavily: FakeTavily) -> dict[str, Any]:
    """Each of `VARIANTS` run `VERIFY_RUNS` times: the median wall, the searches the API
    answered and the most it saw in flight (the worst run), against `verified_bound`."""
    children, generations = VERIFIED
    runs = []
    for name, verify, concurrency in VARIANTS:
        os.environ["CODREAMER_VERIFY_CONCURRENCY"] = str(concurrency)
        get_settings.cache_clear()
        walls, searches, peaks, outputs = [], [], [], []
        for _ in range(VERIFY_RUNS):
            llm.reset()
            tavily.reset()  # also zeroes its latency
            llm.latency, tavily.latency = LLM_LATENCY_S, SEARCH_LATENCY_S
            started = time.perf_counter()
            outputs.append(await dream(children, generations, verify=verify))
            walls.append(time.perf_counter() - started)
            searches.append(len(tavily.stats.queries))
            peaks.append(tavily.stats.peak_in_flight)
        metadata = outputs[-1]["metadata"]
        checked = metadata.get("verification") or {}
        runs.append(
            {
                "name": name,
                "verify": verify,
                "concurrency": concurrency if verify else None,
                "nodes": metadata["totalNodes"],
                "llm_calls": llm.stats.calls,
                "wall_s": statistics.median(walls),
                "walls_s": walls,
                "bound_s": verified_bound(concurrency if verify else None),
                "searches": max(searches),
                "peak_searches": max(peaks),
                "verified": checked.get("verified"),
                "warnings": len(metadata["warnings"]),
            }
        )
    return {
        "dream": f"K={children} G={generations}",
        "llm_latency_ms": LLM_LATENCY_S * 1000,
        "search_latency_ms": SEARCH_LATENCY_S * 1000,
        "runs": runs,
    }


def verified_bound(concurrency: int | None) -> float:
    """The least wall time of the `VERIFIED` dream: (G+1)·L without verification; with it,
    each generation also waits for its K^n searches, `concurrency` at a time after its LLM
    round (with a fixed latency, a generation's LLM calls all answer together)."""
    children, generations = VERIFIED
    bound = (generations + 1) * LLM_LATENCY_S
    if concurrency is None:
        return bound
    ideas = [int(children**n) for n in range(1, generations + 1)]
    rounds = sum(math.ceil(count / concurrency) for count in ideas)
    return bound + rounds * SEARCH_LATENCY_S


if __name__ == "__main__":
    main()
