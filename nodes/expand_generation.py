"""Node: grow one chunk of a generation, K children per parent, all parents at once."""

import asyncio
from dataclasses import dataclass, field
from typing import Any

from slugify import slugify

from core.context import DreamContext
from core.state import (
    Edge,
    ExpandTask,
    Node,
    ParentTask,
    SearchUsage,
    Usage,
    add_usage,
    weakest_output_mode,
)
from core.workspace_layout import ERRORS_LOG, VERIFICATION_LOG
from nodes.errors import NoUsableAnswerError
from nodes.llm import load_chat_model
from nodes.prompt_data import as_data
from nodes.prompts import (
    EXPAND_GENERATION_EXAMPLE,
    EXPAND_GENERATION_EXAMPLE_ANSWER,
    EXPAND_GENERATION_PROMPT,
)
from nodes.schemas import Child, Children, children_schema
from nodes.structured_call import CallOutcome, ask_model
from nodes.workspace_files import append_log, open_workspace
from verification import IdeaCheck, search_limiter, verify_idea

TOKENS_PER_CHILD = 220


def node_id(name: str, number: int) -> str:
    """A slug of the model's short name plus the node's sequence number (unique per dream)."""
    return f"{slugify(name, max_length=40, word_boundary=True) or 'idea'}-{number:x}"


@dataclass
class Expansion:
    """One parent's answer, its children, and their web-search checks (when verifying)."""

    outcome: CallOutcome[Children]
    children: dict[str, Node] = field(default_factory=dict)
    checks: list[IdeaCheck] = field(default_factory=list)


async def expand_generation(task: ExpandTask) -> dict[str, Any]:
    """Ask the model for K children of every parent in the task, and verify each child as soon
    as it is grown when the run verifies; record what failed."""
    context = DreamContext(**task["settings"])
    expansions = await asyncio.gather(*(_expand(task, context, p) for p in task["parents"]))
    outcomes = [expansion.outcome for expansion in expansions]
    nodes: dict[str, Node] = {}
    usage: Usage | None = None
    mode: str | None = None
    failures: list[str] = []
    warnings: list[str] = []
    for parent, expansion in zip(task["parents"], expansions, strict=True):
        outcome = expansion.outcome
        usage = add_usage(usage, outcome.usage)
        mode = weakest_output_mode(mode, outcome.mode)
        failures += [
            f"generation {task['generation']} parent {parent['node']['id']}: {f}"
            for f in outcome.failures
        ]
        if outcome.value is None:
            warnings.append(
                f"generation {task['generation']}: parent {parent['node']['id']} was not expanded "
                f"(see {ERRORS_LOG}); it stays a leaf"
            )
            continue
        nodes.update(expansion.children)
    if failures or warnings:
        warnings += await append_log(await open_workspace(task), ERRORS_LOG, *failures, *warnings)
    if task["generation"] == 1 and not nodes:
        raise NoUsableAnswerError(root_failure(context, outcomes[0].failures))
    update: dict[str, Any] = {
        "nodes_by_id": nodes,
        "usage": usage,
        "warnings": warnings,
        "structured_output": mode,
    }
    checks = [check for expansion in expansions for check in expansion.checks]
    if checks:
        update["searches"] = search_usage(checks)
        warnings += await append_log(
            await open_workspace(task), VERIFICATION_LOG, *(check.log_line for check in checks)
        )
    return update


async def _expand(task: ExpandTask, context: DreamContext, parent: ParentTask) -> Expansion:
    """Grow one parent's children, then (verifying) search the web for each, concurrently."""
    outcome = await _expand_parent(task, context, parent)
    if outcome.value is None:
        return Expansion(outcome)
    grown = _grow(parent, outcome.value.children, task["generation"])
    if not context.verify:
        return Expansion(outcome, grown)
    limiter = search_limiter(task["workspace_id"])
    children = [node for node_id, node in grown.items() if node_id != parent["node"]["id"]]
    checks = await asyncio.gather(
        *(verify_idea(child, task["customer"], limiter) for child in children)
    )
    for child, check in zip(children, checks, strict=True):
        grown[child["id"]] = {**child, "verification": check.verification}
    return Expansion(outcome, grown, list(checks))


def search_usage(checks: list[IdeaCheck]) -> SearchUsage:
    """What a task's checks cost: searches answered, credits, searches that failed."""
    return {
        "searches": sum(check.searched for check in checks),
        "credits": sum(check.credits for check in checks),
        "failed": sum(not check.searched for check in checks),
    }


def root_failure(context: DreamContext, failures: list[str]) -> str:
    """Why the dream cannot grow at all: the endpoint, the model and the last problem."""
    model = load_chat_model(context.model, context.temperature, context.llm_timeout)
    last = failures[-1].rstrip(".") if failures else "no answer"
    return (
        f"the model gave no usable answer for the Customer Job, so the dream cannot grow "
        f"(LLM endpoint {model.endpoint}, model {model.name}, {len(failures)} attempts, "
        f"each in {ERRORS_LOG}): {last}. Check that the endpoint serves a chat model that "
        f"answers in JSON, or choose another with CODREAMER_MODEL / OPENAI_BASE_URL."
    )


async def _expand_parent(
    task: ExpandTask, context: DreamContext, parent: ParentTask
) -> CallOutcome[Children]:
    count = task["children_count"]
    node = parent["node"]
    prompt = EXPAND_GENERATION_PROMPT.format(
        customer=as_data(task["customer"]),
        product=as_data(task["product"]),
        path=as_data(" -> ".join(parent["path"])),
        parent_name=as_data(node["name"]),
        parent_content=as_data(node["content"]),
        count=count,
    )
    return await ask_model(
        context,
        task["workspace_id"],
        children_schema(count),
        example=(EXPAND_GENERATION_EXAMPLE, EXPAND_GENERATION_EXAMPLE_ANSWER),
        prompt=prompt,
        items="children",
        count=count,
        distinct="name",
        max_tokens=TOKENS_PER_CHILD * count + 60,
        prompt_data=(
            task["customer"],
            task["product"],
            node["name"],
            node["content"],
            f"{node['name']}: {node['content']}",
        ),
    )


def _grow(parent: ParentTask, children: list[Child], generation: int) -> dict[str, Node]:
    """The new children and the parent with an edge to each."""
    grown: dict[str, Node] = {}
    edges: list[Edge] = []
    for offset, child in enumerate(children):
        child_id = node_id(child.name, parent["first_child_number"] + offset)
        grown[child_id] = {
            "id": child_id,
            "content": child.content.strip(),
            "edge": [],
            "name": child.name.strip(),
            "generation": generation,
            "parent_id": parent["node"]["id"],
        }
        edges.append(
            {
                "target_id": child_id,
                "relationship": child.relationship.strip(),
                "rationale": child.rationale.strip(),
            }
        )
    parent_node = parent["node"]
    return {parent_node["id"]: {**parent_node, "edge": [*parent_node["edge"], *edges]}, **grown}
