"""A workflow definition: name, one trigger, a graph of steps — parsed and validated at once.

`validate()` reports every problem with the step it belongs to and a path inside it, so an
author sees the whole list in one go (the API answers 422 with it; the builder pins each
problem on its box).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from frontdesk.domain.events import EventType
from frontdesk.domain.workflows import secret_refs, templates
from frontdesk.domain.workflows.conditions import ConditionGroup
from frontdesk.domain.workflows.paths import ROOTS, split
from frontdesk.steps import STEP_TYPES
from frontdesk.steps.base import Catalog, StepConfig


class TriggerEvent(StrEnum):
    CONVERSATION_OPENED = EventType.CONVERSATION_OPENED.value
    CONVERSATION_CLOSED = EventType.CONVERSATION_CLOSED.value
    MESSAGE_RECEIVED = EventType.MESSAGE_RECEIVED.value
    CONTACT_FIELD_UPDATED = EventType.CONTACT_FIELD_UPDATED.value
    CONTACT_TAG_ADDED = EventType.CONTACT_TAG_ADDED.value
    CONTACT_TAG_REMOVED = EventType.CONTACT_TAG_REMOVED.value
    INCOMING_WEBHOOK = "incoming_webhook"
    MANUAL = "manual"


class Trigger(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event: TriggerEvent
    conditions: ConditionGroup = Field(default_factory=ConditionGroup)


class _Document(BaseModel):
    """The outer shape; steps are checked one by one afterwards, to report each with its id."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=120)
    description: str | None = Field(default=None, max_length=2000)
    trigger: Trigger
    start: str | None = None
    steps: list[dict[str, Any]] = Field(min_length=1, max_length=200)


@dataclass(frozen=True)
class Problem:
    step: str | None
    path: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"step": self.step, "path": self.path, "message": self.message}

    def __str__(self) -> str:
        where = f"step {self.step!r}, {self.path}" if self.step else self.path
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class Workflow:
    """A valid definition, ready to run."""

    name: str
    description: str | None
    trigger: Trigger
    start: str
    steps: dict[str, StepConfig]

    def step(self, step_id: str) -> StepConfig:
        return self.steps[step_id]


class InvalidWorkflow(ValueError):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


def parse(data: Any, catalog: Catalog | None = None) -> Workflow:
    """The workflow in `data`, or InvalidWorkflow listing every problem."""
    workflow, problems = validate(data, catalog or Catalog(check_names=False))
    if workflow is None or problems:
        raise InvalidWorkflow(problems)
    return workflow


def validate(data: Any, catalog: Catalog) -> tuple[Workflow | None, list[Problem]]:
    if not isinstance(data, dict):
        return None, [Problem(None, "", "a workflow is a mapping with name, trigger and steps")]
    try:
        document = _Document.model_validate(data)
    except ValidationError as exc:
        return None, [Problem(None, _loc(e["loc"]), e["msg"]) for e in exc.errors()]
    problems: list[Problem] = []
    steps: dict[str, StepConfig] = {}
    for index, raw in enumerate(document.steps):
        step = _parse_step(index, raw, problems)
        if step is None:
            continue
        if step.id in steps:
            problems.append(Problem(step.id, f"steps[{index}].id", f"step id {step.id!r} is used twice"))
            continue
        steps[step.id] = step
    start = document.start or _first_id(document.steps)
    if start not in steps and not any(p.step == start for p in problems):
        problems.append(Problem(None, "start", f"start step {start!r} does not exist"))
    declared = {raw["id"] for raw in document.steps if isinstance(raw.get("id"), str)}
    problems += _check_trigger(document.trigger, catalog)
    for step in steps.values():
        problems += _check_step(step, steps, declared, catalog)
    if start in steps and not problems:  # a broken graph would make every later step "unreachable"
        problems += _check_graph(start, steps)
    problems += _unguarded_cycles(steps)
    if problems:
        return None, problems
    return Workflow(document.name, document.description, document.trigger, start, steps), []


def _first_id(raw_steps: list[dict[str, Any]]) -> str:
    return str(raw_steps[0].get("id", ""))


def _loc(loc: tuple[Any, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path.lstrip(".")


def _parse_step(index: int, raw: dict[str, Any], problems: list[Problem]) -> StepConfig | None:
    step_id = raw.get("id") if isinstance(raw.get("id"), str) else None
    kind = raw.get("type")
    if not isinstance(kind, str) or kind not in STEP_TYPES:
        known = ", ".join(sorted(STEP_TYPES.names()))
        problems.append(Problem(step_id, f"steps[{index}].type", f"unknown step type {kind!r} (known: {known})"))
        return None
    try:
        return STEP_TYPES[kind].config.model_validate(raw)
    except ValidationError as exc:
        for error in exc.errors():
            problems.append(Problem(step_id, _loc(error["loc"]) or "type", error["msg"]))
        return None


def _check_trigger(trigger: Trigger, catalog: Catalog) -> list[Problem]:
    return [
        Problem(None, f"trigger.conditions.{c.field}", message)
        for c in trigger.conditions.conditions()
        if (message := _field_problem(c.field, catalog, written=set(), in_trigger=True))
    ]


def _check_step(step: StepConfig, steps: dict[str, StepConfig], declared: set[str], catalog: Catalog) -> list[Problem]:
    found: list[Problem] = []
    for label, target in step.targets().items():
        if target is not None and target not in declared:
            found.append(Problem(step.id, label, f"target step {target!r} does not exist"))
    for path, source in step.templates():
        try:
            templates.check(source)
        except templates.TemplateError as exc:
            found.append(Problem(step.id, path, str(exc)))
        found += [
            Problem(step.id, path, m)
            for name in secret_refs.names_in(source)
            if (m := _secret_problem(step, name, catalog))
        ]
    written = {path for other in steps.values() for path in other.fields_written()}
    for path, field in step.fields_read():
        if message := _field_problem(field, catalog, written, in_trigger=False):
            found.append(Problem(step.id, path, message))
    found += [Problem(step.id, path, message) for path, message in step.problems(catalog)]
    return found


def _secret_problem(step: StepConfig, name: str, catalog: Catalog) -> str | None:
    if not step.uses_secrets:
        return "secrets may be used only in http_request steps (url, headers, body)"
    if not name:
        return "name the secret: {{ secrets.NAME }}"
    if catalog.check_names and name not in catalog.secrets:
        return f"secret {name!r} is not set: an admin sets it with PUT /api/v1/secrets/{name}"
    return None


def _field_problem(field: str, catalog: Catalog, written: set[str], in_trigger: bool) -> str | None:
    parts = split(field)
    if not parts or parts[0] not in ROOTS:
        return f"unknown field {field!r}: it must start with one of {', '.join(ROOTS)}"
    if in_trigger and parts[0] == "vars":
        return f"{field!r}: a trigger cannot read variables (none exist before the run)"
    declared = catalog.fields | {w.removeprefix("contact.fields.") for w in written}
    if parts[:2] == ["contact", "fields"] and len(parts) > 2 and catalog.check_names and parts[2] not in declared:
        return f"contact field {parts[2]!r} does not exist"
    if parts[0] == "vars" and len(parts) > 1 and not in_trigger and f"vars.{parts[1]}" not in written:
        return f"variable {parts[1]!r} is never set by a step of this workflow"
    return None


def _check_graph(start: str, steps: dict[str, StepConfig]) -> list[Problem]:
    reachable: set[str] = set()
    frontier = [start]
    while frontier:
        current = frontier.pop()
        if current in reachable or current not in steps:
            continue
        reachable.add(current)
        frontier += [t for t in steps[current].targets().values() if t is not None]
    return [Problem(s, "id", "unreachable: no step leads here") for s in steps if s not in reachable]


def _unguarded_cycles(steps: dict[str, StepConfig]) -> list[Problem]:
    """A loop must pass through a step that waits or counts its visits, or a run would spin."""
    edges = {
        sid: [t for t in step.targets().values() if t in steps and not steps[t].breaks_loops]
        for sid, step in steps.items()
        if not step.breaks_loops
    }
    found: list[Problem] = []
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for target in edges.get(node, []):
            if state.get(target) == 1:
                loop = [*path[path.index(target) :], target]
                found.append(Problem(target, "next", "loop without a wait: " + " → ".join(loop)))
            elif target not in state:
                visit(target, [*path, target])
        state[node] = 2

    for node in edges:
        if node not in state:
            visit(node, [node])
    return found
