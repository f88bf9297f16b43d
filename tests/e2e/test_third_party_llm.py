"""Dreams against fakellm, an OpenAI-compatible mock server from the package registry that
nobody here wrote: a peer that finds what our own loopback server agrees with."""

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from core.settings import get_settings
from tests.support.cli import SEED_ARGS, run_cli
from tests.support.ports import free_port

FAKELLM = str(Path(sys.executable).parent / "fakellm")
PLAIN_TEXT_ONLY = "version: 1\ndefaults:\n  fallback: deterministic_echo\nrules: []\n"
CHILDREN = {
    "children": [
        {
            "name": "Tracing every request",
            "content": "Teams follow one request across many services.",
            "relationship": "requires",
            "rationale": "Microservices split a request into many calls.",
        },
        {
            "name": "Finding slow services",
            "content": "Engineers look for the service that slows a request down.",
            "relationship": "leads to",
            "rationale": "Latency hides in the slowest hop.",
        },
    ]
}
LINKS = {
    "links": [
        {"relationship": "is shown by", "rationale": "Traces draw each hop of the request."},
        {"relationship": "is found by", "rationale": "Span timings point at the slow hop."},
    ]
}


def json_rules() -> str:
    """fakellm rules answering our two prompts with JSON (first match wins)."""
    rules = [
        {"name": "links", "when": {"messages_contain": "give 2 links"}, "respond": LINKS},
        {"name": "needs", "when": {"messages_contain": "different needs"}, "respond": CHILDREN},
    ]
    lines = ["version: 1", "defaults:", "  fallback: deterministic_echo", "rules:"]
    for rule in rules:
        lines += [
            f"  - name: {rule['name']}",
            "    when:",
            f"      messages_contain: {json.dumps(rule['when']['messages_contain'])}",
            "    respond:",
            f"      content: {json.dumps(json.dumps(rule['respond']))}",
        ]
    return "\n".join(lines) + "\n"


def fakellm(config: str, tmp_path: Path) -> Iterator[str]:
    """fakellm serving `config` on a free loopback port; its /v1 URL."""
    path = tmp_path / "fakellm.yaml"
    path.write_text(config)
    port = free_port()
    log = tmp_path / "fakellm.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [FAKELLM, "serve", "--host", "127.0.0.1", "--port", str(port), "--config", str(path)],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/_fakellm", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"fakellm did not start: {log.read_text()}") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def plain_text_llm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    for url in fakellm(PLAIN_TEXT_ONLY, tmp_path):
        use_endpoint(url, monkeypatch)
        yield url


@pytest.fixture
def json_llm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    for url in fakellm(json_rules(), tmp_path):
        use_endpoint(url, monkeypatch)
        yield url


def use_endpoint(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", url)
    monkeypatch.setenv("CODREAMER_MODEL", "mock-model")
    get_settings.cache_clear()


def test_plain_text_answers_end_the_cli_dream_with_one_clear_error(plain_text_llm: str) -> None:
    result = run_cli("dream", *SEED_ARGS, "--children", "2", "--generations", "2")

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    (error,) = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert plain_text_llm in error and "mock-model" in error
    assert "not JSON" in error and "[mock response for mock-model" in error


def test_a_dream_against_json_rules_completes(json_llm: str, isolated_env: Path) -> None:
    result = run_cli("dream", *SEED_ARGS, "--children", "2", "--generations", "2", "--json")

    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert output["metadata"]["totalNodes"] == len(output["nodes"]) == 8
    assert output["metadata"]["warnings"] == []
    leaves = [node for node in output["nodes"] if node["generation"] == 2]
    assert {leaf["edge"][0]["relationship"] for leaf in leaves} == {"is shown by", "is found by"}
    assert os.path.exists(Path(output["metadata"]["workspacePath"]) / "results.json")
