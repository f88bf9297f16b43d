"""Structured output from any endpoint: a JSON schema the endpoint enforces, else JSON of any
shape (`json_object`), else the shape asked for in the prompt alone.

An endpoint that refuses a mode (HTTP 400 or 422) is asked in the next one at once. The mode
that works is remembered per endpoint and model for the process, so later calls start in it.
"""

import json
from functools import cache
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage
from pydantic import BaseModel

from core.state import OUTPUT_MODES

JSON_OBJECT = {"type": "json_object"}
_working_modes: dict[tuple[str, str], str] = {}


def working_mode(endpoint: str, model: str) -> str:
    """The mode to ask `model` at `endpoint` in: the strongest one it has not refused."""
    return _working_modes.get((endpoint, model), OUTPUT_MODES[0])


def fall_back(endpoint: str, model: str, refused: str) -> str | None:
    """Remember that the endpoint refused `refused`; the mode to ask in now, or None when the
    plain prompt was refused too (then the refusal was not about the mode: forget it all)."""
    key = (endpoint, model)
    position = OUTPUT_MODES.index(refused) + 1
    if position == len(OUTPUT_MODES):
        _working_modes.pop(key, None)
        return None
    mode = max(OUTPUT_MODES[position], working_mode(endpoint, model), key=OUTPUT_MODES.index)
    _working_modes[key] = mode
    return mode


@cache
def response_format(schema: type[BaseModel]) -> dict[str, Any]:
    """OpenAI's `response_format` for `schema`, built once per schema.

    It travels in `extra_body`: the client then sends it as is instead of walking the whole
    JSON schema on every call (5 ms of CPU per call, measured).
    """
    return {
        "type": "json_schema",
        "json_schema": {"name": schema.__name__, "schema": schema.model_json_schema()},
    }


def request_format(mode: str, schema: type[BaseModel]) -> dict[str, Any] | None:
    """The `response_format` sent in `mode` (none in prompt mode)."""
    if mode == "json_schema":
        return response_format(schema)
    return JSON_OBJECT if mode == "json_object" else None


def messages_for(
    mode: str, schema: type[BaseModel], messages: list[BaseMessage]
) -> list[BaseMessage]:
    """The conversation as sent in `mode`: unless the endpoint enforces the schema, the last
    turn also states the JSON shape (json_object mode needs the word JSON in the messages)."""
    if mode == "json_schema":
        return messages
    *earlier, last = messages
    return [*earlier, HumanMessage(f"{last.text}\n\n{shape_instruction(schema)}")]


@cache
def shape_instruction(schema: type[BaseModel]) -> str:
    shape = json.dumps(schema.model_json_schema(), separators=(",", ":"))
    return f"Answer with JSON only: one object following this JSON schema, no other text.\n{shape}"
