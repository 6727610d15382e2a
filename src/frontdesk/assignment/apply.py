"""Writing an assignment: the conversation, the agents' open counters and the event, together.

Counters move in the same transaction as the conversation, so `open_count` is always the number
of open conversations an agent holds. Auto-assignment takes a place with a conditional update
(`open_count < capacity`), which stays correct when several processes assign at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection

from frontdesk.actions.events import emit
from frontdesk.domain import events as ev
from frontdesk.domain.model import Actor
from frontdesk.store import rows
from frontdesk.store.tables import conversations


def take_place(conn: Connection, agent_id: int, capacity: int, now: dt.datetime) -> bool:
    """Count one more open conversation for the agent if they are under `capacity`."""
    changed = rows.execute(
        conn,
        "UPDATE agents SET open_count = open_count + 1, last_assigned_at = ? WHERE id = ? AND open_count < ?",
        (rows.encode_time(now), agent_id, capacity),
    ).rowcount
    return changed == 1


def add_place(conn: Connection, agent_id: int, now: dt.datetime) -> None:
    """Manual assignment may go over capacity: a person decided it."""
    rows.execute(
        conn,
        "UPDATE agents SET open_count = open_count + 1, last_assigned_at = ? WHERE id = ?",
        (rows.encode_time(now), agent_id),
    )


def release_place(conn: Connection, agent_id: int | None) -> None:
    if agent_id is not None:
        rows.execute(conn, "UPDATE agents SET open_count = open_count - 1 WHERE id = ? AND open_count > 0", (agent_id,))


def record_assignment(
    conn: Connection,
    conversation: Mapping[str, Any],
    agent_id: int | None,
    team_id: int | None,
    actor: Actor,
    *,
    strategy: str | None,
    reason: str,
    now: dt.datetime,
    reply_due_at: dt.datetime | None = None,
) -> None:
    """Point the conversation at its new assignee (the place was already taken) and say so."""
    previous = conversation["assignee_id"]
    if previous is not None and previous != agent_id:
        release_place(conn, previous)
    values: dict[str, Any] = {"assignee_id": agent_id, "assigned_at": now, "reply_due_at": reply_due_at}
    if previous != agent_id:
        values["first_reply_at"] = None
    if team_id is not None:
        values["team_id"] = team_id
        if strategy == "round_robin" and agent_id is not None:
            rows.execute(conn, "UPDATE teams SET rr_last_agent_id = ? WHERE id = ?", (agent_id, team_id))
    rows.update_by_id(conn, conversations, conversation["id"], values)
    rows.execute(conn, "DELETE FROM queue_entries WHERE conversation_id = ?", (conversation["id"],))
    emit(
        conn,
        ev.CONVERSATION_ASSIGNED,
        {
            "agent_id": agent_id,
            "team_id": team_id if team_id is not None else conversation["team_id"],
            "previous_agent_id": previous,
            "strategy": strategy,
            "reason": reason,
            "actor": actor.as_payload(),
        },
        contact_id=conversation["contact_id"],
        conversation_id=conversation["id"],
    )
