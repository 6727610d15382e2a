"""The one registry mechanism of step types, assignment strategies and channel adapters."""

from __future__ import annotations

import pytest

from frontdesk.assignment.strategies import STRATEGIES
from frontdesk.channels import ADAPTERS
from frontdesk.domain.plugins import Registry, UnknownPlugin
from frontdesk.steps import STEP_TYPES


def test_an_unknown_name_is_a_domain_error_naming_the_known_ones() -> None:
    registry = Registry("colour", [("red", 1), ("blue", 2)])

    with pytest.raises(UnknownPlugin) as raised:
        registry["green"]

    assert raised.value.code == "unknown_colour"
    assert raised.value.status == 422
    assert raised.value.message == "unknown colour 'green' (known: blue, red)"


def test_a_name_registered_twice_is_refused() -> None:
    registry = Registry("colour", [("red", 1)])

    with pytest.raises(ValueError, match="registered twice"):
        registry.register("red", 3)
    assert registry["red"] == 1


def test_names_keep_the_order_of_registration() -> None:
    registry: Registry[int] = Registry("colour")
    registry.register("red", 1)
    registry.register("blue", 2)

    assert registry.names() == ["red", "blue"]
    assert registry.values() == [1, 2]
    assert "red" in registry and "green" not in registry


def test_every_builtin_plugin_is_registered_under_its_own_name() -> None:
    assert all(STEP_TYPES[name].name == name for name in STEP_TYPES.names())
    assert {"ask_question", "assign", "branch", "send_message", "send_template", "wait"} <= set(STEP_TYPES.names())
    assert STRATEGIES.names() == ["round_robin", "least_open", "longest_idle", "random"]
    assert all(ADAPTERS[name].type == name for name in ADAPTERS.names())
    assert ADAPTERS.names() == [
        "api",
        "webchat",
        "whatsapp",
        "telegram",
        "email",
        "twilio",
        "messenger",
        "instagram",
    ]
