"""Reading a model's answer into a schema: strictly when the endpoint enforced the schema,
tolerantly when the JSON shape was only asked for in the prompt."""

from typing import Any, TypeVar

import json_repair
from pydantic import BaseModel, ValidationError

SchemaT = TypeVar("SchemaT", bound=BaseModel)
SNIPPET_CHARS = 60


class AnswerRejectedError(ValueError):
    """The model answered, but not with what was asked (bad JSON, wrong number of items)."""


def parse_strict(answer: str, schema: type[SchemaT]) -> SchemaT:
    """The answer as exactly one JSON document of `schema` (what json_schema mode promises)."""
    try:
        return schema.model_validate_json(answer)
    except ValidationError as error:
        problems = error.errors()
        if problems and problems[0]["type"] == "json_invalid":
            detail = problems[0]["msg"].removeprefix("Invalid JSON: ")
            raise _not_json(answer, f" ({detail})") from None
        raise _mismatch(error) from None


def parse_tolerant(answer: str, schema: type[SchemaT]) -> SchemaT:
    """The JSON inside the answer, in `schema`: code fences, prose around it, trailing commas
    and the like are forgiven, and a bare list stands for the schema's single list field."""
    try:
        return schema.model_validate_json(answer)
    except ValidationError:
        pass  # not clean JSON: look for JSON inside it
    found: Any = json_repair.loads(answer)
    if isinstance(found, list) and found and all(isinstance(item, dict) for item in found):
        found = _as_single_list_field(found, schema)
    if not isinstance(found, dict):
        raise _not_json(answer)
    try:
        return schema.model_validate(found)
    except ValidationError as error:
        raise _mismatch(error) from None


def _as_single_list_field(items: list[dict[str, Any]], schema: type[BaseModel]) -> Any:
    """`{field: items}` when `schema` has exactly one field; the items themselves otherwise."""
    fields = list(schema.model_fields)
    return {fields[0]: items} if len(fields) == 1 else items


def _mismatch(error: ValidationError) -> AnswerRejectedError:
    reason = error.errors()[0]["msg"] if error.errors() else str(error)
    return AnswerRejectedError(f"answer does not match the schema: {reason}")


def _not_json(answer: str, detail: str = "") -> AnswerRejectedError:
    text = " ".join(answer.split())
    snippet = text if len(text) <= SNIPPET_CHARS else text[:SNIPPET_CHARS] + "…"
    return AnswerRejectedError(
        f"answer does not match the schema: it is not JSON{detail}: {snippet!r}"
    )
