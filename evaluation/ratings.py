"""What the judge answers and how its ratings are cached: the ratings schema and its check,
the cache key of a link, and reading a cached rating back."""

import hashlib
import json
from collections.abc import Callable
from functools import cache
from typing import Any

from pydantic import BaseModel, Field

from evaluation.graph_view import GraphView, Link, Verdict
from evaluation.prompts import JUDGE_RUBRIC_VERSION
from nodes.json_answers import AnswerRejectedError
from nodes.schemas import exactly


class Rating(BaseModel):
    link: int = Field(ge=1, description="The link's number.")
    on_topic: int = Field(ge=1, le=5, description="Is the child relevant? 1-5.")
    connection: int = Field(ge=1, le=5, description="Does the rationale connect? 1-5.")


class Ratings(BaseModel):
    ratings: list[Rating]


@cache
def ratings_schema(count: int) -> type[Ratings]:
    """`Ratings` whose JSON schema asks for exactly `count` items."""
    return exactly(Ratings, "ratings", Rating, count)


def rating_key(model: str, view: GraphView, link: Link) -> str:
    """The cache key of a link's rating: everything the judge sees of it, and who judges."""
    seen = [
        model,
        JUDGE_RUBRIC_VERSION,
        view.customer,
        view.product,
        view.text(link.source),
        view.text(link.target),
        link.relationship,
        link.rationale,
    ]
    return hashlib.sha256(json.dumps(seen, ensure_ascii=False).encode()).hexdigest()


def one_rating_per_link(count: int) -> Callable[[Ratings], Ratings]:
    """A check that every link 1..count got exactly one rating; the ratings in link order."""

    def check(answer: Ratings) -> Ratings:
        numbers = sorted(rating.link for rating in answer.ratings)
        if numbers != list(range(1, count + 1)):
            raise AnswerRejectedError(
                f"asked for one rating for each of links 1-{count}, got ratings for {numbers}"
            )
        ordered = sorted(answer.ratings, key=lambda rating: rating.link)
        return answer.model_copy(update={"ratings": ordered})

    return check


def cached_verdict(cached: dict[str, Any] | None) -> Verdict | None:
    """A cached rating, if it is one (a store may hold anything)."""
    if cached is None:
        return None
    values = [cached.get("on_topic"), cached.get("connection")]
    if not all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 5 for v in values):
        return None
    return Verdict(int(values[0]), int(values[1]))  # type: ignore[arg-type]
