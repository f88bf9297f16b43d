"""The Tavily search client (or any Tavily-compatible endpoint at TAVILY_API_URL)."""

import asyncio
import time
import weakref
from dataclasses import dataclass
from typing import Any

import httpx
from tavily import AsyncTavilyClient
from tavily.errors import (
    BadRequestError,
    ForbiddenError,
    InvalidAPIKeyError,
    UsageLimitExceededError,
)
from tavily.errors import TimeoutError as SearchTimeoutError
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from core.settings import get_settings, redact

TAVILY_URL = "https://api.tavily.com"
SEARCH_TIMEOUT = 30.0
SEARCH_ATTEMPTS = 3
REFUSAL_MEMORY = 300.0
MAX_RESULTS = 5
_clients: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[tuple[str, str | None], "SearchClient"]
] = weakref.WeakKeyDictionary()


class SearchFailedError(RuntimeError):
    """A search that failed after its retries; the idea stays unverified, the dream goes on."""


class SearchRefusedError(SearchFailedError):
    """The endpoint refused the key or the plan is spent: no later search of the dream can work."""


class _TransientError(Exception):
    """A failure worth retrying: a timeout, a transport error, a 5xx, a rate limit."""


def search_endpoint() -> str:
    """Where searches go (never with credentials)."""
    return (get_settings().tavily_api_url or TAVILY_URL).rstrip("/")


async def search(query: str) -> dict[str, Any]:
    """Tavily's answer to `query` (basic depth, with a short answer and the credits used)."""
    try:
        async for attempt in AsyncRetrying(
            stop=stop_after_attempt(SEARCH_ATTEMPTS),
            wait=wait_exponential_jitter(multiplier=0.5, max=8),
            retry=retry_if_exception_type(_TransientError),
            reraise=True,
        ):
            with attempt:
                return await _search_once(query)
    except _TransientError as error:
        raise SearchFailedError(
            f"the search failed after {SEARCH_ATTEMPTS} attempts: {error}"
        ) from None
    raise AssertionError("unreachable: tenacity returns or raises")


async def _search_once(query: str) -> dict[str, Any]:
    endpoint = search_endpoint()
    client = _client()
    if (refusal := client.refused()) is not None:
        raise SearchRefusedError(f"not searched: {refusal}")
    try:
        answer = await client.tavily.search(
            query,
            search_depth="basic",
            max_results=MAX_RESULTS,
            include_answer="basic",
            include_usage=True,
            timeout=SEARCH_TIMEOUT,
        )
    except (InvalidAPIKeyError, ForbiddenError) as error:
        refusal = redact(f"{endpoint} refused the search (key or plan): {error or 'no detail'}")
        client.remember_refusal(refusal)
        raise SearchRefusedError(refusal) from None
    except BadRequestError as error:
        raise SearchFailedError(redact(f"{endpoint} refused the query: {error}")) from None
    except UsageLimitExceededError as error:
        raise _TransientError(redact(f"{endpoint} is rate limiting (HTTP 429): {error}")) from None
    except SearchTimeoutError:
        raise _TransientError(f"{endpoint} did not answer in {SEARCH_TIMEOUT:g} s") from None
    except httpx.HTTPStatusError as error:
        raise _TransientError(f"{endpoint} answered HTTP {error.response.status_code}") from None
    except httpx.TransportError as error:
        raise _TransientError(f"{endpoint} is unreachable: {type(error).__name__}") from None
    except ValueError:
        raise _TransientError(f"{endpoint} answered something that is not JSON") from None
    if not isinstance(answer, dict) or not isinstance(answer.get("results"), list):
        raise _TransientError(f"{endpoint} answered JSON without a list of results")
    return answer


@dataclass
class SearchClient:
    """Tavily's client over an HTTP client of ours (which we close), and the endpoint's last
    refusal of the key: searches stop for REFUSAL_MEMORY seconds rather than fail one by one."""

    tavily: AsyncTavilyClient
    http: httpx.AsyncClient
    refusal: str | None = None
    refused_at: float = 0.0

    def refused(self) -> str | None:
        if self.refusal and time.monotonic() - self.refused_at < REFUSAL_MEMORY:
            return self.refusal
        return None

    def remember_refusal(self, reason: str) -> None:
        self.refusal, self.refused_at = reason, time.monotonic()


def _client() -> SearchClient:
    """One client per event loop, endpoint and key: async HTTP clients cannot cross loops."""
    secret = get_settings().tavily_api_key
    key = secret.get_secret_value() if secret else None
    clients = _clients.setdefault(asyncio.get_running_loop(), {})
    endpoint = search_endpoint()
    if (endpoint, key) not in clients:
        http = httpx.AsyncClient(base_url=endpoint)
        clients[endpoint, key] = SearchClient(AsyncTavilyClient(api_key=key, client=http), http)
    return clients[endpoint, key]


async def close_search_clients() -> None:
    """Close this event loop's search clients (call before the loop ends)."""
    for client in _clients.pop(asyncio.get_running_loop(), {}).values():
        await client.http.aclose()
