"""Reading a provider's JSON defensively: a field is used only when it has the type it should.

Webhooks are parsed after their signature is checked, but their shape is still the provider's to
change (and a test's to fuzz): every read here gives a usable value or an empty one, never raises.
"""

from __future__ import annotations

import math
from typing import Any

import httpx


def string(value: Any, limit: int = 500) -> str | None:
    """A non-empty string, cut to what its column holds; None for anything else."""
    return value[:limit] if isinstance(value, str) and value else None


def mapping(value: Any) -> dict[str, Any]:
    """An object, or an empty one for anything else."""
    return value if isinstance(value, dict) else {}


def answer_of(response: httpx.Response) -> dict[str, Any]:
    """A provider API's JSON answer as an object, or an empty one (not JSON, or not an object)."""
    try:
        return mapping(response.json())
    except ValueError:
        return {}


def is_number(value: Any) -> bool:
    """A finite JSON number (not a boolean, which Python counts as an int)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
