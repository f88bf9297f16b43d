"""The floor this machine allows: a dream's LLM calls made by the bare OpenAI SDK.

The same rounds as a dream (every parent of a generation at once, then one link call per
parent of leaves), the same messages and JSON schemas, against the same server, but no
LangChain, no LangGraph, no workspace files. What a dream takes beyond this is our overhead;
what this takes beyond (G+1)·L is the client's and the server's CPU per call. Prints a JSON
line like `bench.scenario`.
"""

import asyncio
import json
import os
import resource
import statistics
import time
from typing import Any

import openai

from bench.scenario import print_measurement
from nodes.output_modes import response_format
from nodes.prompts import (
    EXPAND_GENERATION_EXAMPLE,
    EXPAND_GENERATION_EXAMPLE_ANSWER,
    EXPAND_GENERATION_PROMPT,
    SYSTEM_PROMPT,
)
from nodes.schemas import children_schema, links_schema

CUSTOMER = "Enterprise software companies using microservices"
PRODUCT = "Distributed tracing and observability platform"


async def ask(client: openai.AsyncOpenAI, prompt: str, schema: Any) -> dict[str, Any]:
    answer = await client.chat.completions.create(
        model="bench-model",
        messages=[
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": EXPAND_GENERATION_EXAMPLE},
            {"role": "assistant", "content": EXPAND_GENERATION_EXAMPLE_ANSWER},
            {"role": "user", "content": prompt},
        ],
        max_tokens=800,
        extra_body={"response_format": response_format(schema)},
    )
    return json.loads(answer.choices[0].message.content or "{}")


async def dream_calls(client: openai.AsyncOpenAI, children: int, generations: int) -> int:
    """Grow the names generation by generation, then link each parent's leaves; the calls."""
    frontier, calls = ["Customer Job"], 0
    for _ in range(generations):
        prompts = [
            EXPAND_GENERATION_PROMPT.format(
                customer=CUSTOMER,
                product=PRODUCT,
                path=name,
                parent_name=name,
                parent_content=name,
                count=children,
            )
            for name in frontier
        ]
        answers = await asyncio.gather(
            *(ask(client, p, children_schema(children)) for p in prompts)
        )
        calls += len(answers)
        parents, frontier = frontier, [c["name"] for a in answers for c in a["children"]]
    links = await asyncio.gather(
        *(ask(client, f"Link the leaves of {name}", links_schema(children)) for name in parents)
    )
    return calls + len(links)


async def measure(children: int, generations: int, runs: int) -> dict[str, Any]:
    client = openai.AsyncOpenAI(
        base_url=os.environ["OPENAI_BASE_URL"],
        api_key="not-needed",
        max_retries=0,
        http_client=openai.DefaultAioHttpClient(),
    )
    walls = []
    for _ in range(runs):
        started = time.perf_counter()
        calls = await dream_calls(client, children, generations)
        walls.append(time.perf_counter() - started)
    await client.close()
    warm = walls[1:] or walls
    return {
        "wall_s": statistics.median(warm),
        "cold_wall_s": walls[0],
        "generation_time_ms": round(statistics.median(warm) * 1000),
        "warm_walls_s": warm,
        "nodes": 2 + sum(children**g for g in range(1, generations + 1)),
        "llm_calls": calls,
        "cached_answers": 0,
        "warnings": 0,
        "mode": "bare OpenAI SDK",
        "model": "bench-model",
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


if __name__ == "__main__":
    print_measurement(measure)
