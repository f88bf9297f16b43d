"""`evaluate_graph` (no judge) timed in a fresh process, for `bench.evaluation`.

`python -m bench.evaluate A.json B.json ...` evaluates each dream output (`{nodes, metadata}`)
in turn, in one process: the first call is cold (the offline MiniLM model loads in it), the
later ones warm; a path given twice is evaluated twice. Each call's peak RSS is the process's
high-water mark, reset just before the call (Linux). Prints a JSON line.
"""

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from evaluation import evaluate_graph

STATUS = Path("/proc/self/status")
CLEAR_REFS = Path("/proc/self/clear_refs")


async def measure(outputs: dict[str, Any], paths: list[str]) -> list[dict[str, Any]]:
    """Wall time, RSS before and peak RSS of `evaluate_graph` on the output read from each
    path (`outputs` holds them by path), in order."""
    results = []
    for path in paths:
        output = outputs[path]
        reset = reset_peak_rss()
        before = rss_mb("VmRSS")
        started = time.perf_counter()
        evaluation = await evaluate_graph(output["nodes"], output["metadata"])
        seconds = time.perf_counter() - started
        results.append(
            {
                "path": path,
                "nodes": len(output["nodes"]),
                "seconds": seconds,
                "rss_before_mb": before,
                "peak_rss_mb": rss_mb("VmHWM"),
                "peak_reset": reset,
                "overall": evaluation["scores"]["overall"],
            }
        )
    return results


def reset_peak_rss() -> bool:
    """Reset this process's VmHWM to its current RSS; False where the kernel refuses (the
    peak then stays the process's peak so far, an upper bound)."""
    try:
        CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return True


def rss_mb(field: str) -> float:
    """A memory figure of this process from /proc/self/status (VmRSS now, VmHWM peak)."""
    for line in STATUS.read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"{STATUS} has no {field} line: this benchmark needs Linux")


if __name__ == "__main__":
    read = {path: json.loads(Path(path).read_text()) for path in sys.argv[1:]}
    print(json.dumps(asyncio.run(measure(read, sys.argv[1:]))))
