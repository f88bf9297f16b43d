"""Hostile text made safe for terminals, JSON and an inline script."""

import json

from core.safe_text import for_terminal, json_for_script, json_safe
from tests.support.hostile_text import HOSTILE_TERMINAL, UNSAFE_ON_A_TERMINAL


def test_safety_for_terminal_strips_escapes_controls_and_bidi() -> None:
    shown = for_terminal(HOSTILE_TERMINAL)

    assert UNSAFE_ON_A_TERMINAL.search(shown) is None and "\n" not in shown
    assert shown == (
        "RED title link clear evil iso ltr alm bell nul del tab new line [/x] [bold]markup[/bold]"
    )
    assert for_terminal("Plain text, ünïcödé 日本 😀") == "Plain text, ünïcödé 日本 😀"


def test_safety_json_safe_names_non_finite_numbers_and_escapes_lone_surrogates() -> None:
    value = {"a": [float("nan"), float("inf"), -float("inf"), 1.5], "b\ud800": ("x\udfff", 2)}

    safe = json_safe(value)

    assert safe == {"a": ["NaN", "Infinity", "-Infinity", 1.5], "b\\ud800": ["x\\udfff", 2]}
    assert json.loads(json.dumps(safe, allow_nan=False).encode()) == safe


def test_safety_json_for_script_escapes_what_could_end_or_comment_a_script() -> None:
    value = {"customer": "<!--<script>", "node": "</script>&amp;\u2028\u2029", "cost": float("nan")}

    text = json_for_script(value)

    assert not set("<>&\u2028\u2029") & set(text)
    assert json.loads(text) == {**value, "cost": "NaN"}
