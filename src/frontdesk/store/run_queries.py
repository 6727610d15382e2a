"""Read-side queries for workflows and their runs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, select, true

from frontdesk.domain.errors import NotFound
from frontdesk.store.tables import workflow_run_steps, workflow_runs, workflow_versions, workflows

MAX_PAGE = 200


def _workflow(row: dict[str, Any], version: int | None) -> dict[str, Any]:
    return {**row, "published_version": version}


def list_workflows(conn: Connection) -> list[dict[str, Any]]:
    query = (
        select(workflows, workflow_versions.c.number)
        .outerjoin(workflow_versions, workflow_versions.c.id == workflows.c.published_version_id)
        .order_by(workflows.c.id)
    )
    return [
        _workflow({k: v for k, v in r.items() if k != "number"}, r["number"]) for r in conn.execute(query).mappings()
    ]


def workflow_detail(conn: Connection, workflow_id: int) -> dict[str, Any]:
    row = conn.execute(select(workflows).where(workflows.c.id == workflow_id)).mappings().first()
    if row is None:
        raise NotFound("workflow", workflow_id)
    versions = conn.execute(
        select(workflow_versions.c.id, workflow_versions.c.number, workflow_versions.c.created_at)
        .where(workflow_versions.c.workflow_id == workflow_id)
        .order_by(workflow_versions.c.number)
    ).mappings()
    found = [dict(v) for v in versions]
    published = next((v["number"] for v in found if v["id"] == row["published_version_id"]), None)
    return {**_workflow(dict(row), published), "versions": found}


def version_definition(conn: Connection, workflow_id: int, number: int) -> dict[str, Any]:
    definition = conn.execute(
        select(workflow_versions.c.definition).where(
            workflow_versions.c.workflow_id == workflow_id, workflow_versions.c.number == number
        )
    ).scalar()
    if definition is None:
        raise NotFound("workflow_version", f"{number} of workflow {workflow_id}")
    return dict(definition)


def list_runs(
    conn: Connection,
    *,
    workflow_id: int | None,
    conversation_id: int | None,
    contact_id: int | None,
    status: str | None,
    limit: int,
    before: int | None,
    visible: ColumnElement[bool] | None = None,
) -> list[dict[str, Any]]:
    """`visible`: the runs the caller may see (store.workflow_access.runs_seen_by)."""
    filters = [
        column == value
        for column, value in (
            (workflow_runs.c.workflow_id, workflow_id),
            (workflow_runs.c.conversation_id, conversation_id),
            (workflow_runs.c.contact_id, contact_id),
            (workflow_runs.c.status, status),
        )
        if value is not None
    ]
    if before is not None:
        filters.append(workflow_runs.c.id < before)
    query = (
        select(workflow_runs)
        .where(and_(true() if visible is None else visible, *filters))
        .order_by(workflow_runs.c.id.desc())
        .limit(max(1, min(limit, MAX_PAGE)))
    )
    return [_run(dict(r)) for r in conn.execute(query).mappings()]


def _run(row: dict[str, Any]) -> dict[str, Any]:
    row.pop("lease_until", None)
    row.pop("wait_after_event", None)
    row["current_step"] = row.pop("step_id")
    row["waiting_for"] = row.pop("wait_kind")
    return row


def run_detail(conn: Connection, run_id: int) -> dict[str, Any]:
    row = conn.execute(select(workflow_runs).where(workflow_runs.c.id == run_id)).mappings().first()
    if row is None:
        raise NotFound("run", run_id)
    run = _run(dict(row))
    run["version"] = conn.execute(
        select(workflow_versions.c.number).where(workflow_versions.c.id == run["version_id"])
    ).scalar()
    steps = conn.execute(
        select(workflow_run_steps).where(workflow_run_steps.c.run_id == run_id).order_by(workflow_run_steps.c.seq)
    ).mappings()
    run["steps"] = [{k: v for k, v in s.items() if k not in ("id", "run_id")} for s in steps]
    return run
