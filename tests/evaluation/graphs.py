"""A realistic dream graph (K=3, G=2) built in the exact `Node` shape, and ways to spoil it.

The good graph: enterprise software companies running microservices, and a distributed tracing
platform; every idea follows from its parent, every rationale says why, every leaf is linked.
"""

import copy
from dataclasses import dataclass
from typing import Any

from core.state import CUSTOMER_JOB, PRODUCT_FEATURE, Node
from nodes.init_anchors import anchor

CUSTOMER = "Enterprise software companies using microservices"
PRODUCT = "Distributed tracing and observability platform"


@dataclass(frozen=True)
class Idea:
    """A grown node as the model wrote it, and (for a leaf) how the product addresses it."""

    id: str
    parent: str
    name: str
    content: str
    relationship: str
    rationale: str
    product_rationale: str | None = None


IDEAS = (
    Idea(
        "finding-slow-requests-1",
        CUSTOMER_JOB,
        "Finding slow requests",
        "Engineers struggle to find which of dozens of services makes a user request slow.",
        "struggles with",
        "A single request crosses many microservices, so its latency cannot be blamed on one "
        "of them by looking at each service alone.",
    ),
    Idea(
        "debugging-production-incidents-2",
        CUSTOMER_JOB,
        "Debugging production incidents",
        "On-call teams spend hours locating the root cause of an outage that spans several "
        "services.",
        "suffers from",
        "When microservices depend on each other, a failure in one service surfaces as errors "
        "in many others.",
    ),
    Idea(
        "mapping-service-dependencies-3",
        CUSTOMER_JOB,
        "Mapping service dependencies",
        "Architects lack an up-to-date map of which services call which.",
        "needs",
        "Teams deploy their microservices independently, so the call graph between services "
        "changes every week.",
    ),
    Idea(
        "queue-wait-time-4",
        "finding-slow-requests-1",
        "Queue wait time",
        "Requests wait in message queues between services, and per-service metrics never show "
        "that time.",
        "is caused by",
        "Much of a slow request's latency is spent waiting between services rather than inside "
        "any one of them.",
        "Traces record the time a request spends waiting in each queue between services, so "
        "the wait becomes visible.",
    ),
    Idea(
        "slow-database-queries-5",
        "finding-slow-requests-1",
        "Slow database queries",
        "A few slow SQL queries deep in the call chain add seconds to checkout requests.",
        "is caused by",
        "A slow request is often slow because a service far down the chain waits on its database.",
        "Each trace includes database spans, so the slow query and the service that issued it "
        "show up in the request's timeline.",
    ),
    Idea(
        "unexplained-tail-latency-6",
        "finding-slow-requests-1",
        "Unexplained tail latency",
        "The slowest one percent of requests are hard to reproduce on a developer laptop.",
        "includes",
        "Finding slow requests is hardest for the rare outliers that never show up in local tests.",
        "The platform keeps traces of the slowest requests, so engineers can study outliers "
        "from production instead of reproducing them.",
    ),
    Idea(
        "correlating-logs-across-services-7",
        "debugging-production-incidents-2",
        "Correlating logs across services",
        "Engineers copy request ids between the log searches of ten services to follow one "
        "failure.",
        "requires",
        "Finding an incident's root cause means following the failing request through the logs "
        "of every service it touched.",
        "Trace ids link the logs of every service a request touched, so one click shows the "
        "whole failure.",
    ),
    Idea(
        "cascading-failures-8",
        "debugging-production-incidents-2",
        "Cascading failures",
        "A timeout in one service triggers retries that overload the services calling it.",
        "is made worse by",
        "Incidents spread across services because callers retry a failing dependency and "
        "overload it further.",
        "The service map shows where errors start and how retries spread them, so teams stop "
        "the cascade at its source.",
    ),
    Idea(
        "slow-incident-resolution-9",
        "debugging-production-incidents-2",
        "Slow incident resolution",
        "Mean time to resolution grows with every service an outage touches.",
        "leads to",
        "Each extra service involved in an incident adds another team and another dashboard to "
        "the investigation.",
        "One shared trace view lets all teams investigate an outage together, which shortens "
        "the time to resolve it.",
    ),
    Idea(
        "unknown-impact-of-api-changes-a",
        "mapping-service-dependencies-3",
        "Unknown impact of API changes",
        "Teams cannot tell which services will break when they change an API.",
        "makes hard to predict",
        "Without a map of who calls whom, the consumers of an API are unknown to the team that "
        "owns it.",
        "The dependency graph built from traces lists every service that calls an API, so "
        "owners know whom a change affects.",
    ),
    Idea(
        "stale-architecture-diagrams-b",
        "mapping-service-dependencies-3",
        "Stale architecture diagrams",
        "Hand-drawn diagrams of the system go out of date within weeks of a release.",
        "results in",
        "Diagrams drawn by hand cannot keep up with service dependencies that change every week.",
        "The platform draws the service map from live traffic, so the architecture diagram is "
        "always current.",
    ),
    Idea(
        "hidden-circular-calls-c",
        "mapping-service-dependencies-3",
        "Hidden circular calls",
        "Services end up calling each other in loops that nobody designed.",
        "hides",
        "When no one sees the whole call graph, loops between services grow unnoticed.",
        "Traces expose call cycles between services, so architects can spot and remove loops "
        "nobody intended.",
    ),
)
LEAVES = tuple(idea.id for idea in IDEAS if idea.product_rationale is not None)


def build_graph(
    ideas: tuple[Idea, ...] = IDEAS, customer: str = CUSTOMER, product: str = PRODUCT
) -> tuple[list[Node], dict[str, Any]]:
    """The dream's `(nodes, metadata)`: anchors, the ideas under their parents, each leaf
    (an idea with a product rationale) linked to "Product Feature"."""
    nodes: dict[str, Node] = {
        CUSTOMER_JOB: anchor(CUSTOMER_JOB, customer),
        PRODUCT_FEATURE: anchor(PRODUCT_FEATURE, product),
    }
    for idea in ideas:
        parent = nodes[idea.parent]
        nodes[idea.id] = {
            "id": idea.id,
            "content": idea.content,
            "edge": [],
            "name": idea.name,
            "generation": parent["generation"] + 1,
            "parent_id": idea.parent,
        }
        parent["edge"].append(
            {"target_id": idea.id, "relationship": idea.relationship, "rationale": idea.rationale}
        )
    for idea in ideas:
        if idea.product_rationale is not None:
            nodes[idea.id]["edge"].append(
                {
                    "target_id": PRODUCT_FEATURE,
                    "relationship": "is solved by",
                    "rationale": idea.product_rationale,
                }
            )
    metadata = {"generations": 2, "childrenCount": 3, "totalNodes": len(nodes)}
    return list(nodes.values()), metadata


def good_graph() -> tuple[list[Node], dict[str, Any]]:
    return build_graph()


def by_id(nodes: list[Node]) -> dict[str, Node]:
    return {node["id"]: node for node in nodes}


def edited(nodes: list[Node], node_id: str, **fields: str) -> list[Node]:
    """A deep copy of `nodes` with some fields of node `node_id` replaced."""
    nodes = copy.deepcopy(nodes)
    node = by_id(nodes)[node_id]
    node.update(fields)  # type: ignore[typeddict-item]
    return nodes


def with_rationale(nodes: list[Node], source: str, target: str, rationale: str) -> list[Node]:
    """A deep copy of `nodes` where the edge `source` -> `target` has another rationale."""
    nodes = copy.deepcopy(nodes)
    for edge in by_id(nodes)[source]["edge"]:
        if edge["target_id"] == target:
            edge["rationale"] = rationale
    return nodes
