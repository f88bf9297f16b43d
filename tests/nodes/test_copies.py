"""Answers that copy the worked example, or the prompt's own data, are told from ideas."""

import pytest

from nodes.copies import copied_sentence, count_copies
from nodes.init_anchors import anchor


@pytest.mark.parametrize(
    "text",
    [
        "Every ingredient arrives at the door in the right amount.",
        "Traces help. The service sends a weekly menu so nobody has to choose each night.",
        "Each ingredient arrives at the door in the right amount.",
        "Parents spend time every evening choosing a meal everyone will eat!",
        "Families who cook dinner at home every night",
    ],
)
def test_copied_sentence_finds_the_worked_examples_text(text: str) -> None:
    assert copied_sentence(text) is not None


@pytest.mark.parametrize(
    "text",
    [
        "Traces show which service slows each request down.",
        "Engineers lose hours finding the failing hop.",
        "Saves time.",
        "It is solved by the platform.",
    ],
)
def test_copied_sentence_leaves_ideas_alone(text: str) -> None:
    assert copied_sentence(text) is None


def test_copied_sentence_finds_the_prompts_own_data_restated() -> None:
    data = ["Enterprise software companies", "Slow requests: Pages load slowly."]

    assert copied_sentence("Slow requests: pages load slowly", data) is not None
    assert copied_sentence("enterprise software companies!", data) is not None
    assert copied_sentence("Enterprise software companies trace their requests.", data) is None


def test_count_copies_counts_contents_and_rationales_of_grown_nodes() -> None:
    copied = {
        **anchor("n1", "Every ingredient arrives at the door in the right amount."),
        "generation": 1,
        "edge": [
            {
                "target_id": "Product Feature",
                "relationship": "is solved by",
                "rationale": "The service sends a weekly menu so nobody has to choose each night.",
            }
        ],
    }
    thought = {**anchor("n2", "Teams trace requests across services."), "generation": 1}
    example_as_customer = anchor("Customer Job", "Families who cook dinner at home every night")

    assert count_copies([copied, thought, example_as_customer]) == 2
