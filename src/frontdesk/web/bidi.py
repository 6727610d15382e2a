"""Text people wrote (contact, agent and team names, messages) shown so that it cannot reorder
the page around it: Unicode direction controls (U+202E RIGHT-TO-LEFT OVERRIDE …) are stored as
given, but each piece is rendered inside its own `<bdi>`, which the bidirectional algorithm
treats as an isolated run: an override inside ends at its edge."""

from __future__ import annotations

from litestar.plugins.jinja import JinjaTemplateEngine
from markupsafe import Markup, escape


def isolate(value: object) -> Markup:
    """`value`, escaped, in a `<bdi>` (its direction guessed from its own first strong letter)."""
    return Markup("<bdi>%s</bdi>") % escape(value)


def register(engine: JinjaTemplateEngine) -> None:
    engine.engine.filters["isolate"] = isolate
