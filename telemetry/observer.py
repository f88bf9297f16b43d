"""The dream observer: a LangChain callback handler bound to the compiled graph, so every run of
it, from any front end (CLI, REST, SSE, LangServe, a Python caller), is counted and, with
tracing on, traced.

A run whose parent the observer has not seen is a dream (the graph itself, under whatever run
name a front end gives it: LangServe's is "/dream"), unless it is LangGraph's `update_state`
(named "<graph>UpdateState"); a dream's direct children are its steps, one per node run; LLM
requests anywhere below a step are spans of that step.
A dream completes when its last step ends: a front end may close the stream right after the
result, and LangGraph then reports a `GeneratorExit`, which is no cancellation.
Spans carry ids, counts, names and redacted error text: never a prompt, an answer or a key.
"""

import asyncio
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGeneration, LLMResult
from opentelemetry.trace import Span, Status, StatusCode, Tracer, set_span_in_context

from telemetry.metrics import DreamStatus, count_dream, count_nodes
from telemetry.tracing import error_text, get_tracer

CANCELLATIONS = (asyncio.CancelledError, GeneratorExit, KeyboardInterrupt)
UPDATE_STATE_SUFFIX = "UpdateState"
"""LangGraph names a run of `update_state` after the graph with this suffix: it is no dream."""
Attributes = dict[str, str | int | bool]


@dataclass
class _Dream:
    started: float
    tracer: Tracer | None
    span: Span | None
    attributes: Attributes = field(default_factory=dict)
    nodes: int = 0
    """How many nodes the dream's result holds (from finalize's `metadata.totalNodes`)."""
    finished: bool = False


@dataclass
class _Run:
    dream: UUID
    kind: Literal["dream", "step", "inner", "llm", "ignored"]
    name: str
    span: Span | None
    """The span of this run, or of the nearest run above it that has one."""
    own_span: bool = False


class DreamObserver(BaseCallbackHandler):
    """Counts dreams, their duration and their nodes; traces dreams, steps and LLM calls."""

    run_inline = True  # called in the event loop as the run goes, not in a worker thread
    ignore_retriever = True
    ignore_agent = True
    ignore_retry = True
    ignore_custom_event = True

    def __init__(self, last_step: str) -> None:
        self.last_step = last_step
        self._dreams: dict[UUID, _Dream] = {}
        self._runs: dict[UUID, _Run] = {}
        self._lock = threading.Lock()

    def on_chain_start(
        self,
        serialized: dict[str, Any] | None,
        inputs: dict[str, Any] | Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        with self._lock:
            parent = self._runs.get(parent_run_id) if parent_run_id else None
            if parent is None and str(kwargs.get("name")).endswith(UPDATE_STATE_SUFFIX):
                self._runs[run_id] = _Run(run_id, "ignored", "update_state", None)
            elif parent is None:
                self._start_dream(run_id, inputs, metadata or {})
            elif parent.kind == "ignored":
                self._runs[run_id] = parent
            elif parent.kind == "dream":
                self._start_step(run_id, parent, str(kwargs.get("name") or "step"))
            else:
                self._runs[run_id] = _Run(parent.dream, "inner", parent.name, parent.span)

    def on_chain_end(self, outputs: dict[str, Any] | Any, *, run_id: UUID, **_: Any) -> None:
        with self._lock:
            run = self._runs.pop(run_id, None)
            if run is None:
                return
            if run.kind == "step":
                self._end_step(run, outputs)
            elif run.kind == "dream":
                self._end_dream(run_id, None)

    def on_chain_error(self, error: BaseException, *, run_id: UUID, **_: Any) -> None:
        with self._lock:
            run = self._runs.pop(run_id, None)
            if run is None:
                return
            if run.kind == "dream":
                self._end_dream(run_id, error)
            elif run.own_span and run.span is not None:
                _end_span(run.span, error)

    def on_chat_model_start(
        self,
        serialized: dict[str, Any] | None,
        messages: list[list[BaseMessage]],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        metadata: dict[str, Any] | None = None,
        **_: Any,
    ) -> None:
        """An LLM request: a span (model and limits, never the messages) when tracing."""
        with self._lock:
            parent = self._runs.get(parent_run_id) if parent_run_id else None
            dream = self._dreams.get(parent.dream) if parent else None
            if parent is None or dream is None or dream.tracer is None:
                return
            metadata = metadata or {}
            model = str(metadata.get("ls_model_name") or "unknown")
            dream.attributes.setdefault("codreamer.model", model)
            attributes: Attributes = {
                "gen_ai.operation.name": "chat",
                "gen_ai.request.model": model,
                "gen_ai.provider.name": str(metadata.get("ls_provider") or "unknown"),
            }
            if isinstance(max_tokens := metadata.get("ls_max_tokens"), int):
                attributes["gen_ai.request.max_tokens"] = max_tokens
            span = _start_span(dream.tracer, f"chat {model}", parent.span, attributes)
            self._runs[run_id] = _Run(parent.dream, "llm", model, span, own_span=True)

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **_: Any) -> None:
        with self._lock:
            run = self._runs.pop(run_id, None)
        if run is None or run.span is None:
            return
        input_tokens, output_tokens, reasons = _usage_of(response)
        run.span.set_attribute("gen_ai.usage.input_tokens", input_tokens)
        run.span.set_attribute("gen_ai.usage.output_tokens", output_tokens)
        if reasons:
            run.span.set_attribute("gen_ai.response.finish_reasons", reasons)
        _end_span(run.span, None)

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **_: Any) -> None:
        with self._lock:
            run = self._runs.pop(run_id, None)
        if run is not None and run.span is not None:
            _end_span(run.span, error)

    def _start_dream(self, run_id: UUID, inputs: Any, metadata: Mapping[str, Any]) -> None:
        tracer = get_tracer()
        attributes: Attributes = {"codreamer.resumed": inputs is None}
        if isinstance(dream_id := metadata.get("thread_id"), str):
            attributes["codreamer.dream.id"] = dream_id
        if isinstance(inputs, Mapping):
            for key, name in (("children_count", "k"), ("generations_count_int", "g")):
                if isinstance(value := inputs.get(key), int):
                    attributes[f"codreamer.{name}"] = value
        if isinstance(model := metadata.get("model"), str):  # LangServe's run setting
            attributes["codreamer.model"] = model
        span = _start_span(tracer, "dream", None, attributes) if tracer else None
        self._dreams[run_id] = _Dream(time.perf_counter(), tracer, span, attributes)
        self._runs[run_id] = _Run(run_id, "dream", "dream", span)

    def _start_step(self, run_id: UUID, dream_run: _Run, name: str) -> None:
        dream = self._dreams[dream_run.dream]
        span = None
        if dream.tracer is not None:
            span = _start_span(dream.tracer, name, dream.span, {"codreamer.step": name})
        self._runs[run_id] = _Run(dream_run.dream, "step", name, span, own_span=True)

    def _end_step(self, run: _Run, outputs: Any) -> None:
        dream = self._dreams.get(run.dream)
        if dream is not None and isinstance(outputs, Mapping):
            _note_summary(dream, outputs.get("metadata"))
        if run.span is not None:
            _end_span(run.span, None)
        if dream is not None and run.name == self.last_step:
            self._finish(dream, "completed", None)

    def _end_dream(self, run_id: UUID, error: BaseException | None) -> None:
        dream = self._dreams.pop(run_id, None)
        if dream is None:
            return
        if not dream.finished:
            if error is None:  # ended without its last step: nothing ran (a finished dream)
                if dream.span is not None:
                    dream.span.set_attribute("codreamer.status", "not_run")
                    dream.span.end()
            else:
                status: DreamStatus = "cancelled" if isinstance(error, CANCELLATIONS) else "failed"
                self._finish(dream, status, error)
        for other_id, run in list(self._runs.items()):  # runs that never reported their end
            if run.dream == run_id:
                del self._runs[other_id]
                if run.own_span and run.span is not None:
                    run.span.end()

    def _finish(self, dream: _Dream, status: DreamStatus, error: BaseException | None) -> None:
        dream.finished = True
        count_dream(status, time.perf_counter() - dream.started)
        if status == "completed":
            count_nodes(dream.nodes)
        if dream.span is None:
            return
        dream.span.set_attributes({**dream.attributes, "codreamer.status": status})
        if status == "failed" and error is not None:
            _end_span(dream.span, error)
        else:
            dream.span.set_status(StatusCode.OK if status == "completed" else StatusCode.UNSET)
            dream.span.end()


def _start_span(
    tracer: Tracer,
    name: str,
    parent: Span | None,
    attributes: Mapping[str, str | int | bool],
) -> Span:
    context = set_span_in_context(parent) if parent is not None else None
    return tracer.start_span(name, context=context, attributes=attributes)


def _end_span(span: Span, error: BaseException | None) -> None:
    if error is None:
        span.set_status(StatusCode.OK)
    elif isinstance(error, CANCELLATIONS):
        span.set_attribute("codreamer.cancelled", True)
    else:
        span.set_attribute("error.type", type(error).__name__)
        span.set_status(Status(StatusCode.ERROR, error_text(error)))
    span.end()


def _note_summary(dream: _Dream, metadata: Any) -> None:
    """What the dream's result says about it (finalize's `metadata`): model, nodes, calls."""
    if not isinstance(metadata, Mapping):
        return
    if isinstance(model := metadata.get("model"), str):
        dream.attributes["codreamer.model"] = model
    if isinstance(total := metadata.get("totalNodes"), int):
        dream.nodes = total
        dream.attributes["codreamer.nodes"] = total
    usage = metadata.get("usage")
    if isinstance(usage, Mapping) and isinstance(calls := usage.get("llm_calls"), int):
        dream.attributes["codreamer.llm_calls"] = calls


def _usage_of(response: LLMResult) -> tuple[int, int, Sequence[str]]:
    """Input and output tokens of an answer, and why it stopped."""
    input_tokens = output_tokens = 0
    reasons: list[str] = []
    for generations in response.generations:
        for generation in generations:
            if isinstance(generation, ChatGeneration):
                usage = getattr(generation.message, "usage_metadata", None) or {}
                input_tokens += usage.get("input_tokens", 0)
                output_tokens += usage.get("output_tokens", 0)
            reason = (generation.generation_info or {}).get("finish_reason")
            if isinstance(reason, str):
                reasons.append(reason)
    return input_tokens, output_tokens, reasons
