"""The dream graph: `from graph import graph; graph.invoke({"customer": ..., "product": ...})`."""

import importlib
from typing import Any

__all__ = ["builder", "graph"]


def __getattr__(name: str) -> Any:
    """Load the workflow on first use, so `graph.settings` and `graph.state` import on their own."""
    if name in __all__:
        return getattr(importlib.import_module("graph.workflow"), name)
    raise AttributeError(f"module 'graph' has no attribute {name!r}")
