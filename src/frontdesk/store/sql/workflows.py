"""Workflows' and published versions' statements: drafts, publishing, enabling, webhook keys.

The engine finds enabled workflows and reads versions on the driver cursor (ADR 0003); the lists
and details the API and the builder show are in store/run_queries.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from frontdesk.store.tables import workflow_versions, workflows


def workflow_by_id(conn: Connection, workflow_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(workflows).where(workflows.c.id == workflow_id)).mappings().first()
    return None if row is None else dict(row)


def workflow_by_name(conn: Connection, name: str) -> dict[str, Any] | None:
    row = conn.execute(select(workflows).where(workflows.c.name == name)).mappings().first()
    return None if row is None else dict(row)


def workflow_id_by_webhook_key(conn: Connection, key: str) -> int | None:
    found = conn.execute(select(workflows.c.id).where(workflows.c.webhook_key == key)).scalar()
    return None if found is None else int(found)


def workflow_name_taken(conn: Connection, name: str, *, other_than: int | None = None) -> bool:
    """Whether a workflow (other than workflow `other_than`) is called `name`."""
    query = select(workflows.c.id).where(workflows.c.name == name)
    if other_than is not None:
        query = query.where(workflows.c.id != other_than)
    return conn.execute(query).first() is not None


def workflow_names(conn: Connection) -> frozenset[str]:
    return frozenset(conn.execute(select(workflows.c.name)).scalars())


def insert_workflow(
    conn: Connection, *, name: str, description: str | None, draft: dict[str, Any], webhook_key: str, at: dt.datetime
) -> int:
    """A new workflow: a draft, not enabled."""
    query = (
        insert(workflows)
        .values(
            name=name,
            description=description,
            draft=draft,
            enabled=False,
            webhook_key=webhook_key,
            created_at=at,
            updated_at=at,
        )
        .returning(workflows.c.id)
    )
    return int(conn.execute(query).scalar_one())


def save_draft(conn: Connection, workflow_id: int, draft: dict[str, Any], at: dt.datetime) -> None:
    conn.execute(update(workflows).where(workflows.c.id == workflow_id).values(draft=draft, updated_at=at))


def write_enabled(conn: Connection, workflow_id: int, enabled: bool, at: dt.datetime) -> None:
    conn.execute(update(workflows).where(workflows.c.id == workflow_id).values(enabled=enabled, updated_at=at))


def latest_version_number(conn: Connection, workflow_id: int) -> int:
    """The number of the workflow's newest published version; 0 before the first."""
    query = select(func.max(workflow_versions.c.number)).where(workflow_versions.c.workflow_id == workflow_id)
    return int(conn.execute(query).scalar() or 0)


def insert_version(
    conn: Connection,
    *,
    workflow_id: int,
    number: int,
    definition: dict[str, Any],
    published_by: Mapping[str, Any],
    at: dt.datetime,
) -> int:
    query = (
        insert(workflow_versions)
        .values(workflow_id=workflow_id, number=number, definition=definition, published_by=published_by, created_at=at)
        .returning(workflow_versions.c.id)
    )
    return int(conn.execute(query).scalar_one())


def mark_published(
    conn: Connection,
    workflow_id: int,
    *,
    version_id: int,
    trigger_event: str,
    name: str,
    description: str | None,
    at: dt.datetime,
) -> None:
    """The workflow now runs version `version_id`; its name, description and trigger are that version's."""
    conn.execute(
        update(workflows)
        .where(workflows.c.id == workflow_id)
        .values(
            published_version_id=version_id,
            trigger_event=trigger_event,
            name=name,
            description=description,
            updated_at=at,
        )
    )
