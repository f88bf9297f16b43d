"""A loopback OTLP/HTTP trace receiver: `POST /v1/traces` with a protobuf body, decoded with
opentelemetry-proto's `ExportTraceServiceRequest`. It keeps the raw bodies too, so a test can
search every byte a process exported (for a key, a prompt)."""

import gzip
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.support.loopback import LoopbackServer

PROTOBUF = "application/x-protobuf"


@dataclass
class ReceivedSpan:
    """One exported span, its ids as hex and its attributes and its resource's as plain values."""

    name: str
    trace_id: str
    span_id: str
    parent_id: str
    attributes: dict[str, Any]
    resource: dict[str, Any]
    status_code: int
    """0 unset, 1 ok, 2 error (`opentelemetry.proto.trace.v1.Status.StatusCode`)."""
    status_message: str
    start_ns: int
    end_ns: int
    events: list[str] = field(default_factory=list)


class FakeCollector:
    """An OTLP/HTTP receiver on 127.0.0.1 (`url` is the base a client's
    OTEL_EXPORTER_OTLP_ENDPOINT names); it answers every export with success."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.content_types: list[str] = []
        self._spans: list[ReceivedSpan] = []
        self._lock = threading.Lock()
        self._server: LoopbackServer | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def spans(self) -> list[ReceivedSpan]:
        with self._lock:
            return list(self._spans)

    def wait_for(self, name: str, timeout: float = 30) -> ReceivedSpan:
        """The first span called `name`, once it has arrived."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [span for span in self.spans() if span.name == name]
            if found:
                return found[0]
            time.sleep(0.05)
        raise AssertionError(f"no span {name!r} arrived in {timeout} s: {self.spans()}")

    def start(self) -> "FakeCollector":
        app = Starlette(routes=[Route("/v1/traces", self._traces, methods=["POST"])])
        self._server = LoopbackServer(app)
        self.port = self._server.port
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()

    def __enter__(self) -> "FakeCollector":
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    async def _traces(self, request: Request) -> Response:
        body = await request.body()
        if request.headers.get("content-encoding") == "gzip":
            body = gzip.decompress(body)
        try:
            export = ExportTraceServiceRequest.FromString(body)
        except DecodeError as error:
            return Response(f"not an ExportTraceServiceRequest: {error}", status_code=400)
        with self._lock:
            self.bodies.append(body)
            self.content_types.append(request.headers.get("content-type", ""))
            self._spans.extend(_spans_of(export))
        return Response(ExportTraceServiceResponse().SerializeToString(), media_type=PROTOBUF)


def _spans_of(export: ExportTraceServiceRequest) -> list[ReceivedSpan]:
    spans = []
    for resource_spans in export.resource_spans:
        resource = {item.key: _value(item.value) for item in resource_spans.resource.attributes}
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                spans.append(
                    ReceivedSpan(
                        name=span.name,
                        trace_id=span.trace_id.hex(),
                        span_id=span.span_id.hex(),
                        parent_id=span.parent_span_id.hex(),
                        attributes={item.key: _value(item.value) for item in span.attributes},
                        resource=resource,
                        status_code=span.status.code,
                        status_message=span.status.message,
                        start_ns=span.start_time_unix_nano,
                        end_ns=span.end_time_unix_nano,
                        events=[event.name for event in span.events],
                    )
                )
    return spans


def _value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_value(item) for item in value.array_value.values]
    return getattr(value, kind) if kind else None
