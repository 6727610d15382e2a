"""Team queues: conversations nobody could take yet, handed out the moment someone can.

There is no periodic sweep. Whatever frees or adds capacity — an agent coming online, a close,
a capacity raise, a new member — calls `drain` in the same transaction, so the queued
conversation is assigned by the very change that made it possible.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from frontdesk.actions.events import emit
from frontdesk.assignment.apply import record_assignment, release_place, take_place
from frontdesk.assignment.pool import Member, Team, eligible, load_team, online_members
from frontdesk.assignment.strategies import STRATEGIES
from frontdesk.domain import events as ev
from frontdesk.domain.model import Actor, AuthorKind
from frontdesk.store import rows
from frontdesk.store.database import wake
from frontdesk.store.tables import conversations, queue_entries, team_members

SYSTEM = Actor(AuthorKind.SYSTEM)


def enqueue(
    conn: Connection, conversation: Any, team: Team, priority: int, skills: dict[str, str], now: dt.datetime
) -> None:
    relax_at = None
    if skills and team.settings.relax_skills_after is not None:
        relax_at = now + dt.timedelta(seconds=team.settings.relax_skills_after)
    conn.execute(delete(queue_entries).where(queue_entries.c.conversation_id == conversation["id"]))
    conn.execute(
        insert(queue_entries).values(
            conversation_id=conversation["id"],
            team_id=team.id,
            priority=priority,
            skills=skills,
            relax_at=relax_at,
            enqueued_at=now,
        )
    )
    conn.execute(update(conversations).where(conversations.c.id == conversation["id"]).values(team_id=team.id))
    emit(
        conn,
        ev.CONVERSATION_QUEUED,
        {"team_id": team.id, "priority": priority, "skills": skills},
        contact_id=conversation["contact_id"],
        conversation_id=conversation["id"],
    )


def dequeue(conn: Connection, conversation_id: int) -> bool:
    return bool(conn.execute(delete(queue_entries).where(queue_entries.c.conversation_id == conversation_id)).rowcount)


def assign_from_pool(
    conn: Connection,
    conversation: Any,
    team: Team,
    members: list[Member],
    skills: dict[str, str],
    now: dt.datetime,
    *,
    actor: Actor,
    why: str,
    exclude: frozenset[int] = frozenset(),
) -> int | None:
    """Choose by the team's strategy among `members`, take a place, record it: the agent id."""
    candidates = eligible(members, skills, exclude)
    while candidates:
        pick = STRATEGIES[team.settings.strategy]([c.candidate() for c in candidates], team.state)
        member = next(m for m in candidates if m.agent_id == pick.agent_id)
        if take_place(conn, member.agent_id, member.capacity, now):
            member.open_count += 1
            member.last_assigned_at = now
            team.rr_last_agent_id = member.agent_id  # the rotation moves on within this drain
            reply_due = _reply_due(team, now)
            reason = f"{team.settings.strategy} in {team.name}: {why}"
            record_assignment(
                conn, conversation, member.agent_id, team.id, actor,
                strategy=team.settings.strategy, reason=reason, now=now, reply_due_at=reply_due,
            )  # fmt: skip
            return member.agent_id
        candidates.remove(member)  # another process took the last place first
    return None


def _reply_due(team: Team, now: dt.datetime) -> dt.datetime | None:
    after = team.settings.reassign_after
    return None if after is None else now + dt.timedelta(seconds=after)


DRAIN_BATCH = 200  # per transaction: a large backlog must not hold the writer for seconds


def drain(conn: Connection, team_id: int, now: dt.datetime, limit: int = DRAIN_BATCH) -> int:
    """Assign queued conversations of the team while someone can take them; how many. At most
    `limit` here: past that the engine's timer loop goes on in the next transactions."""
    team = load_team(conn, team_id)
    members = online_members(conn, team)
    assigned = skipped = 0
    while assigned < limit and _has_room(members):
        # A page at a time, in queue order; entries nobody can take (skills) stay, and are skipped.
        wanted = limit - assigned
        page = rows.execute(
            conn,
            "SELECT conversation_id, skills, relax_at FROM queue_entries WHERE team_id = ?"
            " ORDER BY priority DESC, enqueued_at, id LIMIT ? OFFSET ?",
            (team_id, wanted + 1, skipped),
        ).fetchall()
        for conversation_id, skills, relax_at in page[:wanted]:
            relaxed = relax_at is not None and rows.decode_time(relax_at) <= now  # type: ignore[operator]
            conversation = rows.by_id(conn, conversations, conversation_id)
            needs = {} if relaxed else rows.loads(skills)
            if assign_from_pool(conn, conversation, team, members, needs, now, actor=SYSTEM, why="from the queue"):
                assigned += 1
            else:
                skipped += 1
            if not _has_room(members):
                return assigned
        if len(page) <= wanted:
            return assigned  # the end of the queue
    if assigned >= limit:
        wake(conn, "timers")  # more may fit than this transaction takes: continue_drains goes on
    return assigned


def _has_room(members: list[Member]) -> bool:
    return any(m.open_count < m.capacity for m in members)


def continue_drains(conn: Connection, now: dt.datetime) -> int:
    """Go on with queues a drain left unfinished (it stops at DRAIN_BATCH per transaction)."""
    teams_waiting = conn.execute(select(queue_entries.c.team_id).distinct()).scalars()
    return sum(drain(conn, team_id, now) for team_id in list(teams_waiting))


def drain_teams_of(conn: Connection, agent_id: int, now: dt.datetime) -> int:
    team_ids = conn.execute(select(team_members.c.team_id).where(team_members.c.agent_id == agent_id)).scalars()
    return sum(drain(conn, team_id, now) for team_id in list(team_ids))


def requeue_unanswered(conn: Connection, agent_id: int, now: dt.datetime) -> int:
    """The agent became unavailable: in teams that ask for it, their conversations still without
    a first reply go back to the queue (and to whoever can take them now)."""
    moved = 0
    for team_id in list(
        conn.execute(select(team_members.c.team_id).where(team_members.c.agent_id == agent_id)).scalars()
    ):
        team = load_team(conn, team_id)
        if not team.settings.requeue_on_unavailable:
            continue
        stranded = conn.execute(
            select(conversations).where(
                conversations.c.assignee_id == agent_id,
                conversations.c.team_id == team_id,
                conversations.c.status == "open",
                conversations.c.first_reply_at.is_(None),
            )
        ).mappings()
        for conversation in list(stranded):
            release_place(conn, agent_id)
            conn.execute(
                update(conversations)
                .where(conversations.c.id == conversation["id"])
                .values(assignee_id=None, reply_due_at=None, assigned_at=None)
            )
            emit(
                conn,
                ev.CONVERSATION_UNASSIGNED,
                {"previous_agent_id": agent_id, "reason": "agent became unavailable", "actor": SYSTEM.as_payload()},
                contact_id=conversation["contact_id"],
                conversation_id=conversation["id"],
            )
            enqueue(conn, conversation, team, 0, dict(conversation["required_skills"] or {}), now)
            moved += 1
        drain(conn, team_id, now)
    return moved


def relax_due(conn: Connection, now: dt.datetime) -> int:
    """Entries that waited past their team's `relax_skills_after`: any member may take them now."""
    due = conn.execute(select(queue_entries.c.id, queue_entries.c.team_id).where(queue_entries.c.relax_at <= now)).all()
    if not due:
        return 0
    conn.execute(
        update(queue_entries).where(queue_entries.c.id.in_([d.id for d in due])).values(skills={}, relax_at=None)
    )
    for team_id in {d.team_id for d in due}:
        drain(conn, team_id, now)
    return len(due)


def next_relax(conn: Connection) -> dt.datetime | None:
    return conn.execute(select(func.min(queue_entries.c.relax_at))).scalar()
