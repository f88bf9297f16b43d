"""The dream's state: node counts, input validation, and the reducers."""

import pytest
from pydantic import ValidationError

from core.state import DreamInput, add_usage, merge_nodes, total_node_count
from nodes.init_anchors import anchor


def test_total_node_count_matches_the_seed() -> None:
    assert total_node_count(2, 3) == 16
    assert total_node_count(10, 4) == 11_112
    assert total_node_count(1, 1) == 3


def test_dream_input_defaults_and_limits() -> None:
    assert DreamInput(customer=" c ", product="p").model_dump() == {
        "customer": "c",
        "product": "p",
        "children_count": 2,
        "generations_count_int": 3,
    }
    for bad in (
        {"customer": "", "product": "p"},
        {"customer": "c", "product": "p" * 2001},
        {"customer": "c", "product": "p", "children_count": 11},
        {"customer": "c", "product": "p", "generations_count_int": 0},
        {"customer": "c", "product": "p", "children_count": 10, "generations_count_int": 5},
        {"customer": "c", "product": "p", "colour": "red"},
    ):
        with pytest.raises(ValidationError):
            DreamInput(**bad)


def test_reducers_merge_nodes_and_sum_usage() -> None:
    first = {"a": anchor("a", "1")}
    updated = {
        "a": {
            **anchor("a", "1"),
            "edge": [{"target_id": "b", "relationship": "r", "rationale": "w"}],
        }
    }
    assert merge_nodes(first, {"b": anchor("b", "2")}).keys() == {"a", "b"}
    assert merge_nodes(first, updated)["a"]["edge"][0]["target_id"] == "b"
    from_older_checkpoint = {"llm_calls": 1, "input_tokens": 10, "output_tokens": 5}
    usage = add_usage(None, from_older_checkpoint)  # type: ignore[arg-type]
    cached = {"llm_calls": 0, "input_tokens": 0, "output_tokens": 0, "cached_answers": 3}
    assert add_usage(usage, usage) == {
        "llm_calls": 2,
        "input_tokens": 20,
        "output_tokens": 10,
        "cached_answers": 0,
        "rate_limited": 0,
        "server_errors": 0,
        "retries": 0,
    }
    assert add_usage(usage, cached)["cached_answers"] == 3
