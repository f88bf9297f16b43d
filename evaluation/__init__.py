"""Judge a dream's graph: embedding measures of completeness, quality, relationships, diversity,
path to product and grounding, an optional LLM judge, and comparing two evaluations."""

from evaluation.compare import compare_evaluations
from evaluation.judge import JudgeCache, JudgeUnavailableError, MemoryJudgeCache
from evaluation.report import EVALUATION_VERSION, evaluate_graph

__all__ = [
    "EVALUATION_VERSION",
    "JudgeCache",
    "JudgeUnavailableError",
    "MemoryJudgeCache",
    "compare_evaluations",
    "evaluate_graph",
]
