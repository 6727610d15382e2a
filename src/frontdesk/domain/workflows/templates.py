"""Message templates (`Hello {{ contact.first_name }}`) rendered in Jinja2's sandbox.

The sandbox refuses attribute tricks that reach Python internals; output is plain text (messages
are escaped where they are displayed, not here). A template that fails renders to an error the
run records instead of crashing the engine.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import Template, TemplateSyntaxError
from jinja2.sandbox import ImmutableSandboxedEnvironment


def _blank_none(value: Any) -> Any:
    """A value that is present but None (`vars.next_open` when no hours are set) renders empty,
    like a missing one, instead of the text "None"."""
    return "" if value is None else value


_ENV = ImmutableSandboxedEnvironment(autoescape=False, keep_trailing_newline=False, finalize=_blank_none)
MAX_OUTPUT = 10_000


class TemplateError(ValueError):
    pass


def check(source: str) -> None:
    """Raise TemplateError naming the problem when `source` does not compile."""
    try:
        _ENV.parse(source)
    except TemplateSyntaxError as exc:
        raise TemplateError(f"template does not compile: {exc.message} (line {exc.lineno})") from None


@lru_cache(maxsize=1024)
def _compiled(source: str) -> Template:
    """Jinja2 does not cache `from_string`; a workflow's few templates are compiled once."""
    return _ENV.from_string(source)


def render(source: str, context: dict[str, Any]) -> str:
    if "{" not in source:
        return source
    try:
        text = _compiled(source).render(context)
    except Exception as exc:  # the sandbox raises SecurityError, others TypeError/UndefinedError...
        raise TemplateError(f"template failed: {exc}") from None
    return text[:MAX_OUTPUT]


def render_value(value: Any, context: dict[str, Any]) -> Any:
    """Render every string inside a JSON-like value (HTTP bodies, headers)."""
    if isinstance(value, str):
        return render(value, context)
    if isinstance(value, list):
        return [render_value(v, context) for v in value]
    if isinstance(value, dict):
        return {k: render_value(v, context) for k, v in value.items()}
    return value
