"""Workflow definitions written as YAML, loaded with a bound on how deep they nest.

PyYAML composes documents recursively: text nested a few thousand levels deep exhausts Python's
stack. Its parser is not recursive, so the events are counted first and deep text is refused as
a YAML error, which every caller already reports as a 4xx."""

from __future__ import annotations

from typing import Any

import yaml

MAX_YAML_DEPTH = 64


class TooDeep(yaml.YAMLError):
    def __str__(self) -> str:
        return f"it nests lists and mappings deeper than {MAX_YAML_DEPTH} levels"


def load_yaml(text: str) -> Any:
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_YAML_DEPTH:
                raise TooDeep()
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    return yaml.safe_load(text)
