"""One structured LLM call, retried with backoff, bounded per dream, with its usage counted."""

import asyncio
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import cache, partial
from typing import Any, Generic, TypeVar

import openai
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, ValidationError
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from graph.context import DreamContext
from graph.quality import normalised
from graph.settings import get_settings, redact
from graph.state import Usage, empty_usage
from nodes.answer_cache import AnswerCache, open_answer_cache
from nodes.llm import LoadedModel, load_chat_model
from nodes.prompts import SYSTEM_PROMPT

SchemaT = TypeVar("SchemaT", bound=BaseModel)
MAX_RETRY_AFTER_SECONDS = 60.0
UNREACHABLE_ATTEMPTS = 3
_backoff = wait_exponential_jitter(multiplier=0.5, max=8, jitter=0.5)
_limiters: weakref.WeakValueDictionary[str, asyncio.Semaphore] = weakref.WeakValueDictionary()


class LLMUnavailableError(RuntimeError):
    """The LLM endpoint cannot serve this dream (unreachable, key or model refused). Fatal."""


class AnswerRejectedError(ValueError):
    """The model answered, but not with what was asked (bad JSON, wrong number of items)."""


@dataclass
class CallOutcome(Generic[SchemaT]):
    """The parsed answer (None if every attempt failed), the usage spent, and each failure."""

    value: SchemaT | None = None
    usage: Usage = field(default_factory=empty_usage)
    failures: list[str] = field(default_factory=list)


@cache
def response_format(schema: type[BaseModel]) -> dict[str, Any]:
    """OpenAI's `response_format` for `schema`, built once per schema.

    It travels in `extra_body`: the client then sends it as is instead of walking the whole
    JSON schema on every call (5 ms of CPU per call, measured).
    """
    return {
        "type": "json_schema",
        "json_schema": {"name": schema.__name__, "schema": schema.model_json_schema()},
    }


def first_items(
    count: int, field: str, distinct: str | None = None
) -> Callable[[SchemaT], SchemaT]:
    """A check keeping the first `count` items of list `field`, rejecting answers with fewer,
    or (with `distinct`) whose kept items repeat that attribute (compared loosely)."""

    def check(answer: SchemaT) -> SchemaT:
        items = getattr(answer, field)[:count]
        if len(items) < count:
            raise AnswerRejectedError(f"asked for {count} {field}, got {len(items)}")
        if distinct and len({normalised(getattr(item, distinct)) for item in items}) < count:
            raise AnswerRejectedError(f"{field} repeat a {distinct}; asked for different ones")
        return answer.model_copy(update={field: items})

    return check


async def ask_model(
    context: DreamContext,
    dream_id: str,
    schema: type[SchemaT],
    *,
    example: tuple[str, str],
    prompt: str,
    items: str,
    count: int,
    max_tokens: int,
    distinct: str | None = None,
) -> CallOutcome[SchemaT]:
    """Ask the run's model for `count` `items` in `schema`, after one worked example
    (or take its accepted answer from the LLM cache, when one is set)."""
    model = load_chat_model(context.model, context.temperature, context.llm_timeout)
    messages: list[BaseMessage] = [
        SystemMessage(SYSTEM_PROMPT),
        HumanMessage(example[0]),
        AIMessage(example[1]),
        HumanMessage(prompt),
    ]
    check = first_items(count, items, distinct)
    call = partial(
        call_structured,
        model,
        schema,
        messages,
        check=check,
        retries=context.llm_retries,
        limiter=dream_limiter(dream_id, context.max_concurrency),
        max_tokens=max_tokens,
    )
    cache_path = get_settings().llm_cache
    if cache_path is None:
        return await call()
    answers = open_answer_cache(cache_path)
    request = {
        "temperature": context.temperature,
        "max_tokens": max_tokens,
        "response_format": response_format(schema),
        "messages": [(message.type, message.text) for message in messages],
    }
    return await _through_cache(answers, answers.key(model.name, request), schema, check, call)


async def _through_cache(
    answers: AnswerCache,
    key: str,
    schema: type[SchemaT],
    check: Callable[[SchemaT], SchemaT],
    call: Callable[[], Awaitable[CallOutcome[SchemaT]]],
) -> CallOutcome[SchemaT]:
    """The cached answer if it still passes `check`; else `call`, storing what it accepted."""
    if (cached := await answers.lookup(key)) is not None:
        try:
            value = _accept(cached, schema, check)
        except AnswerRejectedError:
            pass  # stored under other checks: ask the model instead
        else:
            outcome = CallOutcome(value=value)
            outcome.usage["cached_answers"] += 1
            return outcome
    outcome = await call()
    if outcome.value is not None:
        await answers.store(key, outcome.value.model_dump_json())
    return outcome


def dream_limiter(dream_id: str, max_concurrency: int) -> asyncio.Semaphore:
    """The semaphore bounding one dream's LLM calls in flight (shared by all its tasks)."""
    limiter = _limiters.get(dream_id)
    if limiter is None:
        limiter = asyncio.Semaphore(max_concurrency)
        _limiters[dream_id] = limiter
    return limiter


async def call_structured(
    model: LoadedModel,
    schema: type[SchemaT],
    messages: list[BaseMessage],
    *,
    check: Callable[[SchemaT], SchemaT],
    retries: int,
    limiter: asyncio.Semaphore,
    max_tokens: int,
) -> CallOutcome[SchemaT]:
    """Ask for `schema`; retry transport errors, 429/5xx, bad JSON and answers `check` rejects.

    Raises `LLMUnavailableError` when the endpoint is unreachable or refuses the request.
    """
    outcome: CallOutcome[SchemaT] = CallOutcome()
    runnable = model.chat_model.bind(
        max_tokens=max_tokens, extra_body={"response_format": response_format(schema)}
    )
    retrying = AsyncRetrying(
        stop=stop_after_attempt(retries + 1) | _stop_when_unreachable,
        wait=retry_wait,
        retry=retry_if_exception(_is_retryable),
        reraise=True,
    )
    try:
        async for attempt in retrying:
            with attempt:
                try:
                    async with limiter:
                        answer = await runnable.ainvoke(messages)
                    _count(outcome.usage, answer)
                    outcome.value = _accept(answer.text, schema, check)
                except Exception as error:
                    if isinstance(error, openai.APIStatusError):
                        outcome.usage["llm_calls"] += 1
                    outcome.failures.append(_describe(error, model))
                    raise
    except AnswerRejectedError:
        return outcome
    except openai.APIConnectionError as error:
        refused = _refused_connection(error)
        if refused is None:
            return outcome
        raise LLMUnavailableError(
            redact(f"LLM endpoint {model.endpoint} is unreachable: {refused}")
        ) from None
    except openai.APIStatusError as error:
        if _is_retryable(error):
            return outcome
        raise LLMUnavailableError(
            redact(
                f"LLM endpoint {model.endpoint} refused the request (HTTP {error.status_code}): "
                f"{error.message}. Check the model name and API key settings."
            )
        ) from None
    return outcome


def _accept(answer: str, schema: type[SchemaT], check: Callable[[SchemaT], SchemaT]) -> SchemaT:
    """Parse the answer's JSON into `schema`, then let `check` keep or reject it."""
    try:
        parsed = schema.model_validate_json(answer)
    except ValidationError as error:
        reason = error.errors()[0]["msg"] if error.errors() else str(error)
        raise AnswerRejectedError(f"answer does not match the schema: {reason}") from None
    return check(parsed)


def _count(usage: Usage, message: BaseMessage) -> None:
    usage["llm_calls"] += 1
    metadata = getattr(message, "usage_metadata", None) or {}
    usage["input_tokens"] += metadata.get("input_tokens", 0)
    usage["output_tokens"] += metadata.get("output_tokens", 0)


def _refused_connection(error: BaseException) -> OSError | None:
    """The socket error under a connection failure, if the endpoint could not be reached at all.

    A slow answer (read timeout) is not one: that call failed, the endpoint is up.
    """
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, OSError) and not isinstance(cause, TimeoutError):
            return cause
        cause = cause.__cause__ or cause.__context__
    return None


def _stop_when_unreachable(state: RetryCallState) -> bool:
    """Give up early on an endpoint that refuses connections: fail the dream in seconds."""
    error = state.outcome.exception() if state.outcome else None
    return (
        state.attempt_number >= UNREACHABLE_ATTEMPTS
        and error is not None
        and _refused_connection(error) is not None
    )


def _is_retryable(error: BaseException) -> bool:
    if isinstance(error, openai.APIStatusError):
        return error.status_code in (408, 409, 429) or error.status_code >= 500
    return isinstance(error, AnswerRejectedError | openai.APIConnectionError)


def retry_wait(state: RetryCallState) -> float:
    """Ask again at once after a rejected answer (the endpoint is fine, waiting changes nothing);
    honour a 429's Retry-After; otherwise exponential backoff with jitter."""
    error = state.outcome.exception() if state.outcome else None
    if isinstance(error, AnswerRejectedError):
        return 0.0
    if isinstance(error, openai.APIStatusError):
        retry_after = error.response.headers.get("retry-after")
        try:
            return min(float(retry_after), MAX_RETRY_AFTER_SECONDS)
        except (TypeError, ValueError):
            pass
    return _backoff(state)


def _describe(error: BaseException, model: LoadedModel) -> str:
    if isinstance(error, openai.APIStatusError):
        return redact(f"{model.name}: HTTP {error.status_code} {error.message}")
    return redact(f"{model.name}: {type(error).__name__}: {error}")
