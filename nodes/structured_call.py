"""One structured LLM call: in the strongest output mode the endpoint accepts, riding out its
rate limits, retried with backoff, bounded per dream, with its usage counted."""

import asyncio
import random
import time
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Generic, TypeVar, cast

import openai
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)
from tenacity.stop import stop_base

from core.context import DreamContext
from core.settings import get_settings, redact
from core.state import Usage, empty_usage
from nodes.answer_cache import AnswerCache, open_answer_cache
from nodes.copies import copied_sentence
from nodes.json_answers import AnswerRejectedError, parse_strict, parse_tolerant
from nodes.llm import LoadedModel, load_chat_model
from nodes.output_modes import fall_back, messages_for, request_format, working_mode
from nodes.prompts import SYSTEM_PROMPT
from nodes.rate_limit import EndpointThrottle, retry_after_seconds, throttle_for
from outputs.quality import normalised
from telemetry.metrics import count_llm_answer, timed_llm_request

SchemaT = TypeVar("SchemaT", bound=BaseModel)
UNREACHABLE_ATTEMPTS = 3
RATE_LIMIT_PATIENCE_S = 600.0
"""How long one call rides out rate limits (429, overload with Retry-After) before it fails."""
REFUSED_MODE_STATUSES = (400, 422)
OVERLOAD_STATUSES = (503, 529)
_backoff = wait_exponential_jitter(multiplier=0.5, max=8, jitter=0.5)
_limiters: weakref.WeakValueDictionary[str, asyncio.Semaphore] = weakref.WeakValueDictionary()


class LLMUnavailableError(RuntimeError):
    """The LLM endpoint cannot serve this dream (unreachable, key or model refused). Fatal."""


@dataclass
class CallOutcome(Generic[SchemaT]):
    """The parsed answer (None if every attempt failed), the usage spent, and each failure."""

    value: SchemaT | None = None
    usage: Usage = field(default_factory=empty_usage)
    failures: list[str] = field(default_factory=list)
    mode: str | None = None
    """The structured-output mode the answer came in (see `core.state.OUTPUT_MODES`)."""


class WeakAnswerError(AnswerRejectedError):
    """The answer holds what was asked, but repeats itself or copies the prompt: asked again,
    and on the last attempt kept (its problem noted) rather than losing a whole subtree."""

    def __init__(self, message: str, answer: BaseModel) -> None:
        super().__init__(message)
        self.answer = answer


def first_items(
    count: int, field: str, distinct: str | None = None, prompt_data: tuple[str, ...] = ()
) -> Callable[[SchemaT], SchemaT]:
    """A check keeping the first `count` items of list `field`: it rejects answers with fewer,
    and weakly (see `WeakAnswerError`) ones whose items repeat `distinct` (compared loosely)
    or whose content or rationale copies the worked example or restates `prompt_data`."""

    def check(answer: SchemaT) -> SchemaT:
        items = getattr(answer, field)[:count]
        if len(items) < count:
            raise AnswerRejectedError(f"asked for {count} {field}, got {len(items)}")
        kept = answer.model_copy(update={field: items})
        if distinct and len({normalised(getattr(item, distinct)) for item in items}) < count:
            raise WeakAnswerError(f"{field} repeat a {distinct}; asked for different ones", kept)
        for item in items:
            for text in (getattr(item, "content", ""), item.rationale):
                if (copied := copied_sentence(text, prompt_data)) is not None:
                    raise WeakAnswerError(
                        f"{field} copy the prompt instead of answering it: {copied!r}", kept
                    )
        return kept

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
    prompt_data: tuple[str, ...] = (),
) -> CallOutcome[SchemaT]:
    """Ask the run's model for `count` `items` in `schema`, after one worked example
    (or take its accepted answer from the LLM cache, when one is set). `prompt_data` is what
    the prompt shows (customer, product, points): an answer that only restates it is weak."""
    model = load_chat_model(context.model, context.temperature, context.llm_timeout)
    messages: list[BaseMessage] = [
        SystemMessage(SYSTEM_PROMPT),
        HumanMessage(example[0]),
        AIMessage(example[1]),
        HumanMessage(prompt),
    ]
    check = first_items(count, items, distinct, prompt_data)
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

    def key(mode: str) -> str:
        request = {
            "temperature": context.temperature,
            "max_tokens": max_tokens,
            "response_format": request_format(mode, schema),
            "messages": [(m.type, m.text) for m in messages_for(mode, schema, messages)],
        }
        return answers.key(model.name, request)

    mode = working_mode(model.endpoint, model.name)
    return await _through_cache(answers, key, mode, schema, check, call)


async def _through_cache(
    answers: AnswerCache,
    key: Callable[[str], str],
    mode: str,
    schema: type[SchemaT],
    check: Callable[[SchemaT], SchemaT],
    call: Callable[[], Awaitable[CallOutcome[SchemaT]]],
) -> CallOutcome[SchemaT]:
    """The answer cached for the request in `mode`, if it still passes `check`; else `call`,
    storing what it accepted under the request of the mode that answered."""
    if (cached := await answers.lookup(key(mode))) is not None:
        try:
            value = check(parse_strict(cached, schema))
        except AnswerRejectedError:
            pass  # stored under other checks: ask the model instead
        else:
            outcome = CallOutcome(value=value, mode=mode)
            outcome.usage["cached_answers"] += 1
            return outcome
    outcome = await call()
    if outcome.value is not None and outcome.mode is not None:
        await answers.store(key(outcome.mode), outcome.value.model_dump_json())
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
    """Ask for `schema`; retry transport errors, 5xx, bad JSON and answers `check` rejects.

    Output modes the endpoint refuses and its rate limits cost none of the `retries`.
    Raises `LLMUnavailableError` when the endpoint is unreachable or refuses the request.
    """
    throttle = throttle_for(model.endpoint, model.name, get_settings().max_concurrency)
    call = _Call(model, schema, messages, limiter, throttle, max_tokens)
    retrying = AsyncRetrying(
        stop=stop_after_attempt(retries + 1) | _StopWhenUnreachable(),
        wait=retry_wait,
        retry=retry_if_exception(_is_retryable),
        reraise=True,
    )
    try:
        async for attempt in retrying:
            with attempt:
                await call.attempt(check, last=attempt.retry_state.attempt_number > retries)
    except AnswerRejectedError:
        return call.outcome
    except openai.APIConnectionError as error:
        refused = _refused_connection(error)
        if refused is None:
            return call.outcome
        raise LLMUnavailableError(
            redact(f"LLM endpoint {model.endpoint} is unreachable: {refused}")
        ) from None
    except openai.APIStatusError as error:
        if _is_retryable(error) or _is_rate_limit(error):
            return call.outcome
        raise LLMUnavailableError(
            redact(
                f"LLM endpoint {model.endpoint} refused the request (HTTP {error.status_code}): "
                f"{error.message}. Check the model name, the API key and its quota."
            )
        ) from None
    return call.outcome


class _Call(Generic[SchemaT]):
    """The requests of one call, their usage and failures, and the output mode it is in."""

    def __init__(
        self,
        model: LoadedModel,
        schema: type[SchemaT],
        messages: list[BaseMessage],
        limiter: asyncio.Semaphore,
        throttle: EndpointThrottle,
        max_tokens: int,
    ) -> None:
        self.model, self.schema, self.messages = model, schema, messages
        self.limiter, self.throttle, self.max_tokens = limiter, throttle, max_tokens
        self.outcome: CallOutcome[SchemaT] = CallOutcome()
        self.mode = working_mode(model.endpoint, model.name)
        self.requests = 0
        self.rate_limited_since: float | None = None

    async def attempt(self, check: Callable[[SchemaT], SchemaT], *, last: bool) -> None:
        """One attempt of the retry loop: ask until the endpoint answers (falling back from
        refused output modes, waiting out rate limits), then accept or reject the answer;
        the `last` attempt keeps a weak answer."""
        while True:
            try:
                answer = await self._send()
            except openai.APIStatusError as error:
                refused_mode = error.status_code in REFUSED_MODE_STATUSES
                wait = self._fall_back() if refused_mode else self._ride(error)
                if wait is None:
                    raise
                await asyncio.sleep(wait)
                continue
            try:
                self.outcome.value = check(self._parse(answer))
            except WeakAnswerError as error:
                self.outcome.failures.append(_describe(error, self.model))
                if not last:
                    raise
                self.outcome.failures[-1] += " (kept: it was the last attempt)"
                self.outcome.value = cast(SchemaT, error.answer)
            except AnswerRejectedError as error:
                self.outcome.failures.append(_describe(error, self.model))
                raise
            self.outcome.mode = self.mode
            return

    async def _send(self) -> BaseMessage:
        usage = self.outcome.usage
        if self.requests:
            usage["retries"] += 1
        self.requests += 1
        response_format = request_format(self.mode, self.schema)
        extra = {"extra_body": {"response_format": response_format}} if response_format else {}
        runnable = self.model.chat_model.bind(max_tokens=self.max_tokens, **extra)
        messages = messages_for(self.mode, self.schema, self.messages)
        async with self.limiter, self.throttle.slot() as started:
            try:
                with timed_llm_request(self.model.name):
                    answer = await runnable.ainvoke(messages)
            except Exception as error:
                self.outcome.failures.append(_describe(error, self.model))
                self._count_failure(error, started)
                raise
            self.throttle.answered()
        usage["llm_calls"] += 1
        metadata = getattr(answer, "usage_metadata", None) or {}
        usage["input_tokens"] += metadata.get("input_tokens", 0)
        usage["output_tokens"] += metadata.get("output_tokens", 0)
        count_llm_answer(
            self.model.name, metadata.get("input_tokens", 0), metadata.get("output_tokens", 0)
        )
        return answer

    def _count_failure(self, error: Exception, started: float) -> None:
        usage = self.outcome.usage
        if isinstance(error, openai.APIConnectionError):
            usage["server_errors"] += 1
        if not isinstance(error, openai.APIStatusError):
            return
        if error.status_code == 429:
            usage["rate_limited"] += 1
        elif error.status_code >= 500:
            usage["server_errors"] += 1
        if error.status_code == 429 or error.status_code in OVERLOAD_STATUSES:
            self.throttle.pushed_back(started, retry_after_seconds(error.response.headers))

    def _parse(self, answer: BaseMessage) -> SchemaT:
        if self.mode == "json_schema":
            return parse_strict(answer.text, self.schema)
        if answer.response_metadata.get("finish_reason") == "length":
            raise AnswerRejectedError("answer was cut off at max_tokens")
        return parse_tolerant(answer.text, self.schema)

    def _fall_back(self) -> float | None:
        """Ask again at once in the next output mode; None when even the prompt was refused."""
        mode = fall_back(self.model.endpoint, self.model.name, self.mode)
        if mode is None:
            return None
        self.outcome.failures[-1] += f" (refused {self.mode} output; asking in {mode} mode)"
        self.mode = mode
        return 0.0

    def _ride(self, error: openai.APIStatusError) -> float | None:
        """How long to wait before asking again after a rate limit (the endpoint's pause
        covers a Retry-After); None for other errors, or once patience has run out."""
        retry_after = retry_after_seconds(error.response.headers)
        if not _is_rate_limit(error) and not (
            error.status_code in OVERLOAD_STATUSES and retry_after is not None
        ):
            return None
        now = time.monotonic()
        self.rate_limited_since = self.rate_limited_since or now
        if now - self.rate_limited_since > RATE_LIMIT_PATIENCE_S:
            self.outcome.failures[-1] += f" (rate limited for {RATE_LIMIT_PATIENCE_S:.0f} s)"
            return None
        self.outcome.failures[-1] += " (rate limit: waited out, no retry spent)"
        if retry_after is not None:
            return 0.0  # the endpoint's pause makes every caller wait
        return random.uniform(0, min(8.0, 0.5 * 2 ** self.outcome.usage["rate_limited"]))


def _is_rate_limit(error: openai.APIStatusError) -> bool:
    """A 429 to wait out (an exhausted quota is a 429 too, but no wait ends it)."""
    return error.status_code == 429 and error.code != "insufficient_quota"


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


class _StopWhenUnreachable(stop_base):
    """Give up early on an endpoint that refuses connections: fail the dream in seconds.

    A `stop_base` rather than a function, because `stop_base.__or__` is typed to take one.
    """

    def __call__(self, state: RetryCallState) -> bool:
        error = state.outcome.exception() if state.outcome else None
        return (
            state.attempt_number >= UNREACHABLE_ATTEMPTS
            and error is not None
            and _refused_connection(error) is not None
        )


def _is_retryable(error: BaseException) -> bool:
    """Worth another attempt from the retry budget (rate limits are waited out before)."""
    if isinstance(error, openai.APIStatusError):
        return error.status_code in (408, 409) or error.status_code >= 500
    return isinstance(error, AnswerRejectedError | openai.APIConnectionError)


def retry_wait(state: RetryCallState) -> float:
    """Ask again at once after a rejected answer (the endpoint is fine, waiting changes nothing);
    honour a server error's Retry-After; otherwise exponential backoff with jitter."""
    error = state.outcome.exception() if state.outcome else None
    if isinstance(error, AnswerRejectedError):
        return 0.0
    if isinstance(error, openai.APIStatusError):
        retry_after = retry_after_seconds(error.response.headers)
        if retry_after is not None:
            return retry_after
    return _backoff(state)


def _describe(error: BaseException, model: LoadedModel) -> str:
    if isinstance(error, openai.APIStatusError):
        return redact(f"{model.name}: HTTP {error.status_code} {error.message}")
    return redact(f"{model.name}: {type(error).__name__}: {error}")
