"""Assignment's statements: agents' open counters, team queues, the team pool, presence.

On the driver's cursor (ADR 0003): a new conversation is assigned on the hot path. Values come
back decoded (datetimes, dicts, `AssignmentSettings`), so SQLite's encoding stays here.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import Connection

from frontdesk.domain.model import Availability
from frontdesk.domain.records import Agent
from frontdesk.domain.teams import AssignmentSettings
from frontdesk.store import rows
from frontdesk.store.dialects.base import dumps
from frontdesk.store.tables import agents, teams

_MEMBERS = "online_members"  # the memo's key for a team's online members: (_MEMBERS, team_id)


class TeamRule(NamedTuple):
    """A team as assignment reads it: its settings and where its rotation stands."""

    id: int
    name: str
    settings: AssignmentSettings
    rr_last_agent_id: int | None


class OnlineMember(NamedTuple):
    """An online member of a team; `team_capacity` is the member's cap in this team, if any."""

    agent_id: int
    open_count: int
    capacity: int
    last_assigned_at: dt.datetime | None
    skills: dict[str, str]
    team_capacity: int | None


class QueueEntry(NamedTuple):
    conversation_id: int
    skills: dict[str, str]
    relax_at: dt.datetime | None


class AwayRule(NamedTuple):
    """A team's away message and the hours it answers in."""

    name: str
    settings: AssignmentSettings
    business_hours: dict[str, Any]
    away_message: str


# A JSON column comes back as text from SQLite and parsed from PostgreSQL (jsonb): both are
# decoded through the text, cached, since callers only read what they get.
def _settings(stored: str | dict[str, Any] | None) -> AssignmentSettings:
    """Validated once per distinct stored value, not per assignment."""
    return _settings_of(stored if stored is None or isinstance(stored, str) else dumps(stored))


@lru_cache(maxsize=1024)
def _settings_of(stored: str | None) -> AssignmentSettings:
    return AssignmentSettings.model_validate(rows.loads(stored) if stored else {})


def _skills(stored: str | dict[str, str] | None) -> dict[str, str]:
    return stored if isinstance(stored, dict) else _skills_of(stored)


@lru_cache(maxsize=4096)
def _skills_of(stored: str | None) -> dict[str, str]:
    return rows.loads(stored) if stored else {}


# -- capacity counters -----------------------------------------------------------------------
def take_place(conn: Connection, agent_id: int, capacity: int, now: dt.datetime) -> bool:
    """One more open conversation for the agent if they are under `capacity`: whether it fit."""
    at = rows.dialect(conn).encode_time(now)
    changed = rows.execute(
        conn,
        "UPDATE agents SET open_count = open_count + 1, last_assigned_at = ? WHERE id = ? AND open_count < ?",
        (at, agent_id, capacity),
    ).rowcount
    if changed == 1:
        _revise_member(conn, agent_id, 1, at)
    return bool(changed == 1)


def add_place(conn: Connection, agent_id: int, now: dt.datetime) -> None:
    at = rows.dialect(conn).encode_time(now)
    rows.execute(
        conn, "UPDATE agents SET open_count = open_count + 1, last_assigned_at = ? WHERE id = ?", (at, agent_id)
    )
    _revise_member(conn, agent_id, 1, at)


def release_place(conn: Connection, agent_id: int) -> None:
    sql = "UPDATE agents SET open_count = open_count - 1 WHERE id = ? AND open_count > 0"
    if rows.execute(conn, sql, (agent_id,)).rowcount == 1:
        _revise_member(conn, agent_id, -1, None)


def _revise_member(conn: Connection, agent_id: int, more: int, stored_at: Any) -> None:
    """The agent's row as the teams' remembered members (`online_members`) hold it, after the
    caller's write: its counter, and (`stored_at`, as written) when it was last assigned, as a read
    would give it back."""
    last = rows.dialect(conn).decode_time(stored_at)

    def change(members: list[OnlineMember]) -> list[OnlineMember]:
        return [
            m._replace(open_count=m.open_count + more, last_assigned_at=last or m.last_assigned_at)
            if m.agent_id == agent_id
            else m
            for m in members
        ]

    rows.revise_each(conn, _MEMBERS, change)


def members_changed(conn: Connection) -> None:
    """An agent's row or a team's membership changed other than by the counters above: the teams'
    members are read again (`online_members`)."""
    rows.forget_each(conn, _MEMBERS)


# -- teams and their members -----------------------------------------------------------------
def team_rule(conn: Connection, team_id: int) -> TeamRule | None:
    row = rows.execute(
        conn, "SELECT id, name, assignment, rr_last_agent_id FROM teams WHERE id = ?", (team_id,)
    ).fetchone()
    return None if row is None else TeamRule(row[0], row[1], _settings(row[2]), row[3])


def team_rules(conn: Connection) -> list[TeamRule]:
    found = rows.execute(conn, "SELECT id, name, assignment, rr_last_agent_id FROM teams ORDER BY id").fetchall()
    return [TeamRule(r[0], r[1], _settings(r[2]), r[3]) for r in found]


def team_id_named(conn: Connection, name: str) -> int | None:
    found = rows.scalar(conn, "SELECT id FROM teams WHERE name = ?", (name,))
    return None if found is None else int(found)


def set_rotation(conn: Connection, team_id: int, agent_id: int) -> None:
    """Round robin goes on after `agent_id` next time. In an engine job (`rows.memo`), written once
    when the job ends (`rows.write_later`): the job's remembered team moves with each assignment."""
    rows.write_later(conn, teams, ("rotation", team_id), _SET_ROTATION, (agent_id, team_id))


_SET_ROTATION = "UPDATE teams SET rr_last_agent_id = ? WHERE id = ?"


def away_rule(conn: Connection, team_id: int) -> AwayRule | None:
    """The team's away message and hours, or None when it has no message or no hours."""
    row = rows.execute(
        conn, "SELECT name, assignment, business_hours, away_message FROM teams WHERE id = ?", (team_id,)
    ).fetchone()
    if row is None or not row[3] or not row[2]:  # no away message: nothing to decode
        return None
    hours = rows.dialect(conn).decode_json(row[2])
    return AwayRule(row[0], _settings(row[1]), hours, row[3]) if hours else None


def online_members(conn: Connection, team_id: int) -> list[OnlineMember]:
    """The team's online members. In an engine job (`rows.memo`) read once per team: the job holds
    the writers' turn, so its own writes are the only changes to agents meanwhile, and the counters'
    (`take_place`, `add_place`, `release_place`) revise what is remembered. The capacity guard
    stays `take_place`'s conditional UPDATE."""
    return list(rows.remembered(conn, (_MEMBERS, team_id), lambda: _online_members(conn, team_id)))


def _online_members(conn: Connection, team_id: int) -> list[OnlineMember]:
    found = rows.execute(
        conn,
        "SELECT a.id, a.open_count, a.capacity, a.last_assigned_at, a.skills, m.capacity"
        " FROM agents a JOIN team_members m ON m.agent_id = a.id"
        " WHERE m.team_id = ? AND a.availability = ? ORDER BY a.id",
        (team_id, Availability.ONLINE),
    )
    decode_time = rows.dialect(conn).decode_time
    return [
        OnlineMember(agent_id, open_count, capacity, decode_time(last), _skills(skills), team_capacity)
        for agent_id, open_count, capacity, last, skills, team_capacity in found
    ]


def team_ids_of(conn: Connection, agent_id: int) -> list[int]:
    return [r[0] for r in rows.execute(conn, "SELECT team_id FROM team_members WHERE agent_id = ?", (agent_id,))]


def member_ids(conn: Connection, team_id: int) -> list[int]:
    return [r[0] for r in rows.execute(conn, "SELECT agent_id FROM team_members WHERE team_id = ?", (team_id,))]


def is_member(conn: Connection, team_id: int, agent_id: int) -> bool:
    sql = "SELECT 1 FROM team_members WHERE team_id = ? AND agent_id = ?"
    return rows.execute(conn, sql, (team_id, agent_id)).fetchone() is not None


def team_exists(conn: Connection, team_id: int) -> bool:
    return rows.execute(conn, "SELECT 1 FROM teams WHERE id = ?", (team_id,)).fetchone() is not None


# -- agents as assignment sees them ----------------------------------------------------------
def agent(conn: Connection, agent_id: int) -> Agent | None:
    row = rows.by_id(conn, agents, agent_id)
    return None if row is None else Agent.from_row(row)


def agent_id_by_email(conn: Connection, email: str) -> int | None:
    found = rows.scalar(conn, "SELECT id FROM agents WHERE email = ?", (email,))
    return None if found is None else int(found)


def agent_exists(conn: Connection, agent_id: int) -> bool:
    return rows.execute(conn, "SELECT 1 FROM agents WHERE id = ?", (agent_id,)).fetchone() is not None


def agent_active(conn: Connection, agent_id: int) -> bool:
    return bool(rows.scalar(conn, "SELECT active FROM agents WHERE id = ?", (agent_id,)))


# -- presence --------------------------------------------------------------------------------
def record_activity(conn: Connection, agent_id: int, now: dt.datetime) -> None:
    rows.execute(
        conn, "UPDATE agents SET last_seen_at = ? WHERE id = ?", (rows.dialect(conn).encode_time(now), agent_id)
    )


def idle_online(conn: Connection, agent_id: int, since: dt.datetime) -> bool:
    """Whether the agent is online and has not been seen (or changed availability) since `since`."""
    row = rows.execute(
        conn,
        "SELECT 1 FROM agents WHERE id = ? AND availability = ?"
        " AND coalesce(last_seen_at, availability_changed_at) < ?",
        (agent_id, Availability.ONLINE, rows.dialect(conn).encode_time(since)),
    ).fetchone()
    return row is not None


# -- team queues -----------------------------------------------------------------------------
def enqueue(
    conn: Connection,
    conversation_id: int,
    team_id: int,
    priority: int,
    skills: dict[str, str],
    relax_at: dt.datetime | None,
    now: dt.datetime,
) -> None:
    """Put the conversation in the team's queue (out of any queue it was in)."""
    dequeue(conn, conversation_id)
    d = rows.dialect(conn)
    rows.execute(
        conn,
        "INSERT INTO queue_entries (conversation_id, team_id, priority, skills, relax_at, enqueued_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (conversation_id, team_id, priority, d.encode_json(skills), d.encode_time(relax_at), d.encode_time(now)),
    )


def dequeue(conn: Connection, conversation_id: int) -> bool:
    """Take the conversation out of its queue: whether it was in one."""
    return bool(rows.execute(conn, "DELETE FROM queue_entries WHERE conversation_id = ?", (conversation_id,)).rowcount)


def queue_page(conn: Connection, team_id: int, limit: int, offset: int) -> list[QueueEntry]:
    """Entries of the team's queue in the order they are served."""
    found = rows.execute(
        conn,
        "SELECT conversation_id, skills, relax_at FROM queue_entries WHERE team_id = ?"
        " ORDER BY priority DESC, enqueued_at, id LIMIT ? OFFSET ?",
        (team_id, limit, offset),
    )
    d = rows.dialect(conn)
    return [QueueEntry(c, d.decode_json(s), d.decode_time(r)) for c, s, r in found]


def queued_team_ids(conn: Connection) -> list[int]:
    return [r[0] for r in rows.execute(conn, "SELECT DISTINCT team_id FROM queue_entries")]


def relax_due(conn: Connection, now: dt.datetime) -> list[int]:
    """Drop the skills of the entries whose `relax_at` has passed: the teams they are in."""
    found = rows.execute(
        conn,
        "UPDATE queue_entries SET skills = ?, relax_at = NULL WHERE relax_at <= ? RETURNING team_id",
        (rows.dialect(conn).encode_json({}), rows.dialect(conn).encode_time(now)),
    ).fetchall()
    return [r[0] for r in found]


def next_relax(conn: Connection) -> dt.datetime | None:
    return rows.dialect(conn).decode_time(rows.scalar(conn, "SELECT min(relax_at) FROM queue_entries"))
