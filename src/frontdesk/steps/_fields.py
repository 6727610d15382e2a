"""Config pieces several step types share."""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator, Field, WithJsonSchema

from frontdesk.domain.workflows.durations import DURATION_PATTERN, parse_duration

Target = Annotated[str | None, Field(default=None, pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
Template = Annotated[str, Field(min_length=1, max_length=4000)]
# What parse_duration accepts, for editors: the schema said "number" while the docs write "10m".
DURATION_SCHEMA = {
    "anyOf": [
        {"type": "number", "minimum": 0, "description": "seconds"},
        {"type": "string", "pattern": DURATION_PATTERN, "examples": ["30s", "10m", "2h", "7d", "1h30m"]},
    ]
}
Duration = Annotated[float, BeforeValidator(parse_duration), WithJsonSchema(DURATION_SCHEMA, mode="validation")]
SAVE_TO = r"^(contact\.fields\.[a-z][a-z0-9_]{0,63}|vars\.[A-Za-z_][A-Za-z0-9_]{0,63})$"


def field_problem(path: str, target: str, declared: frozenset[str], check: bool) -> list[tuple[str, str]]:
    """A `contact.fields.x` target must name a declared contact field."""
    if check and target.startswith("contact.fields.") and target.removeprefix("contact.fields.") not in declared:
        return [(path, f"contact field {target.removeprefix('contact.fields.')!r} does not exist")]
    return []
