"""What the model is asked to return, as pydantic models (sent as JSON schemas)."""

from functools import cache
from typing import Any, TypeVar

from pydantic import BaseModel, Field, JsonValue, create_model


class Child(BaseModel):
    """One new idea grown from a parent."""

    name: str = Field(
        min_length=1, description="A 2-5 word label.", json_schema_extra={"maxLength": 60}
    )
    content: str = Field(
        min_length=1, description="One clear sentence.", json_schema_extra={"maxLength": 240}
    )
    relationship: str = Field(
        min_length=1,
        description="Verb phrase from the parent to this idea.",
        json_schema_extra={"maxLength": 60},
    )
    rationale: str = Field(
        min_length=1, description="One sentence on why.", json_schema_extra={"maxLength": 240}
    )


class Link(BaseModel):
    """How the product addresses one leaf idea."""

    relationship: str = Field(
        min_length=1,
        description="Verb phrase from the idea to the product.",
        json_schema_extra={"maxLength": 60},
    )
    rationale: str = Field(
        min_length=1,
        description="One sentence on how the product helps.",
        json_schema_extra={"maxLength": 240},
    )


class Children(BaseModel):
    children: list[Child]


class Links(BaseModel):
    links: list[Link]


ListT = TypeVar("ListT", bound=BaseModel)


def exactly(base: type[ListT], field: str, item: type[BaseModel], count: int) -> type[ListT]:
    """`base` whose list `field` of `item`s asks, in its JSON schema, for exactly `count`."""
    exact: dict[str, JsonValue] = {"minItems": count, "maxItems": count}
    fields: dict[str, Any] = {field: (list[item], Field(json_schema_extra=exact))}  # type: ignore[valid-type]
    return create_model(base.__name__, __base__=base, **fields)


@cache
def children_schema(count: int) -> type[Children]:
    """`Children` whose JSON schema asks for exactly `count` items."""
    return exactly(Children, "children", Child, count)


@cache
def links_schema(count: int) -> type[Links]:
    """`Links` whose JSON schema asks for exactly `count` items."""
    return exactly(Links, "links", Link, count)
