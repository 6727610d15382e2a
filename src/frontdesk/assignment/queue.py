"""Team queues: conversations nobody could take yet, handed out the moment someone can.

There is no periodic sweep. Whatever frees or adds capacity — an agent coming online, a close,
a capacity raise, a new member — calls `drain` in the same transaction (through `TEAM_QUEUES`,
which `frontdesk.assignment.install` hands to `actions/`), so the queued conversation is
assigned by the very change that made it possible. Every write goes through
`actions.assignments`; this module only chooses.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection

from frontdesk.actions import assignments
from frontdesk.assignment.pool import Member, Team, eligible, load_team, online_members
from frontdesk.assignment.strategies import STRATEGIES
from frontdesk.domain.model import SYSTEM, Actor
from frontdesk.domain.records import Conversation
from frontdesk.store.database import wake
from frontdesk.store.sql import assignment as sql
from frontdesk.store.sql import conversations as conversations_sql


def enqueue(
    conn: Connection, conversation: Conversation, team: Team, priority: int, skills: dict[str, str], now: dt.datetime
) -> None:
    relax_at = None
    if skills and team.settings.relax_skills_after is not None:
        relax_at = now + dt.timedelta(seconds=team.settings.relax_skills_after)
    assignments.enqueue(conn, conversation, team.id, priority, skills, relax_at, now)


def assign_from_pool(
    conn: Connection,
    conversation: Conversation,
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
        taken_at = assignments.take_place(conn, member.agent_id, member.capacity, now)
        if taken_at is not None:
            member.open_count += 1
            member.last_assigned_at = taken_at
            team.rr_last_agent_id = member.agent_id  # the rotation moves on within this drain
            reply_due = _reply_due(team, now)
            reason = f"{team.settings.strategy} in {team.name}: {why}"
            assignments.record_assignment(
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
        page = sql.queue_page(conn, team_id, wanted + 1, skipped)
        for entry in page[:wanted]:
            relaxed = entry.relax_at is not None and entry.relax_at <= now
            conversation = conversations_sql.get(conn, entry.conversation_id)
            assert conversation is not None  # the entry is deleted with its conversation
            needs = {} if relaxed else entry.skills
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
    return sum(drain(conn, team_id, now) for team_id in sql.queued_team_ids(conn))


def drain_teams_of(conn: Connection, agent_id: int, now: dt.datetime) -> int:
    return sum(drain(conn, team_id, now) for team_id in sql.team_ids_of(conn, agent_id))


def dequeue(conn: Connection, conversation_id: int) -> bool:
    return assignments.dequeue(conn, conversation_id)


def requeue_unanswered(conn: Connection, agent_id: int, now: dt.datetime) -> int:
    """The agent became unavailable: in teams that ask for it, their conversations still without
    a first reply go back to the queue (and to whoever can take them now)."""
    moved = 0
    for team_id in sql.team_ids_of(conn, agent_id):
        team = load_team(conn, team_id)
        if not team.settings.requeue_on_unavailable:
            continue
        for conversation in conversations_sql.unanswered_of(conn, agent_id, team_id):
            assignments.unassign_unanswered(conn, conversation, "agent became unavailable")
            enqueue(conn, conversation, team, 0, dict(conversation.required_skills or {}), now)
            moved += 1
        drain(conn, team_id, now)
    return moved


def hand_to_team(
    conn: Connection, conversation: Conversation, team_id: int, actor: Actor, why: str, now: dt.datetime
) -> None:
    """A person transfers the conversation to a team: an available member takes it, or it waits
    in the team's queue."""
    team = load_team(conn, team_id)
    members = online_members(conn, team)
    if assign_from_pool(conn, conversation, team, members, {}, now, actor=actor, why=why) is not None:
        return
    assignments.take_back(conn, conversation)
    enqueue(conn, conversation, team, 0, {}, now)


def relax_due(conn: Connection, now: dt.datetime) -> int:
    """Entries that waited past their team's `relax_skills_after`: any member may take them now."""
    teams = assignments.relax_due(conn, now)
    for team_id in set(teams):
        drain(conn, team_id, now)
    return len(teams)


def next_relax(conn: Connection) -> dt.datetime | None:
    return sql.next_relax(conn)


class _TeamQueues:
    """This module as `actions.assignments.Queues`."""

    drain = staticmethod(drain)
    drain_teams_of = staticmethod(drain_teams_of)
    requeue_unanswered = staticmethod(requeue_unanswered)
    hand_to_team = staticmethod(hand_to_team)


TEAM_QUEUES = _TeamQueues()
