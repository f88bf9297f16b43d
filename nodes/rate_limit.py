"""Riding out an endpoint's rate limits: fewer requests in flight after it pushes back, more
again after it answers, and a pause for every caller until the time its `Retry-After` names.

No well-kept library does adaptive concurrency for asyncio, so this is a small AIMD window
(additive increase, multiplicative decrease, as TCP congestion control). It is kept per
endpoint and model, as providers count their limits per model.
"""

import asyncio
import math
import time
import weakref
from collections import deque
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from email.utils import parsedate_to_datetime

MAX_RETRY_AFTER_SECONDS = 60.0
_throttles: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[tuple[str, str], "EndpointThrottle"]
] = weakref.WeakKeyDictionary()


class EndpointThrottle:
    """Requests in flight to one endpoint and model: unbounded until it pushes back (429,
    overload), then a window halved on each push-back and grown by one per window's worth of
    answers, opened again once it reaches `ceiling`. A push-back's Retry-After pauses every
    caller."""

    def __init__(self, ceiling: int) -> None:
        self.ceiling = ceiling
        self.limit = math.inf
        self.in_flight = 0
        self.paused_until = 0.0
        self._last_decrease = -math.inf
        self._waiters: deque[asyncio.Future[None]] = deque()

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[float]:
        """Hold a place in the window once any pause is over; yields when the request starts."""
        await self._enter()
        try:
            pause = self.paused_until - time.monotonic()
            while pause > 0:  # a push-back during the pause may lengthen it
                await asyncio.sleep(pause)
                pause = self.paused_until - time.monotonic()
            yield time.monotonic()
        finally:
            self.in_flight -= 1
            self._wake()

    def answered(self) -> None:
        """The endpoint answered: widen the window (by one once a whole window answered)."""
        if self.limit < math.inf:
            self.limit += 1 / self.limit
            if self.limit >= self.ceiling:
                self.limit = math.inf
            self._wake()

    def pushed_back(self, started: float, retry_after: float | None) -> None:
        """A request started at `started` was refused for load: pause everyone until
        `retry_after` seconds from now, and halve the window once per episode (requests
        already in flight when it was halved do not halve it again)."""
        now = time.monotonic()
        if retry_after is not None:
            self.paused_until = max(self.paused_until, now + retry_after)
        if started >= self._last_decrease:
            self.limit = max(1.0, min(self.limit, self.in_flight) / 2)
            self._last_decrease = now

    async def _enter(self) -> None:
        if self.in_flight < self.limit and not self._waiters:
            self.in_flight += 1
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.in_flight -= 1  # the slot was handed over as the caller was cancelled
                self._wake()
            else:
                self._waiters.remove(waiter)
            raise

    def _wake(self) -> None:
        """Hand free places in the window to the callers waiting longest."""
        while self._waiters and self.in_flight < self.limit:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self.in_flight += 1
                waiter.set_result(None)


def throttle_for(endpoint: str, model: str, ceiling: int) -> EndpointThrottle:
    """The throttle of `model` at `endpoint` on this event loop (futures cannot cross loops)."""
    throttles = _throttles.setdefault(asyncio.get_running_loop(), {})
    key = (endpoint, model)
    if key not in throttles:
        throttles[key] = EndpointThrottle(ceiling)
    return throttles[key]


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """How long the endpoint asked callers to wait: `retry-after-ms`, else `Retry-After` in
    seconds or as an HTTP date; None if it did not say (capped at a minute)."""
    wait: float | None = None
    if (milliseconds := headers.get("retry-after-ms")) is not None:
        wait = _number(milliseconds, scale=0.001)
    if wait is None and (value := headers.get("retry-after")) is not None:
        wait = _number(value, scale=1.0)
        if wait is None:
            wait = _seconds_until(value)
    return None if wait is None else min(max(wait, 0.0), MAX_RETRY_AFTER_SECONDS)


def _number(text: str, scale: float) -> float | None:
    try:
        value = float(text) * scale
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _seconds_until(http_date: str) -> float | None:
    try:
        moment = parsedate_to_datetime(http_date)
    except (TypeError, ValueError):
        return None
    return moment.timestamp() - time.time()
