"""Reassignment when the assignee stays silent: a team's `reassign_after` sets a reply deadline
at assignment; when it passes with no first reply, the conversation goes to another available
member of the team (or back to its queue). Deadlines are rows, so they fire after a restart."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection

from frontdesk.actions import assignments
from frontdesk.assignment.pool import load_team, online_members
from frontdesk.assignment.queue import assign_from_pool, enqueue
from frontdesk.domain.model import SYSTEM
from frontdesk.domain.records import Conversation
from frontdesk.domain.workflows.durations import format_duration
from frontdesk.store.sql import conversations as conversations_sql


def reassign_due(conn: Connection, now: dt.datetime, limit: int = 200) -> int:
    due = conversations_sql.reply_overdue(conn, now, limit)
    for conversation in due:
        _reassign(conn, conversation, now)
    return len(due)


def next_reply_due(conn: Connection) -> dt.datetime | None:
    return conversations_sql.next_reply_due(conn)


def _reassign(conn: Connection, conversation: Conversation, now: dt.datetime) -> None:
    previous = conversation.assignee_id
    team_id = conversation.team_id
    assignments.clear_reply_due(conn, conversation.id)
    if team_id is None or previous is None:
        return
    team = load_team(conn, team_id)
    silence = format_duration(team.settings.reassign_after or 0)
    why = f"no first reply from agent {previous} within {silence}"
    skills = dict(conversation.required_skills or {})
    members = online_members(conn, team)
    exclude = frozenset({previous})
    chosen = assign_from_pool(conn, conversation, team, members, skills, now, actor=SYSTEM, why=why, exclude=exclude)
    if chosen is not None:
        return
    assignments.unassign_silent(conn, conversation, f"{why}; nobody else available")
    enqueue(conn, conversation, team, 0, skills, now)
