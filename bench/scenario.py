"""One benchmark dream in its own process, so its peak RSS is its own. Prints a JSON line."""

import argparse
import asyncio
import json
import resource
import time

from graph.context import DreamContext
from graph.runner import close_clients, run_dream
from graph.state import DreamInput
from nodes.create_workspace import new_workspace_id


async def measure(children: int, generations: int, runs: int) -> dict[str, float | int]:
    """Run the dream `runs` times: the first is cold (fresh connections), the last is warm."""
    walls = []
    for _ in range(runs):
        result = await measure_once(children, generations)
        walls.append(result["wall_s"])
    await close_clients()
    return {**result, "cold_wall_s": walls[0], "wall_s": walls[-1]}


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
        "warnings": len(metadata["warnings"]),
        "mode": metadata["mode"],
        "model": metadata["model"],
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--children", type=int, required=True)
    parser.add_argument("--generations", type=int, required=True)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(measure(args.children, args.generations, args.runs))))


if __name__ == "__main__":
    main()
