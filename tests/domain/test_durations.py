"""Durations in workflow definitions: the published JSON Schema accepts what the parser accepts."""

from __future__ import annotations

import re

import pytest

from frontdesk.domain.workflows.durations import DURATION_PATTERN, parse_duration
from frontdesk.workflows.schema import json_schema

TEXTS = ["10m", "30s", "2h", "7d", "1w", "1h30m", " 2 h ", "1.5h", "7D", "30", "x", "10 minutes", "2\th", "-5m", ""]


def parses(text: str) -> bool:
    try:
        parse_duration(text)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("text", TEXTS, ids=repr)
def test_the_schema_pattern_accepts_exactly_the_texts_the_parser_reads(text: str) -> None:
    assert bool(re.search(DURATION_PATTERN, text)) == parses(text)


@pytest.mark.parametrize(
    ("step", "key"), [("ask_question", "timeout"), ("assign", "queue_timeout"), ("wait", "duration")]
)
def test_the_workflow_schema_types_durations_as_text_or_seconds(step: str, key: str) -> None:
    definitions = json_schema()["$defs"]
    config = next(d for d in definitions.values() if d.get("properties", {}).get("type", {}).get("const") == step)

    options = config["properties"][key]["anyOf"]

    assert {"type": "number", "minimum": 0, "description": "seconds"} in options
    assert any(o.get("type") == "string" and o.get("pattern") == DURATION_PATTERN for o in options)
