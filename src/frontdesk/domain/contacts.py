"""Contact fields and tags: which values are acceptable, checked before anything is written."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass

from frontdesk.domain.errors import InvalidInput
from frontdesk.domain.model import FieldType

FIELD_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
TAG = re.compile(r"^[\w][\w .:/+-]{0,63}$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
PHONE = re.compile(r"^\+?[0-9][0-9 ().-]{4,24}$")
MAX_TEXT = 2000

FieldValue = str | int | float | bool | None


@dataclass(frozen=True)
class FieldDefinition:
    """A custom contact field the business declared (respond.io's "contact fields")."""

    key: str
    label: str
    type: FieldType
    options: tuple[str, ...] = ()


def check_field_key(key: str) -> str:
    if not FIELD_KEY.match(key):
        raise InvalidInput(
            "invalid_field_key",
            f"field key {key!r} must start with a lowercase letter and use only a-z, 0-9 and _ (64 max)",
            "key",
        )
    return key


def check_field_values(
    values: Mapping[str, object], definitions: Mapping[str, FieldDefinition], path: str = "fields"
) -> dict[str, FieldValue]:
    """Return the values normalised for storage; None clears a field. Every problem is reported."""
    problems: list[str] = []
    clean: dict[str, FieldValue] = {}
    for key, value in values.items():
        definition = definitions.get(key)
        if definition is None:
            problems.append(f"{path}.{key}: no such contact field (declare it first)")
            continue
        try:
            clean[key] = None if value is None else normalise_value(definition, value)
        except ValueError as exc:
            problems.append(f"{path}.{key}: {exc}")
    if problems:
        raise InvalidInput("invalid_fields", "; ".join(problems), path)
    return clean


def normalise_value(definition: FieldDefinition, value: object) -> FieldValue:
    """Check one value against its field's type and return it in canonical form."""
    kind = definition.type
    if kind is FieldType.BOOLEAN:
        if isinstance(value, bool):
            return value
        raise ValueError("expected true or false")
    if kind is FieldType.NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError("expected a number")
        return value
    if not isinstance(value, str):
        raise ValueError(f"expected a string for a {kind} field")
    text = value.strip()
    if len(text) > MAX_TEXT:
        raise ValueError(f"longer than {MAX_TEXT} characters")
    if kind is FieldType.EMAIL:
        if not EMAIL.match(text):
            raise ValueError(f"{text!r} is not an e-mail address")
        return text.lower()
    if kind is FieldType.PHONE:
        if not PHONE.match(text):
            raise ValueError(f"{text!r} is not a phone number")
        return text
    if kind is FieldType.DATE:
        try:
            return dt.date.fromisoformat(text).isoformat()
        except ValueError:
            raise ValueError(f"{text!r} is not a date (YYYY-MM-DD)") from None
    if kind is FieldType.CHOICE and text not in definition.options:
        raise ValueError(f"{text!r} is not one of {', '.join(definition.options)}")
    return text


def normalise_tags(tags: list[str], path: str = "tags") -> list[str]:
    """Tags are case-insensitive labels; they are stored lowercased, trimmed and unique."""
    clean: list[str] = []
    for index, tag in enumerate(tags):
        text = tag.strip().lower()
        if not TAG.match(text):
            raise InvalidInput(
                "invalid_tag",
                f"{path}[{index}]: {tag!r} is not a valid tag (1-64 letters, digits, .:/+-)",
                path,
            )
        if text not in clean:
            clean.append(text)
    return clean
