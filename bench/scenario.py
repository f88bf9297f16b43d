"""One benchmark dream in its own process, so its peak RSS is its own. Prints a JSON line."""

import argparse
import asyncio
import json
import resource
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from core.context import DreamContext
from core.state import DreamInput
from graph.runner import close_clients, run_dream
from nodes.create_workspace import new_workspace_id


async def measure(children: int, generations: int, runs: int) -> dict[str, float | int]:
    """Run the dream `runs` times: the first is cold (fresh connections); the wall and
    generation time reported are the medians of the warm ones, nodes and warnings the worst."""
    results = [await measure_once(children, generations) for _ in range(runs)]
    await close_clients()
    warm = results[1:] or results
    return {
        **results[-1],
        "nodes": min(r["nodes"] for r in results),
        "warnings": max(r["warnings"] for r in results),
        "cold_wall_s": results[0]["wall_s"],
        "wall_s": statistics.median(r["wall_s"] for r in warm),
        "generation_time_ms": statistics.median(r["generation_time_ms"] for r in warm),
        "warm_walls_s": [r["wall_s"] for r in warm],
    }


async def measure_once(children: int, generations: int) -> dict[str, float | int]:
    dream_input = DreamInput(
        customer="Enterprise software companies using microservices",
        product="Distributed tracing and observability platform",
        children_count=children,
        generations_count_int=generations,
    )
    started = time.perf_counter()
    output = await run_dream(dream_input, DreamContext(), new_workspace_id())
    wall = time.perf_counter() - started
    metadata = output["metadata"]
    return {
        "wall_s": wall,
        "generation_time_ms": metadata["generationTime"],
        "nodes": metadata["totalNodes"],
        "llm_calls": metadata["usage"]["llm_calls"],
        "cached_answers": metadata["usage"]["cached_answers"],
        "warnings": len(metadata["warnings"]),
        "mode": metadata["mode"],
        "model": metadata["model"],
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def print_measurement(measurer: Callable[[int, int, int], Awaitable[dict[str, Any]]]) -> None:
    """Parse `--children --generations --runs`, measure, print one JSON line (for bench.run)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--children", type=int, required=True)
    parser.add_argument("--generations", type=int, required=True)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(measurer(args.children, args.generations, args.runs))))


if __name__ == "__main__":
    print_measurement(measure)
