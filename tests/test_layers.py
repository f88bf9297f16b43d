"""The import rule: server.py, cli.py, codreamer_cli/ -> graph -> evaluation -> nodes -> library
-> outputs -> sandbox -> verification -> embeddings -> telemetry -> core.
A lower layer never imports a higher one (checked on the source, so no import runs)."""

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
LAYERS = [
    "core",
    "telemetry",
    "embeddings",
    "verification",
    "sandbox",
    "outputs",
    "library",
    "nodes",
    "evaluation",
    "graph",
]
ENTRY_POINTS = {"server", "cli", "codreamer_cli", "http_guards", "webapp"}


def imported_top_levels(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("layer", LAYERS)
def test_a_layer_imports_only_layers_below_it(layer: str) -> None:
    higher = set(LAYERS[LAYERS.index(layer) + 1 :]) | ENTRY_POINTS
    offenders = {
        f"{path.relative_to(REPO)} imports {name}"
        for path in sorted((REPO / layer).glob("*.py"))
        for name in imported_top_levels(path) & higher
    }
    assert offenders == set()
