"""The files of a dream's workspace (the seed's layout), named once for every layer."""

GRAPH_STATE_FILE = "graph-state.json"
GENERATION_LOG = "generation.log"
ERRORS_LOG = "errors.log"
CONNECTIONS_LOG = "connections.log"
VERIFICATION_LOG = "verification.log"
FINAL_GRAPH_FILE = "final-graph.json"
RESULTS_FILE = "results.json"
VIEWER_FILE = "graph.html"


def checkpoint_file(generation: int) -> str:
    """The graph as it stood after `generation`."""
    return f"checkpoint-gen{generation}.json"
