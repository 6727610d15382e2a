"""Away messages: a contact writing to a team outside its business hours is told when it is back.

Sent at most once per conversation unless the team says otherwise (`away_once: false`, then at
most once per contact message). The text is a template: `{{ next_open }}`, `{{ team }}`.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection

from frontdesk.actions.conversations import send_message
from frontdesk.domain.model import Actor, AuthorKind
from frontdesk.domain.schedule import Schedule
from frontdesk.domain.teams import AssignmentSettings
from frontdesk.domain.workflows import templates
from frontdesk.store import rows
from frontdesk.store.tables import conversations, teams

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
    team = rows.by_id(conn, teams, team_id)
    if team is None or not team["away_message"] or not team["business_hours"]:
        return False
    once = AssignmentSettings.model_validate(team["assignment"] or {}).away_once
    if once and away_sent_at is not None:
        return False
    schedule = Schedule.model_validate(team["business_hours"])
    if schedule.status_at(now) == "open":
        return False
    context = {"next_open": schedule.describe_next_opening(now) or "", "team": team["name"]}
    try:
        text = templates.render(team["away_message"], context)
    except templates.TemplateError:
        text = team["away_message"]
    send_message(conn, conversation_id, SYSTEM, text)
    rows.update_by_id(conn, conversations, conversation_id, {"away_sent_at": now})
    return True
