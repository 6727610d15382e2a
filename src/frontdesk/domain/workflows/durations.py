"""Durations written as people write them: 30s, 15m, 2h, 7d, 1h30m, or a number of seconds."""

from __future__ import annotations

import re

_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?) *([smhdw])")
_TEXT = re.compile(r"([0-9]+(\.[0-9]+)? *[smhdw] *)+")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
# The text parse_duration reads, as a JSON Schema pattern (ECMA regex) for the published schema.
DURATION_PATTERN = r"^\s*([0-9]+(\.[0-9]+)? *[smhdwSMHDW] *)+\s*$"  # _TEXT, around blanks, any case


def parse_duration(value: object) -> float:
    """Seconds in `value`; ValueError with a readable message when it is not a duration."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 30s, 15m, 2h or 7d")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return float(value)
    if not isinstance(value, str):
        raise ValueError("expected a duration such as 30s, 15m, 2h or 7d")
    text = value.strip().lower()
    if _TEXT.fullmatch(text):
        return float(sum(float(n) * _UNITS[u] for n, u in _PART.findall(text)))
    raise ValueError(f"{value!r} is not a duration (use 30s, 15m, 2h, 7d or seconds)")


def format_duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
