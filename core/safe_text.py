"""Text from the model or the user, made safe for where it goes: a terminal, an HTML page, JSON.

Each function keeps the text readable and changes only what the destination would act on.
"""

import json
import math
import re
from typing import Any

ANSI_ESCAPE = re.compile(
    r"""
    (?:\x1b\[|\x9b) [0-?]* [ -/]* [@-~]                      # CSI: colours, cursor moves, ...
    | (?:\x1b[\]PX^_]|[\x90\x98\x9d-\x9f]) [^\x07\x1b\x9c]*  # OSC, DCS, SOS, PM, APC: titles,
      (?:\x07|\x1b\\|\x9c)                                   # links, ... up to their terminator
    | \x1b [ -/]* [0-~]                                      # any other escape sequence
    """,
    re.VERBOSE,
)
LINE_BREAKS = re.compile("[\t\n\v\f\r\x85]")
TERMINAL_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
"""C0 and C1 controls, DEL, and the bidi marks and overrides that reorder what a line shows."""
LONE_SURROGATE = re.compile("[\ud800-\udfff]")
SCRIPT_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
SCRIPT_UNSAFE = re.compile("[<>&\u2028\u2029]")
NON_FINITE_NAMES = {math.inf: "Infinity", -math.inf: "-Infinity"}


def for_terminal(text: str) -> str:
    """`text` with escape sequences, control characters and bidi controls removed.

    Tabs and line breaks become spaces, so one value stays on one line.
    """
    text = ANSI_ESCAPE.sub("", text)
    text = LINE_BREAKS.sub(" ", text)
    return TERMINAL_CONTROLS.sub("", text)


TERMINAL_UNSAFE_IN_JSON = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
"""What a terminal acts on that `json.dumps` leaves raw: DEL, C1 controls, bidi controls."""


def json_for_terminal(value: Any) -> str:
    """`value` as indented JSON that a terminal shows as it is: every character a terminal
    would act on is a `\\uXXXX` escape (it can occur only inside strings, where the escape
    means the same character)."""
    text = json.dumps(json_safe(value), ensure_ascii=False, indent=2)
    return TERMINAL_UNSAFE_IN_JSON.sub(lambda match: f"\\u{ord(match[0]):04x}", text)


def json_for_script(value: Any) -> str:
    """`value` as JSON that can sit inside an HTML `<script>` element and be `JSON.parse`d.

    `<`, `>` and `&` are written as `\\u003c`-style escapes, so no text can end the element or
    open a comment; U+2028/U+2029 are escaped too. These characters occur only inside JSON
    strings, where the escapes mean the same characters.
    """
    text = json.dumps(json_safe(value), ensure_ascii=False)
    return SCRIPT_UNSAFE.sub(lambda match: SCRIPT_ESCAPES[match[0]], text)


def json_safe(value: Any) -> Any:
    """A copy of `value` that a strict JSON encoder (UTF-8, no NaN) can write.

    NaN and infinities become the strings "NaN", "Infinity", "-Infinity"; a lone surrogate in a
    string becomes the six characters of its escape (`\\ud800`). Anything else is kept.
    """
    if isinstance(value, float) and not math.isfinite(value):
        return NON_FINITE_NAMES.get(value, "NaN")
    if isinstance(value, str):
        return LONE_SURROGATE.sub(lambda match: f"\\u{ord(match[0]):04x}", value)
    if isinstance(value, dict):
        return {json_safe(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    return value
