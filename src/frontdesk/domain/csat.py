"""CSAT: what a contact's rating of a close may be, and how the reports summarise ratings.

Pure. One rating per close, 1 to 5 (5: very satisfied), with an optional comment; "satisfied"
is 4 or 5, as Chatwoot and respond.io count it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypedDict

from frontdesk.domain.errors import DomainError

SCORES = range(1, 6)
SATISFIED = frozenset({4, 5})
MAX_COMMENT = 1000
QUESTION = "How would you rate our help?"


class InvalidRating(DomainError):
    """A rating or comment the survey does not take: 400 naming the field, nothing stored."""


def check_rating(rating: object, comment: str | None) -> tuple[int, str | None]:
    """The rating as an int and the comment stripped (None when empty); InvalidRating otherwise."""
    if isinstance(rating, bool) or not isinstance(rating, int) or rating not in SCORES:
        raise InvalidRating("invalid_rating", f"rating must be a whole number from 1 to 5, not {rating!r}", "rating")
    text = (comment or "").strip()
    if len(text) > MAX_COMMENT:
        problem = f"comment: at most {MAX_COMMENT} characters, not {len(text)}"
        raise InvalidRating("comment_too_long", problem, "comment")
    return rating, text or None


class Summary(TypedDict):
    responses: int
    average: float | None  # None without any response
    satisfied: float | None  # the share of 4 and 5
    distribution: dict[str, int]  # "1".."5" -> responses


def summary(per_score: Iterable[tuple[int, int]]) -> Summary:
    """The figures of (score, responses) pairs."""
    counts = dict.fromkeys(SCORES, 0)
    for score, count in per_score:
        counts[score] += count
    total = sum(counts.values())
    if not total:
        return {"responses": 0, "average": None, "satisfied": None, "distribution": _named(counts)}
    points = sum(score * count for score, count in counts.items())
    happy = sum(counts[score] for score in SATISFIED)
    return {
        "responses": total,
        "average": round(points / total, 2),
        "satisfied": round(happy / total, 4),
        "distribution": _named(counts),
    }


def _named(counts: dict[int, int]) -> dict[str, int]:
    return {str(score): count for score, count in counts.items()}
