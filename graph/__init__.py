"""The dream graph: `from graph import graph; graph.invoke({"customer": ..., "product": ...})`."""

from graph.workflow import builder, graph

__all__ = ["builder", "graph"]
