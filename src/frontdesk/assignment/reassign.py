"""Reassignment when the assignee stays silent: a team's `reassign_after` sets a reply deadline
at assignment; when it passes with no first reply, the conversation goes to another available
member of the team (or back to its queue). Deadlines are rows, so they fire after a restart."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, RowMapping, func, select, update

from frontdesk.actions.events import emit
from frontdesk.assignment.apply import release_place
from frontdesk.assignment.pool import load_team, online_members
from frontdesk.assignment.queue import SYSTEM, assign_from_pool, enqueue
from frontdesk.domain import events as ev
from frontdesk.domain.workflows.durations import format_duration
from frontdesk.store.tables import conversations

_DUE = (conversations.c.status == "open") & conversations.c.first_reply_at.is_(None)


def reassign_due(conn: Connection, now: dt.datetime, limit: int = 200) -> int:
    due = conn.execute(
        select(conversations)
        .where(_DUE, conversations.c.reply_due_at <= now)
        .order_by(conversations.c.reply_due_at)
        .limit(limit)
    ).mappings()
    count = 0
    for conversation in list(due):
        _reassign(conn, conversation, now)
        count += 1
    return count


def next_reply_due(conn: Connection) -> dt.datetime | None:
    return conn.execute(select(func.min(conversations.c.reply_due_at)).where(_DUE)).scalar()


def _reassign(conn: Connection, row: RowMapping, now: dt.datetime) -> None:
    previous = row["assignee_id"]
    team_id = row["team_id"]
    conn.execute(update(conversations).where(conversations.c.id == row["id"]).values(reply_due_at=None))
    if team_id is None or previous is None:
        return
    team = load_team(conn, team_id)
    silence = format_duration(team.settings.reassign_after or 0)
    why = f"no first reply from agent {previous} within {silence}"
    skills = dict(row["required_skills"] or {})
    members = online_members(conn, team)
    exclude = frozenset({previous})
    if assign_from_pool(conn, row, team, members, skills, now, actor=SYSTEM, why=why, exclude=exclude) is not None:
        return
    release_place(conn, previous)
    conn.execute(update(conversations).where(conversations.c.id == row["id"]).values(assignee_id=None))
    emit(
        conn,
        ev.CONVERSATION_UNASSIGNED,
        {"previous_agent_id": previous, "reason": f"{why}; nobody else available", "actor": SYSTEM.as_payload()},
        contact_id=row["contact_id"],
        conversation_id=row["id"],
    )
    enqueue(conn, row, team, 0, skills, now)
