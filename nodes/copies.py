"""Answers that copy a worked example, or the prompt's own data, instead of thinking.

Small models echo the worked example they were shown ("Every ingredient arrives at the door in
the right amount." in a dream about tracing). Such text is caught here, so the answer is asked
again like one with repeated sibling names, and what survives is counted in `metadata.quality`.
"""

import json
import re
from collections.abc import Iterable
from difflib import SequenceMatcher
from functools import cache

from core.state import ANCHOR_IDS, Node
from nodes.prompts import (
    CONNECT_TO_PRODUCT_EXAMPLE_ANSWER,
    EXAMPLE_DATA,
    EXPAND_GENERATION_EXAMPLE_ANSWER,
)
from outputs.quality import normalised

MIN_COPIED_WORDS = 4
"""A shorter sentence ("Saves time.") may be written independently; it is not called a copy."""
NEAR_COPY_RATIO = 0.85
"""Sentences this alike (difflib's ratio) differ by a word or two: a copy, lightly edited."""
SHARED_WORDS = 0.6
"""A near copy shares most of the example's words; others are not compared letter by letter."""
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def sentences(text: str) -> list[str]:
    """The normalised sentences of `text` that are long enough to tell a copy from a thought."""
    found = (normalised(part) for part in SENTENCE_END.split(text))
    return [sentence for sentence in found if len(sentence.split()) >= MIN_COPIED_WORDS]


@cache
def example_sentences() -> frozenset[str]:
    """Every sentence of the worked examples: their answers' texts and their data."""
    texts = list(EXAMPLE_DATA)
    for answer in (EXPAND_GENERATION_EXAMPLE_ANSWER, CONNECT_TO_PRODUCT_EXAMPLE_ANSWER):
        for items in json.loads(answer).values():
            texts += [value for item in items for value in item.values()]
    return frozenset(sentence for text in texts for sentence in sentences(text))


def copied_sentence(text: str, prompt_data: Iterable[str] = ()) -> str | None:
    """The example sentence `text` repeats (word for word, inside a longer one, or nearly:
    "Each ingredient arrives ..." for "Every ingredient arrives ..."), or the prompt data it
    merely restates; else None."""
    for sentence in sentences(text):
        words = frozenset(sentence.split())
        for example, example_words in _examples_with_words():
            if example in sentence or (
                len(words & example_words) >= SHARED_WORDS * len(example_words)
                and _alike(example, sentence)
            ):
                return sentence
    whole = normalised(text)
    if whole and any(whole == normalised(data) for data in prompt_data):
        return whole
    return None


@cache
def _examples_with_words() -> tuple[tuple[str, frozenset[str]], ...]:
    return tuple((example, frozenset(example.split())) for example in example_sentences())


def _alike(example: str, sentence: str) -> bool:
    """Whether the two differ by a word or two; the cheap bounds first (a check runs on every
    item of every answer: 25,000 texts in a K=10, G=4 dream)."""
    shorter, longer = sorted((len(example), len(sentence)))
    if 2 * shorter / (shorter + longer) < NEAR_COPY_RATIO:
        return False
    matcher = SequenceMatcher(None, sentence, example, autojunk=False)
    return matcher.quick_ratio() >= NEAR_COPY_RATIO and matcher.ratio() >= NEAR_COPY_RATIO


def count_copies(nodes: Iterable[Node]) -> int:
    """Node contents and edge rationales in a finished graph that repeat a worked example."""
    texts = [
        text
        for node in nodes
        if node["id"] not in ANCHOR_IDS
        for text in (node["content"], *(edge["rationale"] for edge in node["edge"]))
    ]
    return sum(1 for text in texts if copied_sentence(text) is not None)
