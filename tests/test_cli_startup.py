"""`codreamer --help` and argument errors answer without loading the heavy modules (`make bench`
times them; a test only checks what they import)."""

import json
import subprocess
import sys

import pytest

from codreamer_cli.dreams import EXPORT_FORMATS
from outputs.exports import FORMATS

HEAVY = {"langgraph", "langchain_core", "langchain_openai", "openai", "daytona", "uvicorn"}
"""Third-party packages a command loads when it runs, never for help or a usage error."""
LAYERS = {"graph", "nodes", "outputs"}
PROBE = """
import json, sys
import cli
sys.argv = ["codreamer", *sys.argv[1:]]
code = None
try:
    cli.main()
except SystemExit as exited:
    code = exited.code
print(json.dumps({"code": code, "modules": sorted({name.split(".")[0] for name in sys.modules})}))
"""
SEED = ["--customer", "c", "--product", "p"]


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--help"], 0),
        (["dream", "--help"], 0),
        (["dream", *SEED, "--children", "99"], 2),
        (["dream", *SEED, "--children", "10", "--generations", "6"], 2),
        (["resume", "..bad"], 2),
        (["export", "results.json", "--format", "pdf"], 2),
    ],
)
def test_cli_help_and_usage_errors_load_no_heavy_module(args: list[str], code: int) -> None:
    completed = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=60
    )
    probe = json.loads(completed.stdout.strip().splitlines()[-1])

    assert probe["code"] == code, completed.stderr
    assert not (HEAVY | LAYERS) & set(probe["modules"])


def test_cli_export_formats_are_the_exporters_and_html() -> None:
    assert EXPORT_FORMATS == (*FORMATS, "html")
