"""A loopback OpenAI-compatible chat server for tests and benchmarks.

It answers `/v1/embeddings` with bag-of-words vectors (texts sharing words are close), and
`/v1/chat/completions` requests with N deterministic `children`, `links` or `ratings` items
derived from the prompt, so the same prompt always gets the same answer: N and the kind come
from the request's JSON schema (minItems = maxItems = N), or without one from the prompt's
"Give N ..." line. It counts what it saw and can inject faults, refuse `response_format`
types, answer in prose, and enforce a rate limit.

`ratings` answer the evaluation's judge, one per `<link number="n">...</link>` block of the last
message, steered by the link's text: a link whose block says "irrelevant" (in any case, e.g. in
its rationale) is rated `on_topic` 1 and `connection` 1, every other link 5 and 5. Without such
blocks the N ratings are all 3.
"""

import asyncio
import hashlib
import json
import math
import re
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support.loopback import LoopbackServer


@dataclass
class Fault:
    """One scripted answer instead of a normal one: an HTTP status, or a broken body.

    With `echo_key`, the error message repeats the caller's bearer token (as OpenAI's 401 does).
    """

    status: int = 200
    body: str | None = None
    retry_after: float | None = None
    echo_key: bool = False
    code: str | None = None
    """The error's `code` (OpenAI's 429 says "insufficient_quota" when the quota is spent)."""


@dataclass
class ServerStats:
    calls: int = 0
    """Requests that reached the model: neither rate limited nor refused for their format."""
    answered: int = 0
    """Answers with HTTP 200 (broken or not)."""
    server_errors: int = 0
    rate_limited: int = 0
    """429s sent: by the rate limit or injected."""
    refused: int = 0
    """400s sent for a refused `response_format`."""
    formats: Counter = field(default_factory=Counter)
    """Requests by `response_format` type ("none" without one)."""
    input_tokens: int = 0
    output_tokens: int = 0
    embedded_texts: int = 0
    """Texts sent to `/v1/embeddings`."""
    in_flight: int = 0
    peak_in_flight: int = 0
    prompts: list[str] = field(default_factory=list)
    kinds: Counter = field(default_factory=Counter)
    attempts: Counter = field(default_factory=Counter)
    """How many times each prompt was asked."""


class FakeOpenAI:
    """Loopback OpenAI-compatible server on 127.0.0.1 (`url` ends in /v1)."""

    def __init__(self, latency: float = 0.0) -> None:
        self.latency = latency
        self.error_rate = 0.0
        """Share of answers that are HTTP 500s, drawn per (prompt, attempt) so reruns agree."""
        self.truncate_rate = 0.0
        """Share of answers whose JSON is cut in half."""
        self.faults: list[Fault] = []
        self.refused_formats: set[str] = set()
        """`response_format` types answered with HTTP 400, as servers without them do."""
        self.answer_style = "json"
        """"json"; "wrapped": JSON in code fences or prose; "text": prose, no JSON at all."""
        self.rate_limit: int | None = None
        """Requests allowed per rolling second; beyond it, 429 with Retry-After(-ms)."""
        self._admitted: deque[float] = deque()
        self.stats = ServerStats()
        self._lock = threading.Lock()
        self._server: LoopbackServer | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def reset(self) -> None:
        with self._lock:
            self.stats = ServerStats()
            self.faults = []
            self.error_rate = self.truncate_rate = 0.0
            self.refused_formats = set()
            self.answer_style = "json"
            self.rate_limit = None
            self._admitted.clear()

    def start(self) -> "FakeOpenAI":
        app = Starlette(
            routes=[
                Route("/v1/chat/completions", self._chat, methods=["POST"]),
                Route("/v1/models", self._models, methods=["GET"]),
                Route("/v1/embeddings", self._embeddings, methods=["POST"]),
            ]
        )
        self._server = LoopbackServer(app, backlog=4096)
        self.port = self._server.port
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()

    def __enter__(self) -> "FakeOpenAI":
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    async def _embeddings(self, request: Request) -> Response:
        body = await request.json()
        texts = [body["input"]] if isinstance(body["input"], str) else body["input"]
        with self._lock:
            self.stats.embedded_texts += len(texts)
        data = [
            {"object": "embedding", "index": index, "embedding": bag_of_words(text)}
            for index, text in enumerate(texts)
        ]
        return JSONResponse(
            {
                "object": "list",
                "data": data,
                "model": body["model"],
                "usage": {"prompt_tokens": 0, "total_tokens": 0},
            }
        )

    async def _models(self, request: Request) -> Response:
        return JSONResponse({"object": "list", "data": [{"id": "fake-model", "object": "model"}]})

    async def _chat(self, request: Request) -> Response:
        body = await request.json()
        body["authorization"] = request.headers.get("authorization", "")
        response_format = (body.get("response_format") or {}).get("type", "none")
        with self._lock:
            self.stats.formats[response_format] += 1
            if (refusal := self._refusal(response_format, body["messages"])) is not None:
                return refusal
            self.stats.in_flight += 1
            self.stats.peak_in_flight = max(self.stats.peak_in_flight, self.stats.in_flight)
            fault = self.faults.pop(0) if self.faults else None
        try:
            if self.latency:
                await asyncio.sleep(self.latency)
            return self._answer(body, fault)
        finally:
            with self._lock:
                self.stats.in_flight -= 1

    def _refusal(self, response_format: str, messages: list[Any]) -> Response | None:
        """A 429 beyond the rate limit, or a 400 for a refused format (call under the lock)."""
        now = time.monotonic()
        while self._admitted and self._admitted[0] <= now - 1.0:
            self._admitted.popleft()
        if self.rate_limit is not None and len(self._admitted) >= self.rate_limit:
            self.stats.rate_limited += 1
            wait = self._admitted[0] + 1.0 - now
            headers = {
                "retry-after": str(math.ceil(wait)),
                "retry-after-ms": str(round(wait * 1000)),
            }
            error = {"error": {"message": "Rate limit reached", "code": "rate_limit_exceeded"}}
            return JSONResponse(error, status_code=429, headers=headers)
        if response_format in self.refused_formats:
            self.stats.refused += 1
            message = f"response_format {response_format} is not supported by this model"
            return JSONResponse({"error": {"message": message}}, status_code=400)
        if response_format == "json_object" and "json" not in json.dumps(messages).lower():
            self.stats.refused += 1
            message = "'messages' must contain the word 'json' to use json_object"
            return JSONResponse({"error": {"message": message}}, status_code=400)
        self._admitted.append(now)
        return None

    def _random_fault(self, prompt: str, attempt: int, content: str) -> Fault | None:
        draw = _draw(prompt, attempt)
        if draw < self.error_rate:
            return Fault(status=500)
        if draw < self.error_rate + self.truncate_rate:
            return Fault(body=content[: len(content) // 2])
        return None

    def _answer(self, body: dict[str, Any], fault: Fault | None) -> Response:
        prompt = "\n".join(str(message.get("content", "")) for message in body["messages"])
        kind, count = asked_items(body)
        last = str(body["messages"][-1].get("content", ""))
        items = make_items(kind, count, last if kind == "ratings" else prompt)
        content = styled(self.answer_style, kind, items, prompt)
        input_tokens, output_tokens = len(prompt) // 4, len(content) // 4
        with self._lock:
            attempt = self.stats.attempts[prompt]
            self.stats.attempts[prompt] += 1
            self.stats.calls += 1
            self.stats.kinds[kind] += 1
            self.stats.prompts.append(prompt)
        if fault is None:
            fault = self._random_fault(prompt, attempt, content)
        with self._lock:
            if fault is None or fault.status == 200:
                self.stats.answered += 1
                self.stats.input_tokens += input_tokens
                self.stats.output_tokens += output_tokens
            elif fault.status == 429:
                self.stats.rate_limited += 1
            elif fault.status >= 500:
                self.stats.server_errors += 1
        if fault is not None and fault.status != 200:
            headers = (
                {"retry-after": str(fault.retry_after)} if fault.retry_after is not None else {}
            )
            message = f"injected {fault.status}"
            if fault.echo_key:
                message += f": incorrect API key provided: {body['authorization'].split()[-1]}"
            error = {"error": {"message": message, "type": "server_error", "code": fault.code}}
            return JSONResponse(error, status_code=fault.status, headers=headers)
        if fault is not None and fault.body is not None:
            content = fault.body
        return JSONResponse(
            {
                "id": "chatcmpl-loopback",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", "fake-model"),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {
                    "prompt_tokens": input_tokens,
                    "completion_tokens": output_tokens,
                    "total_tokens": input_tokens + output_tokens,
                },
            }
        )


EMBEDDING_DIMENSIONS = 64


def bag_of_words(text: str) -> list[float]:
    """A unit vector with a bucket per word (by hash): texts sharing words are close."""
    vector = [0.0] * EMBEDDING_DIMENSIONS
    for word in re.findall(r"[a-z0-9]+", text.lower()):
        vector[int(hashlib.sha256(word.encode()).hexdigest(), 16) % EMBEDDING_DIMENSIONS] += 1.0
    norm = math.sqrt(sum(value * value for value in vector)) or 1.0
    return [value / norm for value in vector]


def _draw(prompt: str, attempt: int) -> float:
    digest = hashlib.sha256(f"{attempt}:{prompt}".encode()).hexdigest()
    return int(digest[:8], 16) / 0x1_0000_0000


def asked_items(body: dict[str, Any]) -> tuple[str, int]:
    """("children" | "links" | "ratings", N) from the request's JSON schema, else from
    "Give N ..."."""
    response_format = body.get("response_format") or {}
    if response_format.get("type") == "json_schema":
        properties = response_format["json_schema"]["schema"]["properties"]
        kind = next((k for k in ("children", "ratings") if k in properties), "links")
        return kind, properties[kind]["minItems"]
    asked = re.search(r"Give (\d+) (\w+)", str(body["messages"][-1].get("content", "")))
    if asked is None:
        raise ValueError("no JSON schema and no 'Give N ...' in the last message")
    kind = asked[2] if asked[2] in ("links", "ratings") else "children"
    return kind, int(asked[1])


def styled(style: str, kind: str, items: list[dict[str, Any]], prompt: str) -> str:
    """The answer's text: plain JSON; JSON wrapped as chatty models do (in a code fence with
    prose, in prose with a trailing comma, or as a bare list); or prose with no JSON at all."""
    document = json.dumps({kind: items})
    if style == "json":
        return document
    digest = hashlib.sha256(prompt.encode()).hexdigest()[:8]
    if style == "text":
        return f"[mock response {digest}] Here are a few thoughts about your customer."
    wrappings = [
        f"Sure! Here is the JSON you asked for:\n```json\n{document}\n```\nHope this helps.",
        f"Here you go: {document[:-2]},]}} Let me know if you need more.",
        f"```\n{json.dumps(items, indent=2)}\n```",
    ]
    return wrappings[int(digest, 16) % len(wrappings)]


def make_items(kind: str, count: int, prompt: str) -> list[dict[str, Any]]:
    """`count` deterministic items for a prompt: the same prompt gives the same items."""
    if kind == "ratings":
        return make_ratings(count, prompt)
    digest = hashlib.sha256(prompt.encode()).hexdigest()[:8]
    if kind == "children":
        return [
            {
                "name": f"Idea {digest} {index}",
                "content": f"Idea {index} grown from prompt {digest}.",
                "relationship": "leads to",
                "rationale": f"Because of reason {index}.",
            }
            for index in range(count)
        ]
    return [
        {"relationship": "is solved by", "rationale": f"The product helps with idea {index + 1}."}
        for index in range(count)
    ]


LINK_BLOCK = re.compile(r'<link number="(\d+)">(.*?)</link>', re.DOTALL)


def make_ratings(count: int, message: str) -> list[dict[str, Any]]:
    """A judge's `count` ratings of the links in `message`: 1s for a link that says
    "irrelevant", 5s for the others (3s for all when the message holds no link blocks)."""
    blocks = {int(number): text for number, text in LINK_BLOCK.findall(message)}
    ratings = []
    for number in range(1, count + 1):
        text = blocks.get(number)
        score = 3 if text is None else 1 if "irrelevant" in text.lower() else 5
        ratings.append({"link": number, "on_topic": score, "connection": score})
    return ratings
