"""Away messages: a contact writing to a team outside its business hours is told when it is back.

Sent at most once per conversation unless the team says otherwise (`away_once: false`, then at
most once per contact message). The text is a template: `{{ next_open }}`, `{{ team }}`.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection

from frontdesk.actions.assignments import mark_away_sent
from frontdesk.actions.conversations import send_message
from frontdesk.domain.model import SYSTEM
from frontdesk.domain.schedule import Schedule
from frontdesk.domain.workflows import templates
from frontdesk.store import rows
from frontdesk.store.sql import assignment as sql
from frontdesk.store.sql import conversations as conversations_sql


def maybe_send_away(conn: Connection, conversation_id: int | None, now: dt.datetime) -> bool:
    if conversation_id is None:
        return False
    state = conversations_sql.away_state(conn, conversation_id)
    if state is None:
        return False
    team_id, status, away_sent_at = state
    if team_id is None or status != "open":
        return False
    rule = rows.remembered(conn, ("away_rule", team_id), lambda: sql.away_rule(conn, team_id))  # per engine job
    if rule is None:
        return False
    if rule.settings.away_once and away_sent_at is not None:
        return False
    schedule = Schedule.model_validate(rule.business_hours)
    if schedule.status_at(now) == "open":
        return False
    context = {"next_open": schedule.describe_next_opening(now) or "", "team": rule.name}
    try:
        text = templates.render(rule.away_message, context)
    except templates.TemplateError:
        text = rule.away_message
    send_message(conn, conversation_id, SYSTEM, text)
    mark_away_sent(conn, conversation_id, now)
    return True
