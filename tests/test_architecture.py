"""The code's shape: packages import in one direction, and SQL lives in `store/` only.

Parses every module under src/frontdesk with `ast` (imports inside functions count too) and
checks each import against the layers below. A failure names the module, the line and the import.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "frontdesk"

# Lower layers never import higher ones. Steps are plugins on the domain: they see nothing of the
# store. Channel adapters are plugins too (verify, parse, send: no writes), so actions/ may look
# one up; the loops that deliver and fetch media through them (`delivery`, `media_fetcher`) write
# through actions/, beside the engine. `destinations` (the private-address guard) sits at the
# bottom, where adapters and the engine's HTTP steps both reach it. Assignment chooses and asks
# actions/ to write; actions/ reaches the queues through the hook assignment installs at
# composition (actions.assignments.use_queues). `server` is the composition root; `application`
# assembles the API and the web pages into one app.
LAYERS: list[set[str]] = [
    {"domain", "clock", "settings", "logs", "inflight", "destinations", "__init__"},
    {"steps"},
    {"workflows"},
    {"store"},
    {"channels"},
    {"actions"},
    {"assignment"},
    {"engine", "delivery", "media_fetcher", "smtp_receiver", "imap_poller", "metrics"},
    {"worker"},
    {"api", "web"},
    {"application"},
    {"server", "supervisor"},
    {"cli"},
]
# Imports allowed between two packages of the same layer (the other way round is a cycle).
SIDEWAYS = {("web", "api"), ("destinations", "clock")}  # a Retry-After date is read against the clock
# Top-level modules that belong to a package-like unit.
UNITS = {"cli_workflows": "cli", "cli_worker": "cli", "demo": "cli", "__main__": "cli"}

SQL_TEXT = re.compile(
    r"\b(SELECT\s.+\sFROM|INSERT INTO|UPDATE\s+\w+\s+SET|DELETE FROM)\b|\bWHERE\s+\w+\s*(=|<|>|IN\b|IS\b)"
)
STATEMENT_BUILDERS = {"select", "insert", "update", "delete", "text"}


def _modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(SRC).with_suffix("").parts
        yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts), path


def _unit(module: str) -> str:
    parts = module.split(".")
    name = parts[1] if len(parts) > 1 else "__init__"
    return UNITS.get(name, name)


def _rank(unit: str) -> int:
    return next(i for i, layer in enumerate(LAYERS) if unit in layer)


def _imports(module: str, path: Path) -> Iterator[tuple[int, str]]:
    """(line, imported module) of every frontdesk import in the file, at any depth."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "frontdesk")
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "frontdesk":  # `from frontdesk import assignment, __version__`
                yield from ((node.lineno, _submodule(a.name)) for a in node.names)
            elif node.module.startswith("frontdesk."):
                yield node.lineno, node.module


def _submodule(name: str) -> str:
    is_module = (PACKAGE / name).is_dir() or (PACKAGE / f"{name}.py").exists()
    return f"frontdesk.{name}" if is_module else "frontdesk"


def _relative(path: Path) -> str:
    return path.relative_to(PACKAGE).as_posix()


def import_violations() -> list[str]:
    found = []
    for module, path in _modules():
        unit = _unit(module)
        for line, target in _imports(module, path):
            other = _unit(target)
            if other == unit:
                continue
            below = _rank(other) < _rank(unit)
            if not below and (unit, other) not in SIDEWAYS:
                found.append(f"{_relative(path)}:{line} ({unit}) imports {target} ({other})")
    return found


def test_every_package_is_in_a_layer() -> None:
    units = {_unit(module) for module, _ in _modules()}
    placed = set().union(*LAYERS)
    assert units <= placed, f"place these in LAYERS: {sorted(units - placed)}"


def test_packages_import_only_lower_layers() -> None:
    assert import_violations() == [], "imports against the layers (lower may not import higher):\n" + "\n".join(
        import_violations()
    )


def _sql_in(path: Path) -> list[str]:
    """SQL text (string literals), SQLAlchemy statement builders and table imports the file holds."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL_TEXT.search(node.value):
            found.append(f"{_relative(path)}:{node.lineno} SQL text {node.value[:60]!r}")
        elif isinstance(node, ast.ImportFrom) and node.module == "frontdesk.store.tables":
            found.append(f"{_relative(path)}:{node.lineno} reads the schema: from {node.module} import ...")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "sqlalchemy":
            built = sorted(a.name for a in node.names if a.name in STATEMENT_BUILDERS)
            if built:
                found.append(f"{_relative(path)}:{node.lineno} builds statements: from {node.module} import {built}")
    return found


def _outside_store() -> Iterator[Path]:
    return (p for _, p in _modules() if not _relative(p).startswith("store/"))


def test_no_sql_outside_the_store() -> None:
    found = [hit for path in _outside_store() for hit in _sql_in(path)]
    assert found == [], "SQL belongs in store/ (one function per operation):\n" + "\n".join(found)
