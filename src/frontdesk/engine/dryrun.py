"""Dry run: walk a draft with a sample contact and simulated answers, changing nothing.

Replies come from `answers` in order; HTTP steps get `http[step_id]` ({status, body}) or fail;
timeouts are taken when no answer is left; assignment succeeds unless `available` is false.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from frontdesk.domain.attachments import NewAttachment
from frontdesk.domain.contacts import normalise_tags
from frontdesk.domain.model import RunStatus, WaitKind
from frontdesk.domain.teams import AssignTarget
from frontdesk.domain.workflows import templates
from frontdesk.engine.interpreter import RunState, StepFailed, StepRecord, advance
from frontdesk.steps.base import Assignment, Catalog, HttpResult, Reply, Signal, Timeout
from frontdesk.workflows.definition import Workflow

MAX_RESUMES = 100


class MemoryRuntime:
    def __init__(self, state: RunState, sample: dict[str, Any], now: dt.datetime) -> None:
        self.state = state
        self.now = now
        self.step_state: dict[str, Any] = {}
        self.catalog = Catalog(check_names=False)
        contact = dict(sample.get("contact") or {})
        name = str(contact.get("name") or "")
        contact.setdefault("fields", {})
        contact.setdefault("tags", [])
        contact.setdefault("first_name", name.split(" ")[0] if name else "")
        self.ctx: dict[str, Any] = {
            "contact": contact,
            "conversation": dict(sample.get("conversation") or {"status": "open", "source": "contact"}),
            "channel": dict(sample.get("channel") or {"type": "api"}),
            "event": dict(sample.get("event") or {}),
            "message": {"text": sample.get("message", "")},
            "vars": state.vars,
        }
        self.available = bool(sample.get("available", True))
        self.effects: list[dict[str, Any]] = []

    def context(self) -> dict[str, Any]:
        return self.ctx

    def render(self, source: str) -> str:
        try:
            return templates.render(source, self.ctx)
        except templates.TemplateError as exc:
            raise StepFailed(str(exc)) from None

    def visits(self) -> int:
        return self.state.visits.get(self.state.step_id or "", 0)

    def is_store_failure(self, exc: Exception) -> bool:
        return False  # nothing is written

    def send_message(self, text: str, quick_replies: list[str], attachments: Sequence[NewAttachment] = ()) -> None:
        effect: dict[str, Any] = {"send_message": text, "quick_replies": quick_replies}
        if attachments:
            effect["attachments"] = [{"kind": str(a.kind), "url": a.source_url} for a in attachments]
        self.effects.append(effect)

    def send_template(self, name: str, language: str, parameters: list[str]) -> None:
        self.effects.append({"send_template": name, "language": language, "parameters": parameters})

    def add_comment(self, text: str) -> None:
        self.effects.append({"add_comment": text})

    def set_field(self, key: str, value: Any) -> None:
        self.ctx["contact"]["fields"][key] = value
        self.effects.append({"set_field": key, "value": value})

    def set_var(self, name: str, value: Any) -> None:
        self.state.vars[name] = value

    def update_tags(self, add: list[str], remove: list[str]) -> None:
        tags = [t for t in self.ctx["contact"]["tags"] if t not in normalise_tags(remove)]
        self.ctx["contact"]["tags"] = tags + [t for t in normalise_tags(add) if t not in tags]
        self.effects.append({"add_tags": add, "remove_tags": remove})

    def assign(self, targets: list[AssignTarget], skills: dict[str, str]) -> Assignment:
        names = ", ".join(t.describe() for t in targets)
        self.effects.append({"assign": names, "skills": skills, "available": self.available})
        if not self.available:
            return Assignment(None, None, f"simulated: nobody available in {names}")
        return Assignment(0, None, f"simulated: assigned to {targets[0].describe()}")

    def enqueue(self, team: str, priority: int, skills: dict[str, str]) -> bool:
        self.effects.append({"queue": team, "priority": priority})
        return True

    def dequeue(self) -> None:
        self.effects.append({"dequeue": True})

    def open_conversation(self) -> bool:
        self.effects.append({"open_conversation": True})
        return True

    def close_conversation(self, note: str | None, category: str | None) -> bool:
        self.effects.append({"close_conversation": True, "note": note, "category": category})
        return True

    def start_workflow(self, name: str) -> bool:
        self.effects.append({"start_workflow": name})
        return True


def dry_run(workflow: Workflow, sample: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    state = RunState(workflow.start)
    runtime = MemoryRuntime(state, sample, now)
    answers = [str(a) for a in sample.get("answers", [])]
    http = dict(sample.get("http") or {})
    records: list[StepRecord] = advance(workflow, state, runtime)
    for _ in range(MAX_RESUMES):
        if state.status != RunStatus.WAITING or state.wait is None:
            break
        signal: Signal
        if state.wait.kind == WaitKind.REPLY:
            signal = Reply(answers.pop(0), 0) if answers else Timeout()
        elif state.wait.kind == WaitKind.HTTP:
            response = http.get(state.step_id or "")
            signal = (
                HttpResult(int(response.get("status", 200)), response.get("body"), None)
                if isinstance(response, dict)
                else HttpResult(None, None, "not simulated: give http.<step id> = {status, body}")
            )
        else:
            signal = Timeout()
        records += advance(workflow, state, runtime, signal)
    return {
        "status": state.status,
        "end_reason": state.end_reason,
        "path": [r.__dict__ for r in records],
        "effects": runtime.effects,
        "vars": state.vars,
    }
