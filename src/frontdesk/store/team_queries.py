"""Read-side queries for team queues and live figures."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, select

from frontdesk.store.queries import team_detail
from frontdesk.store.tables import agents, conversations, queue_entries, team_members


def team_queue(conn: Connection, team_id: int) -> list[dict[str, Any]]:
    team_detail(conn, team_id)  # 404 for an unknown team
    rows = conn.execute(
        select(
            queue_entries.c.conversation_id,
            queue_entries.c.priority,
            queue_entries.c.skills,
            queue_entries.c.enqueued_at,
            queue_entries.c.relax_at,
            conversations.c.contact_id,
        )
        .join(conversations, conversations.c.id == queue_entries.c.conversation_id)
        .where(queue_entries.c.team_id == team_id)
        .order_by(queue_entries.c.priority.desc(), queue_entries.c.enqueued_at, queue_entries.c.id)
    ).mappings()
    return [{"position": i + 1, **dict(r)} for i, r in enumerate(rows)]


def team_stats(conn: Connection, team_id: int, now: dt.datetime) -> dict[str, Any]:
    team = team_detail(conn, team_id)
    capacity_default = (team["assignment"] or {}).get("capacity")
    queued = conn.execute(select(queue_entries.c.enqueued_at).where(queue_entries.c.team_id == team_id)).scalars()
    waits = [(now - at).total_seconds() for at in queued]
    members = conn.execute(
        select(
            agents.c.id,
            agents.c.name,
            agents.c.availability,
            agents.c.open_count,
            agents.c.capacity,
            team_members.c.capacity.label("team_capacity"),
        )
        .join(team_members, team_members.c.agent_id == agents.c.id)
        .where(team_members.c.team_id == team_id)
        .order_by(agents.c.id)
    ).all()
    per_agent = [
        {
            "agent_id": m.id,
            "name": m.name,
            "availability": m.availability,
            "open": m.open_count,
            "capacity": next(c for c in (m.team_capacity, capacity_default, m.capacity) if c is not None),
        }
        for m in members
    ]
    return {
        "team_id": team_id,
        "queue_length": len(waits),
        "longest_wait_seconds": round(max(waits), 3) if waits else 0,
        "agents_online": sum(1 for m in members if m.availability == "online"),
        "agents": per_agent,
    }
