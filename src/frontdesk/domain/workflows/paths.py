"""Dotted paths into the run's context: `contact.fields.plan`, `vars.crm.items[0].name`."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
ROOTS = ("event", "contact", "conversation", "channel", "message", "vars")


class Missing:
    """What a path resolves to when nothing is there (distinct from a stored null)."""

    def __repr__(self) -> str:
        return "missing"


MISSING = Missing()


def split(path: str) -> list[str | int]:
    parts: list[str | int] = []
    for name, index in _TOKEN.findall(path.strip().removeprefix("$").lstrip(".")):
        parts.append(int(index) if index else name)
    return parts


def resolve(data: Any, path: str) -> Any:
    current = data
    for part in split(path):
        if isinstance(part, int):
            if isinstance(current, Sequence) and not isinstance(current, str) and -len(current) <= part < len(current):
                current = current[part]
                continue
            return MISSING
        if isinstance(current, Mapping) and part in current:
            current = current[part]
            continue
        return MISSING
    return current
