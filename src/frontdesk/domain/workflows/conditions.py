"""Structured conditions — `{field, operator, value}` in `all`/`any` groups — never evaluated code.

String comparisons ignore case and surrounding spaces, as a person comparing answers would.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import regex
from pydantic import BaseModel, ConfigDict, Field, model_validator

from frontdesk.domain.workflows.paths import MISSING, resolve

REGEX_TIMEOUT_SECONDS = 0.05


class Operator(StrEnum):
    EQUALS = "equals"
    NOT_EQUALS = "not_equals"
    CONTAINS = "contains"
    NOT_CONTAINS = "not_contains"
    STARTS_WITH = "starts_with"
    IN = "in"
    NOT_IN = "not_in"
    EXISTS = "exists"
    NOT_EXISTS = "not_exists"
    GREATER_THAN = "greater_than"
    LESS_THAN = "less_than"
    MATCHES = "matches"


class Condition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: str = Field(min_length=1, max_length=200)
    operator: Operator
    value: Any = None

    @model_validator(mode="after")
    def _value_fits_operator(self) -> Condition:
        if self.operator in (Operator.IN, Operator.NOT_IN) and not isinstance(self.value, list):
            raise ValueError(f"operator {self.operator} needs a list value")
        if self.operator in (Operator.GREATER_THAN, Operator.LESS_THAN) and not _is_number(self.value):
            raise ValueError(f"operator {self.operator} needs a number value")
        if self.operator is Operator.MATCHES:
            if not isinstance(self.value, str):
                raise ValueError("operator matches needs a regular expression string")
            try:
                regex.compile(self.value)
            except regex.error as exc:
                raise ValueError(f"invalid regular expression: {exc}") from None
        return self


class ConditionGroup(BaseModel):
    """All of `all` must hold, and at least one of `any` when given."""

    model_config = ConfigDict(extra="forbid")

    all: list[Condition] = Field(default_factory=list, max_length=50)
    any: list[Condition] = Field(default_factory=list, max_length=50)

    def conditions(self) -> list[Condition]:
        return [*self.all, *self.any]


def evaluate(group: ConditionGroup, context: Any) -> tuple[bool, str]:
    """Whether the group holds, and a sentence saying why (for the run history)."""
    for condition in group.all:
        if not holds(condition, context):
            return False, f"not ({describe(condition)})"
    if group.any:
        for condition in group.any:
            if holds(condition, context):
                return True, describe(condition)
        return False, "none of: " + "; ".join(describe(c) for c in group.any)
    return True, " and ".join(describe(c) for c in group.all) or "no conditions"


def describe(condition: Condition) -> str:
    if condition.operator in (Operator.EXISTS, Operator.NOT_EXISTS):
        return f"{condition.field} {condition.operator}"
    return f"{condition.field} {condition.operator} {condition.value!r}"


def holds(condition: Condition, context: Any) -> bool:
    actual = resolve(context, condition.field)
    op, expected = condition.operator, condition.value
    if op is Operator.EXISTS:
        return actual is not MISSING and actual not in (None, "", [])
    if op is Operator.NOT_EXISTS:
        return actual is MISSING or actual in (None, "", [])
    if actual is MISSING:
        return op in (Operator.NOT_EQUALS, Operator.NOT_CONTAINS, Operator.NOT_IN)
    if op is Operator.EQUALS:
        return _same(actual, expected)
    if op is Operator.NOT_EQUALS:
        return not _same(actual, expected)
    if op is Operator.CONTAINS:
        return _contains(actual, expected)
    if op is Operator.NOT_CONTAINS:
        return not _contains(actual, expected)
    if op is Operator.STARTS_WITH:
        return _norm(actual).startswith(_norm(expected))
    if op is Operator.IN:
        return any(_same(actual, option) for option in expected)
    if op is Operator.NOT_IN:
        return not any(_same(actual, option) for option in expected)
    if op in (Operator.GREATER_THAN, Operator.LESS_THAN):
        number = _as_number(actual)
        if number is None:
            return False
        limit = float(expected)
        return number > limit if op is Operator.GREATER_THAN else number < limit
    return _matches(actual, expected)


def _matches(actual: Any, pattern: str) -> bool:
    try:
        return regex.search(pattern, str(actual), timeout=REGEX_TIMEOUT_SECONDS) is not None
    except TimeoutError:
        return False  # a pathological pattern never blocks the engine; it simply does not match


def _norm(value: Any) -> str:
    return str(value).strip().casefold()


def _same(actual: Any, expected: Any) -> bool:
    if _is_number(actual) and _is_number(expected):
        return bool(actual == expected)
    if isinstance(actual, bool) or isinstance(expected, bool):
        return actual is expected or _norm(actual) == _norm(expected)
    return _norm(actual) == _norm(expected)


def _contains(actual: Any, expected: Any) -> bool:
    if isinstance(actual, list):
        return any(_same(item, expected) for item in actual)
    return _norm(expected) in _norm(actual)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _as_number(value: Any) -> float | None:
    if _is_number(value):
        return float(value)
    try:
        return float(str(value).strip())
    except ValueError:
        return None
