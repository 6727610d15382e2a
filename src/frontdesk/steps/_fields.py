"""Config pieces several step types share."""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator, Field

from frontdesk.domain.workflows.durations import parse_duration

Target = Annotated[str | None, Field(default=None, pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
Template = Annotated[str, Field(min_length=1, max_length=4000)]
Duration = Annotated[float, BeforeValidator(parse_duration)]
SAVE_TO = r"^(contact\.fields\.[a-z][a-z0-9_]{0,63}|vars\.[A-Za-z_][A-Za-z0-9_]{0,63})$"


def field_problem(path: str, target: str, declared: frozenset[str], check: bool) -> list[tuple[str, str]]:
    """A `contact.fields.x` target must name a declared contact field."""
    if check and target.startswith("contact.fields.") and target.removeprefix("contact.fields.") not in declared:
        return [(path, f"contact field {target.removeprefix('contact.fields.')!r} does not exist")]
    return []
