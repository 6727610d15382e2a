"""Which workflows and runs a person may see, and how much of them.

A run follows its conversation (store.visibility): an agent sees a run only when they may see
its conversation, and a run with no conversation (started by hand or by an incoming webhook) is
for managers and admins. Definitions, webhook keys and the HTTP requests a run makes (URL, headers,
body: where API keys live) are for managers and admins too; an agent sees a workflow's name and
status, and a run's path with its HTTP steps' details replaced by a note. The API and the web
run explorer both go through here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Connection, exists, select, true

from frontdesk.domain.errors import NotFound
from frontdesk.domain.model import Role
from frontdesk.store import run_queries
from frontdesk.store.tables import conversations, workflow_runs
from frontdesk.store.visibility import Viewer, seen_by

HIDDEN = {"hidden": "the details of HTTP requests are shown to managers and admins only"}
SUMMARY = ("id", "name", "description", "enabled", "trigger_event", "published_version", "created_at", "updated_at")


def sees_definitions(viewer: Viewer) -> bool:
    return viewer.role.includes(Role.MANAGER)


def runs_seen_by(viewer: Viewer) -> ColumnElement[bool]:
    """The condition on `workflow_runs` rows that `viewer` may see."""
    if viewer.role.includes(Role.MANAGER):
        return true()
    return exists().where(conversations.c.id == workflow_runs.c.conversation_id, seen_by(viewer))


def run_seen(conn: Connection, viewer: Viewer, run_id: int) -> dict[str, Any]:
    """The run as `viewer` may see it; 404 as if it did not exist when they may not."""
    found = conn.execute(select(workflow_runs.c.id).where(workflow_runs.c.id == run_id, runs_seen_by(viewer))).first()
    if found is None:
        raise NotFound("run", run_id)
    return shown_to(viewer, run_queries.run_detail(conn, run_id))


def shown_to(viewer: Viewer, run: dict[str, Any]) -> dict[str, Any]:
    """A run (listed or in detail) without what `viewer` may not read."""
    if sees_definitions(viewer):
        return run
    shown = {**run, "step_state": {}, "http_request": None if run.get("http_request") is None else HIDDEN}
    if "steps" in run:
        shown["steps"] = [{**s, "output": HIDDEN} if s["step_type"] == "http_request" else s for s in run["steps"]]
    return shown


def workflows_shown_to(viewer: Viewer, listed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Workflows as listed for `viewer`: an agent gets each one's name and status only."""
    if sees_definitions(viewer):
        return listed
    return [{key: workflow[key] for key in SUMMARY} for workflow in listed]
