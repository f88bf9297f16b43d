"""The files of a dream's workspace (the seed's layout) and its commit messages, named once
for every layer."""

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


def start_commit(children: int, generations: int) -> str:
    """The message of a workspace's first commit (its `.gitignore` and empty `errors.log`)."""
    return f"start: {generations} generations of {children} children per node"


def generation_commit(generation: int, generations: int, total_nodes: int) -> str:
    """The message of the commit closing `generation`: the nodes in the graph so far."""
    return f"generation {generation} of {generations}: {total_nodes} nodes"


def final_commit(total_nodes: int) -> str:
    """The message of the commit holding results.json and graph.html."""
    return f"final: {total_nodes} nodes"
