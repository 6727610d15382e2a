"""Away messages: a contact writing to a team outside its business hours is told when it is back.

Sent at most once per conversation unless the team says otherwise (`away_once: false`, then at
most once per contact message). The text is a template: `{{ next_open }}`, `{{ team }}`.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection

from frontdesk.actions.conversations import send_message
from frontdesk.assignment.pool import assignment_settings
from frontdesk.domain.model import Actor, AuthorKind
from frontdesk.domain.schedule import Schedule
from frontdesk.domain.workflows import templates
from frontdesk.store import rows
from frontdesk.store.tables import conversations

SYSTEM = Actor(AuthorKind.SYSTEM)


def maybe_send_away(conn: Connection, conversation_id: int | None, now: dt.datetime) -> bool:
    if conversation_id is None:
        return False
    conversation = rows.execute(
        conn, "SELECT team_id, status, away_sent_at FROM conversations WHERE id = ?", (conversation_id,)
    ).fetchone()
    if conversation is None:
        return False
    team_id, status, away_sent_at = conversation
    if team_id is None or status != "open":
        return False
    team = rows.execute(
        conn, "SELECT name, assignment, business_hours, away_message FROM teams WHERE id = ?", (team_id,)
    ).fetchone()
    if team is None or not team[3]:  # no away message: nothing to decode
        return False
    name, assignment, stored_hours, away_message = team
    hours = rows.loads(stored_hours) if stored_hours else None
    if not hours:
        return False
    if assignment_settings(assignment).away_once and away_sent_at is not None:
        return False
    schedule = Schedule.model_validate(hours)
    if schedule.status_at(now) == "open":
        return False
    context = {"next_open": schedule.describe_next_opening(now) or "", "team": name}
    try:
        text = templates.render(away_message, context)
    except templates.TemplateError:
        text = away_message
    send_message(conn, conversation_id, SYSTEM, text)
    rows.update_by_id(conn, conversations, conversation_id, {"away_sent_at": now})
    return True
