"""`make bench`: dreams against a loopback LLM with a fixed latency, measured against the
critical path. Prints a table and writes bench/results.json."""

import json
import math
import os
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from tests.openai_server import FakeOpenAI

LATENCY_S = float(os.environ.get("BENCH_LATENCY_MS", "100")) / 1000
RESULTS = Path(__file__).with_name("results.json")


@dataclass(frozen=True)
class Scenario:
    name: str
    children: int
    generations: int
    mode: str = "workflow"
    max_concurrency: int = 32
    embedded: bool = False


SCENARIOS = [
    Scenario("K=3 G=4 workflow", 3, 4),
    Scenario("K=3 G=4 legacy", 3, 4, mode="legacy"),
    Scenario("K=5 G=4 workflow", 5, 4, max_concurrency=256),
    Scenario("K=10 G=4 workflow", 10, 4, max_concurrency=256),
    Scenario("embedded K=2 G=3", 2, 3, embedded=True),
]


def critical_path(scenario: Scenario, latency: float) -> tuple[float, float]:
    """(G+1)·L, and the bound when max_concurrency caps a round (one call at a time in legacy)."""
    k, g = scenario.children, scenario.generations
    rounds = [k ** (n - 1) for n in range(1, g + 1)] + [k ** (g - 1)]
    cap = 1 if scenario.mode == "legacy" else scenario.max_concurrency
    return (g + 1) * latency, sum(math.ceil(calls / cap) for calls in rounds) * latency


def run(scenario: Scenario, server: FakeOpenAI, workspaces: str) -> dict:
    env = {
        **os.environ,
        "CODREAMER_WORKSPACES": workspaces,
        "CODREAMER_MAX_CONCURRENCY": str(scenario.max_concurrency),
        "USE_WORKFLOW": "false" if scenario.mode == "legacy" else "true",
        "USE_DAYTONA": "false",
    }
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "CODREAMER_MODEL"):
        env.pop(name, None)
    if scenario.embedded:
        env["CODREAMER_MODEL"] = "embedded"
    else:
        env.update(OPENAI_BASE_URL=server.url, CODREAMER_MODEL="bench-model")
    server.reset()
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.scenario",
            f"--children={scenario.children}",
            f"--generations={scenario.generations}",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    measured = json.loads(completed.stdout.strip().splitlines()[-1])
    latency = 0.0 if scenario.embedded else LATENCY_S
    path, capped = critical_path(scenario, latency)
    overhead = (measured["wall_s"] - capped) / measured["nodes"] * 1000
    return {
        **asdict(scenario),
        **measured,
        "latency_ms": latency * 1000,
        "critical_path_s": path,
        "capped_bound_s": capped,
        "ratio_to_critical_path": measured["wall_s"] / path if path else None,
        "ratio_to_capped_bound": measured["wall_s"] / capped if capped else None,
        "overhead_ms_per_node": overhead if not scenario.embedded else None,
        "peak_in_flight": server.stats.peak_in_flight if not scenario.embedded else None,
        "server_calls": server.stats.calls if not scenario.embedded else None,
    }


def table(results: list[dict]) -> Table:
    out = Table(
        title=f"CoDreamer benchmark (loopback LLM latency {LATENCY_S * 1000:g} ms; "
        "wall = a warm second dream in the same process, cold = the first)"
    )
    for column in (
        "dream",
        "nodes",
        "cold s",
        "wall s",
        "genTime ms",
        "(G+1)L s",
        "capped s",
        "x path",
        "x capped",
        "calls",
        "peak",
        "ms/node",
        "RSS MB",
    ):
        out.add_column(column, justify="right")
    for r in results:

        def fmt(value: float | None, digits: int = 2) -> str:
            return "-" if value is None else f"{value:.{digits}f}"

        out.add_row(
            r["name"],
            str(r["nodes"]),
            fmt(r["cold_wall_s"]),
            fmt(r["wall_s"]),
            str(r["generation_time_ms"]),
            fmt(r["critical_path_s"]),
            fmt(r["capped_bound_s"]),
            fmt(r["ratio_to_critical_path"]),
            fmt(r["ratio_to_capped_bound"]),
            str(r["llm_calls"]),
            "-" if r["peak_in_flight"] is None else str(r["peak_in_flight"]),
            fmt(r["overhead_ms_per_node"], 3),
            fmt(r["peak_rss_mb"], 0),
        )
    return out


def main() -> None:
    console = Console(width=150)
    with FakeOpenAI(latency=LATENCY_S) as server, tempfile.TemporaryDirectory() as workspaces:
        results = []
        for scenario in SCENARIOS:
            console.log(f"running {scenario.name}")
            results.append(run(scenario, server, workspaces))
    by_name = {r["name"]: r for r in results}
    speedup = by_name["K=3 G=4 legacy"]["wall_s"] / by_name["K=3 G=4 workflow"]["wall_s"]
    summary = {"latency_ms": LATENCY_S * 1000, "workflow_speedup_over_legacy": speedup}
    RESULTS.write_text(json.dumps({"summary": summary, "results": results}, indent=2))
    console.print(table(results))
    console.print(f"workflow vs legacy (K=3 G=4): {speedup:.1f}x faster; written {RESULTS}")


if __name__ == "__main__":
    main()
