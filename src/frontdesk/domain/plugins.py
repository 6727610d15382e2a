"""One registry mechanism for the three plugin kinds: step types, assignment strategies, channel adapters.

A registry maps a name (what a workflow, a team or a channel row stores) to its plugin. Each kind
fills its registry from an explicit list of its built-in modules, never by importing them for a
side effect, so what is registered is read in one place; adding a plugin is one module plus one line.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Generic, TypeVar

from frontdesk.domain.errors import InvalidInput

T = TypeVar("T")


class UnknownPlugin(InvalidInput):
    """A name no plugin of its kind has: a workflow's step type, a team's strategy, a channel's type."""

    def __init__(self, kind: str, name: str, known: list[str]) -> None:
        code = "unknown_" + kind.replace(" ", "_")
        super().__init__(code, f"unknown {kind} {name!r} (known: {', '.join(sorted(known))})")
        self.kind = kind
        self.name = name


class Registry(Generic[T]):
    """Name → plugin of one kind, in registration order (the order docs and pickers list them)."""

    def __init__(self, kind: str, plugins: Iterable[tuple[str, T]] = ()) -> None:
        self.kind = kind
        self._plugins: dict[str, T] = {}
        for name, plugin in plugins:
            self.register(name, plugin)

    def register(self, name: str, plugin: T) -> None:
        """Add `plugin` under `name`; a second plugin for one name is a programming error."""
        if name in self._plugins:
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        self._plugins[name] = plugin

    def __getitem__(self, name: str) -> T:
        """The plugin named `name`, or UnknownPlugin naming the ones that exist."""
        plugin = self._plugins.get(name)
        if plugin is None:
            raise UnknownPlugin(self.kind, name, self.names())
        return plugin

    def names(self) -> list[str]:
        return list(self._plugins)

    def values(self) -> list[T]:
        return list(self._plugins.values())

    def __contains__(self, name: object) -> bool:
        return name in self._plugins

    def __len__(self) -> int:
        return len(self._plugins)
