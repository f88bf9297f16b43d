"""`codreamer` run as a user runs it: the venv's console script, in a subprocess."""

import os
import subprocess
import sys
from pathlib import Path

CODREAMER = str(Path(sys.executable).parent / "codreamer")
SEED_ARGS = [
    "--customer",
    "Enterprise software companies using microservices",
    "--product",
    "Distributed tracing and observability platform",
]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CODREAMER, *args], capture_output=True, text=True, env=dict(os.environ), timeout=300
    )
