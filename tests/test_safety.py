"""Ids checked before anything is touched, and hostile text shown as plain text by the CLI
(`core.safe_text` itself: tests/core/test_safe_text.py)."""

import json
import uuid
from pathlib import Path

import httpx
import pytest

from graph import graph
from tests.support.cli import run_cli
from tests.support.hostile_text import HOSTILE_TERMINAL, UNSAFE_ON_A_TERMINAL
from tests.support.live_server import LiveServer
from tests.support.openai_server import FakeOpenAI

DREAM = {
    "customer": "Bakers",
    "product": "An oven",
    "children_count": 1,
    "generations_count_int": 1,
}
LONG_ID = "d" * 300


@pytest.mark.parametrize("route", ["/api/v1/dreams/{}", "/api/v1/dreams/{}/export"])
@pytest.mark.parametrize("dream_id", [LONG_ID, "%2E%2E", ".hidden", "-x", "a..b", "a%20b"])
async def test_safety_malformed_dream_ids_get_422_naming_the_parameter(
    live_server: LiveServer, isolated_env: Path, route: str, dream_id: str
) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        response = await client.get(route.format(dream_id))

    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["path", "dream_id"]
    assert "not a valid dream id" in error["msg"]
    assert not (isolated_env / "workspaces").exists()


async def test_safety_unknown_well_formed_ids_get_404(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        answers = [
            await client.get(f"/api/v1/dreams/{dream_id}")
            for dream_id in (str(uuid.uuid4()), "x" * 128, "dream-20261129-093100-1a2b3c4d")
        ]
        exported = await client.get(f"/api/v1/dreams/{uuid.uuid4()}/export")

    assert [answer.status_code for answer in answers] == [404, 404, 404]
    assert exported.status_code == 404


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["export", LONG_ID], "SOURCE"),
        (["export", ".."], "SOURCE"),
        (["export", "a/../b"], "SOURCE"),
        (["resume", LONG_ID], "workspace_id"),
        (["resume", ".."], "workspace_id"),
        (["resume", "a..b"], "workspace_id"),
    ],
)
def test_safety_cli_malformed_ids_are_usage_errors(
    isolated_env: Path, args: list[str], named: str
) -> None:
    result = run_cli(*args)

    assert result.returncode == 2
    assert named in result.stderr and "dream id" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (isolated_env / "workspaces").exists()


BAD_BODIES = [
    (b'{"customer": "\\ud800", "product": "p"}', "customer", "valid Unicode"),
    (b'{"customer": "c", "product": "tail \\udfff"}', "product", "valid Unicode"),
    (b'{"customer": "c", "product": "p", "children_count": NaN}', "children_count", "finite"),
    (
        b'{"customer": "c", "product": "p", "generations_count_int": Infinity}',
        "generations",
        "finite",
    ),
    (b'{"customer": NaN, "product": "p"}', "customer", "string"),
]


@pytest.mark.parametrize("route", ["/api/v1/dream", "/api/v1/dream/stream", "/dream/invoke"])
@pytest.mark.parametrize(("body", "field", "message"), BAD_BODIES)
async def test_safety_lone_surrogates_and_nan_get_422_naming_the_field(
    live_server: LiveServer, fake_llm: FakeOpenAI, route: str, body: bytes, field: str, message: str
) -> None:
    detail = await refused_raw_body(live_server, route, body)

    assert any(field in json.dumps(error["loc"]) for error in detail), detail
    assert any(message in error["msg"] for error in detail), detail
    assert fake_llm.stats.calls == 0


@pytest.mark.parametrize("route", ["/api/v1/dream", "/dream/invoke"])
async def test_safety_a_lone_surrogate_as_a_key_is_echoed_escaped(
    live_server: LiveServer, fake_llm: FakeOpenAI, route: str
) -> None:
    body = b'{"customer": "c", "product": "p", "\\ud800": -Infinity}'

    detail = await refused_raw_body(live_server, route, body)

    assert [error["input"] for error in detail] == ["\\ud800"]
    assert fake_llm.stats.calls == 0


async def refused_raw_body(live_server: LiveServer, route: str, body: bytes) -> list[dict]:
    """POST `body` as it is (wrapped as LangServe's input on /dream/invoke); the 422's detail,
    read as strict JSON (a bare NaN in it fails the test)."""
    content = b'{"input": ' + body + b"}" if route == "/dream/invoke" else body
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        response = await client.post(
            route, content=content, headers={"content-type": "application/json"}
        )
    assert response.status_code == 422, response.text
    return json.loads(response.content.decode("utf-8"), parse_constant=_refuse)["detail"]


def _refuse(constant: str) -> None:
    raise AssertionError(f"the 422 body holds a bare {constant}")


async def test_safety_cli_prints_hostile_dream_text_as_plain_text(
    fake_llm: FakeOpenAI, isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "400")
    output = await graph.ainvoke(DREAM)
    for node in output["nodes"]:
        if node["generation"] == 0:
            node["content"] = HOSTILE_TERMINAL
    hostile = isolated_env / "workspaces" / "dream-hostile"
    hostile.mkdir()
    (hostile / "results.json").write_text(json.dumps(output), encoding="utf-8")
    (isolated_env / "workspaces" / "dream-broken").mkdir()
    (isolated_env / "workspaces" / "dream-broken" / "results.json").write_text("\x1b[2J\u202e")

    result = run_cli("list", "--workspaces")

    assert result.returncode == 0, result.stderr
    printed = result.stderr.encode()
    assert UNSAFE_ON_A_TERMINAL.search(result.stderr) is None, printed
    assert b"\x1b" not in printed and b"\xc2\x9b" not in printed and b"\xe2\x80\xae" not in printed
    assert "RED title link clear evil" in result.stderr
    assert "dream-broken is broken: results.json is not valid JSON" in result.stderr

    as_json = run_cli("list", "--workspaces", "--json")

    assert as_json.returncode == 0, as_json.stderr
    assert UNSAFE_ON_A_TERMINAL.search(as_json.stdout) is None, as_json.stdout.encode()
    (listed,) = [item for item in json.loads(as_json.stdout) if item["id"] == "dream-hostile"]
    assert listed["customer"] == HOSTILE_TERMINAL  # the same text, escaped for the terminal

    assert run_cli("library", "import").returncode == 0
    stored = run_cli("list")
    found = run_cli("search", "RED title link clear evil", "--min-score", "0")

    for shown in (stored, found):
        assert shown.returncode == 0, shown.stderr
        assert UNSAFE_ON_A_TERMINAL.search(shown.stderr) is None, shown.stderr.encode()
        assert b"\x1b" not in shown.stderr.encode()
    assert "dream-hostile" in stored.stderr and "RED" in stored.stderr


def test_safety_cli_error_lines_show_markup_and_escapes_as_plain_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CODREAMER_X[/y]\x1b]0;title\x07", "1")

    result = run_cli("dream", "--customer", "c", "--product", "p")

    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: unknown CoDreamer settings: CODREAMER_X[/y] (a typo?)")
    assert UNSAFE_ON_A_TERMINAL.search(result.stderr) is None
