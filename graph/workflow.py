"""The dream as a LangGraph state machine, compiled as `graph`."""

from langgraph.graph import END, START, StateGraph

from core.context import DreamContext
from core.state import DreamInput, DreamOutput, DreamState
from core.sync_bridge import sync_and_async
from graph.lifecycle import releases_workspace_on_failure
from graph.routing import route_generation
from nodes.connect_to_product import connect_to_product
from nodes.create_workspace import create_workspace
from nodes.expand_generation import expand_generation
from nodes.finalize import finalize
from nodes.init_anchors import init_anchors
from nodes.record_dream import record_dream
from nodes.save_generation import save_generation
from sandbox.checkpointer import WorkspaceCheckpointSaver
from telemetry.observer import DreamObserver

GENERATION_ROUTES = ["expand_generation", "connect_to_product"]

builder = StateGraph(
    DreamState, context_schema=DreamContext, input_schema=DreamInput, output_schema=DreamOutput
)
builder.add_node(sync_and_async(releases_workspace_on_failure(create_workspace)))
builder.add_node(sync_and_async(releases_workspace_on_failure(init_anchors)))
builder.add_node(sync_and_async(releases_workspace_on_failure(expand_generation)))
builder.add_node(sync_and_async(releases_workspace_on_failure(save_generation)))
builder.add_node(sync_and_async(releases_workspace_on_failure(connect_to_product)))
builder.add_node(sync_and_async(releases_workspace_on_failure(finalize)))
builder.add_node(sync_and_async(record_dream))

builder.add_edge(START, "create_workspace")
builder.add_edge("create_workspace", "init_anchors")
builder.add_conditional_edges("init_anchors", route_generation, GENERATION_ROUTES)
builder.add_edge("expand_generation", "save_generation")
builder.add_conditional_edges("save_generation", route_generation, GENERATION_ROUTES)
builder.add_edge("connect_to_product", "finalize")
builder.add_edge("finalize", "record_dream")
builder.add_edge("record_dream", END)

graph = builder.compile(checkpointer=WorkspaceCheckpointSaver(), name="CoDreamer").with_config(
    configurable={"checkpoint_ns": ""}, callbacks=[DreamObserver(last_step="record_dream")]
)
"""The dream, checkpointed into its own workspace when run with a `thread_id` (the workspace id).

Resume a stopped dream with `graph.invoke(None, {"configurable": {"thread_id": id}})`. A run
without a thread id is not checkpointed: the root namespace given by default (`checkpoint_ns`,
a public configurable key) lets it start without one. The CLI and the server run it with
`durability="sync"` (`graph.runner`), so a checkpoint is on disk before the next step's LLM
calls go out; direct callers choose with LangGraph's `durability=` parameter. The bound
`DreamObserver` counts every run for `/metrics` and traces it when OpenTelemetry is on,
whichever front end started it.
"""

studio_graph = builder.compile(name="CoDreamer")
"""The same dream for LangGraph Studio / `langgraph dev` (whose server brings a checkpointer)."""
