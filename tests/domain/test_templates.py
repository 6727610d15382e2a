"""Message templates: what a value renders as."""

from __future__ import annotations

from frontdesk.domain.workflows import templates


def test_a_value_that_is_none_renders_empty_like_a_missing_one() -> None:
    context = {"vars": {"next_open": None}}

    assert templates.render("Back {{ vars.next_open }}.", context) == "Back ."
    assert templates.render("Back {{ vars.missing }}.", context) == "Back ."


def test_false_and_zero_still_render_as_themselves() -> None:
    context = {"vars": {"done": False, "count": 0}}

    assert templates.render("{{ vars.done }} {{ vars.count }}", context) == "False 0"
