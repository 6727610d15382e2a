"""Named secrets in templates: `{{ secrets.CRM_KEY }}` renders to a mark, never to the value.

The engine puts the value in place of its mark only when it makes the HTTP call, so a value is
never stored in a run, its step records or the logs. A mark carries a nonce drawn at each render:
text a contact wrote, rendered into the same request, cannot forge a mark to pull a secret out.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from typing import Any

from jinja2 import nodes
from jinja2.exceptions import TemplateSyntaxError
from jinja2.sandbox import ImmutableSandboxedEnvironment

NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
_MARK = re.compile(r"\[\[secret:([A-Za-z][A-Za-z0-9_]{0,63}):([0-9a-f]{16})\]\]")
_PARSER = ImmutableSandboxedEnvironment()
HIDDEN = "[secret]"  # what a value is replaced with where it shows up in a response or an error


class SecretMarks:
    """The `secrets` a template sees: any name gives that secret's mark under this render's nonce."""

    def __init__(self, nonce: str) -> None:
        self._nonce = nonce

    def __getattr__(self, name: str) -> str:
        if name.startswith("_"):
            raise AttributeError(name)
        return f"[[secret:{name}:{self._nonce}]]"

    def __getitem__(self, name: object) -> str:
        return self.__getattr__(str(name))


def new_nonce() -> str:
    return secrets.token_hex(8)


def names_in(source: str) -> set[str]:
    """The secret names `source` refers to; "" for a use that names none (`secrets[var]`)."""
    if "secrets" not in source:
        return set()
    try:
        tree = _PARSER.parse(source)
    except TemplateSyntaxError:
        return set()  # reported by the template check
    found: set[str] = set()
    named: set[int] = set()
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        assert isinstance(node, nodes.Getattr | nodes.Getitem)
        target = node.node
        if not (isinstance(target, nodes.Name) and target.name == "secrets"):
            continue
        key = node.attr if isinstance(node, nodes.Getattr) else _constant(node.arg)
        if key:
            found.add(key)
            named.add(id(target))
    if any(id(n) not in named for n in tree.find_all(nodes.Name) if n.name == "secrets"):
        found.add("")
    return found


def _constant(node: nodes.Node) -> str | None:
    return node.value if isinstance(node, nodes.Const) and isinstance(node.value, str) else None


def marked(value: Any, nonce: str) -> set[str]:
    """The names of the marks of this render in a JSON-like value."""
    return {name for text in _strings(value) for name, mark_nonce in _MARK.findall(text) if mark_nonce == nonce}


def reveal(value: Any, nonce: str, values: dict[str, str]) -> Any:
    """`value` with each mark of this render replaced by its secret; KeyError names one not set."""
    return _each_string(value, lambda text: _MARK.sub(lambda m: _value_of(m, nonce, values), text))


def shown(value: Any, nonce: str) -> Any:
    """`value` as a run records it: each mark written back as the template that made it."""
    return _each_string(
        value, lambda text: _MARK.sub(lambda m: f"{{{{ secrets.{m[1]} }}}}" if m[2] == nonce else m[0], text)
    )


def hide(value: Any, values: dict[str, str]) -> Any:
    """`value` (an answer, an error) with every secret value in it replaced by HIDDEN."""
    found = sorted((v for v in values.values() if v), key=len, reverse=True)
    if not found:
        return value
    pattern = re.compile("|".join(re.escape(v) for v in found))
    return _each_string(value, lambda text: pattern.sub(HIDDEN, text))


def _value_of(match: re.Match[str], nonce: str, values: dict[str, str]) -> str:
    if match[2] != nonce:
        return match[0]
    if match[1] not in values:
        raise KeyError(match[1])
    return values[match[1]]


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _each_string(value: Any, change: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return change(value)
    if isinstance(value, dict):
        return {k: _each_string(v, change) for k, v in value.items()}
    if isinstance(value, list):
        return [_each_string(v, change) for v in value]
    return value
