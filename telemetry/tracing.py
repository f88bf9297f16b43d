"""OpenTelemetry traces: off unless `OTEL_EXPORTER_OTLP_ENDPOINT` (or
`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set in the environment.

On, a `TracerProvider` of our own batches spans to the OTLP/HTTP exporter, which reads the
standard `OTEL_EXPORTER_OTLP_*` variables itself (endpoint, headers, timeout, compression).
It is not installed as the global provider: the Daytona SDK sets that one when its own tracing
is on. Off, nothing is imported from the SDK and no thread starts: `get_tracer()` answers None
and the dream observer makes no spans. `OTEL_SDK_DISABLED=true` turns it off too.
"""

import importlib.metadata
import logging
import os
import threading
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from opentelemetry.trace import Tracer

from core.settings import redact

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

logger = logging.getLogger(__name__)
ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
SERVICE_NAME = "codreamer"
"""The spans' `service.name`, unless OTEL_SERVICE_NAME names another."""
FLUSH_TIMEOUT_MS = 10_000
MAX_ERROR_CHARS = 300

_lock = threading.Lock()
_provider: "TracerProvider | None" = None
_tracer: Tracer | None = None
_configured = False


def tracing_endpoint() -> str | None:
    """Where traces go (the OTLP/HTTP base or traces URL), or None when tracing is off."""
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    urls = (os.environ.get(name, "").strip() for name in ENDPOINT_VARIABLES)
    return next((url for url in urls if url), None)


def get_tracer() -> Tracer | None:
    """This process's tracer, set up on first use; None when tracing is off."""
    global _configured, _provider, _tracer
    with _lock:
        if not _configured:
            _configured = True
            endpoint = tracing_endpoint()
            if endpoint is not None:
                _provider = _new_provider()
                _tracer = _provider.get_tracer("codreamer", _version())
                parts = urlsplit(endpoint)  # no user, password or query in the log
                logger.info("OpenTelemetry traces go to %s://%s", parts.scheme, parts.hostname)
        return _tracer


def flush_traces() -> None:
    """Send the spans still batched (front ends call it at shutdown; it blocks for at most
    10 s). Nothing to do when tracing is off."""
    provider = _provider
    if provider is not None:
        provider.force_flush(FLUSH_TIMEOUT_MS)


def shutdown_tracing() -> None:
    """Flush and stop the exporter; the next `get_tracer()` reads the environment again."""
    global _configured, _provider, _tracer
    with _lock:
        provider, _provider, _tracer, _configured = _provider, None, None, False
    if provider is not None:
        provider.shutdown()


def error_text(error: BaseException) -> str:
    """An exception as a span may carry it: its type and message, secrets redacted, short."""
    text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    return redact(text)[:MAX_ERROR_CHARS]


def _new_provider() -> "TracerProvider":
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import SERVICE_NAME as SERVICE_NAME_KEY
    from opentelemetry.sdk.resources import SERVICE_VERSION, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    name = os.environ.get("OTEL_SERVICE_NAME", "").strip() or SERVICE_NAME
    resource = Resource.create({SERVICE_NAME_KEY: name, SERVICE_VERSION: _version()})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider


def _version() -> str:
    return importlib.metadata.version("codreamer")
