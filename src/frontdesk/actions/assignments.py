"""Writing assignments: a conversation's assignee, the agents' open counters, team queues.

The only place these change. `assignment/` chooses who takes a conversation and calls these to
record it. Counters move in the same transaction as the conversation, so `open_count` is always
the number of open conversations an agent holds; auto-assignment takes a place with a
conditional update (`take_place`), which stays correct when several processes assign at once.

Some changes made here free or add room in a team (a close, an agent coming online, a new
member): the queue must move in the same transaction. Choosing is `assignment/`'s, above this
layer, so it plugs itself in at composition (`use_queues`) as the `Queues` these call.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from sqlalchemy import Connection

from frontdesk.actions.events import emit
from frontdesk.domain import events as ev
from frontdesk.domain.model import SYSTEM, Actor
from frontdesk.domain.records import Conversation
from frontdesk.store.sql import assignment as sql
from frontdesk.store.sql import conversations as conversations_sql


class Queues(Protocol):
    """What a change asks of assignment when it frees or adds room (`assignment.queue`)."""

    def drain(self, conn: Connection, team_id: int, now: dt.datetime) -> int: ...

    def drain_teams_of(self, conn: Connection, agent_id: int, now: dt.datetime) -> int: ...

    def requeue_unanswered(self, conn: Connection, agent_id: int, now: dt.datetime) -> int: ...

    def hand_to_team(
        self, conn: Connection, conversation: Conversation, team_id: int, actor: Actor, why: str, now: dt.datetime
    ) -> None: ...


class _Slot:
    queues: Queues | None = None


def use_queues(queues: Queues) -> None:
    """Composition plugs assignment in (`frontdesk.assignment.install`); once per process."""
    _Slot.queues = queues


def queues() -> Queues:
    if _Slot.queues is None:
        raise RuntimeError("assignment is not installed: call frontdesk.assignment.install() when composing")
    return _Slot.queues


# -- capacity counters -----------------------------------------------------------------------
def take_place(conn: Connection, agent_id: int, capacity: int, now: dt.datetime) -> dt.datetime | None:
    """Count one more open conversation for the agent if they are under `capacity`: when it was
    recorded as their last assignment (`assignment_time`), or None if they were full."""
    at = assignment_time(conn, now)
    return at if sql.take_place(conn, agent_id, capacity, at) else None


def add_place(conn: Connection, agent_id: int, now: dt.datetime) -> None:
    """Manual assignment may go over capacity: a person decided it."""
    sql.add_place(conn, agent_id, assignment_time(conn, now))


_LAST_ASSIGNMENT = "frontdesk.last_assignment"


def assignment_time(conn: Connection, now: dt.datetime) -> dt.datetime:
    """When an assignment made at `now` is recorded: `now`, or a microsecond after the previous one
    this connection recorded at the same `now`. An engine job or a queue drain makes many at one
    `now`; with equal times, longest idle could not tell who came last and would give the lowest
    id every conversation after each member's first."""
    previous = conn.info.get(_LAST_ASSIGNMENT)
    at = now if previous is None or previous[0] != now else previous[1] + dt.timedelta(microseconds=1)
    conn.info[_LAST_ASSIGNMENT] = (now, at)
    return at


def release_place(conn: Connection, agent_id: int | None) -> None:
    if agent_id is not None:
        sql.release_place(conn, agent_id)


# -- assignments -----------------------------------------------------------------------------
def record_assignment(
    conn: Connection,
    conversation: Conversation,
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
    previous = conversation.assignee_id
    if previous is not None and previous != agent_id:
        release_place(conn, previous)
    if team_id is not None and strategy == "round_robin" and agent_id is not None:
        sql.set_rotation(conn, team_id, agent_id)
    conversations_sql.assign(
        conn, conversation.id, agent_id, team_id, now, reply_due_at, new_assignee=previous != agent_id
    )
    if conversation.team_id is not None:  # only `enqueue` queues, and it gives the conversation its team
        sql.dequeue(conn, conversation.id)
    emit(
        conn,
        ev.CONVERSATION_ASSIGNED,
        {
            "agent_id": agent_id,
            "team_id": team_id if team_id is not None else conversation.team_id,
            "previous_agent_id": previous,
            "strategy": strategy,
            "reason": reason,
            "actor": actor.as_payload(),
        },
        contact_id=conversation.contact_id,
        conversation_id=conversation.id,
    )


def clear_reply_due(conn: Connection, conversation_id: int) -> None:
    """The deadline was handled (reassigned, or nobody to reassign to)."""
    conversations_sql.clear_reply_due(conn, conversation_id)


# -- team queues -----------------------------------------------------------------------------
def enqueue(
    conn: Connection,
    conversation: Conversation,
    team_id: int,
    priority: int,
    skills: dict[str, str],
    relax_at: dt.datetime | None,
    now: dt.datetime,
) -> None:
    """The conversation waits in the team's queue (and belongs to the team)."""
    sql.enqueue(conn, conversation.id, team_id, priority, skills, relax_at, now)
    conversations_sql.set_team(conn, conversation.id, team_id)
    emit(
        conn,
        ev.CONVERSATION_QUEUED,
        {"team_id": team_id, "priority": priority, "skills": skills},
        contact_id=conversation.contact_id,
        conversation_id=conversation.id,
    )


def dequeue(conn: Connection, conversation_id: int) -> bool:
    return sql.dequeue(conn, conversation_id)


def relax_due(conn: Connection, now: dt.datetime) -> list[int]:
    """Entries that waited past their team's `relax_skills_after` lose their skills: the teams
    of the entries changed (once per entry)."""
    return sql.relax_due(conn, now)


def take_back(conn: Connection, conversation: Conversation) -> None:
    """The assignee gives the conversation up, silently (it goes to a team's queue next)."""
    release_place(conn, conversation.assignee_id)
    conversations_sql.clear_assignee(conn, conversation.id)


def unassign_unanswered(conn: Connection, conversation: Conversation, reason: str) -> None:
    """The assignee stayed silent or left: nobody holds the conversation any more, and it says why."""
    release_place(conn, conversation.assignee_id)
    conversations_sql.clear_assignment(conn, conversation.id)
    _say_unassigned(conn, conversation, reason)


def unassign_silent(conn: Connection, conversation: Conversation, reason: str) -> None:
    """The reply deadline passed and nobody else can take it: the assignee lets it go (the
    deadline was cleared already; when it was assigned stays on record)."""
    take_back(conn, conversation)
    _say_unassigned(conn, conversation, reason)


def _say_unassigned(conn: Connection, conversation: Conversation, reason: str) -> None:
    emit(
        conn,
        ev.CONVERSATION_UNASSIGNED,
        {"previous_agent_id": conversation.assignee_id, "reason": reason, "actor": SYSTEM.as_payload()},
        contact_id=conversation.contact_id,
        conversation_id=conversation.id,
    )


def record_activity(conn: Connection, agent_id: int, now: dt.datetime) -> None:
    """The agent was seen (presence; the caller throttles how often)."""
    sql.record_activity(conn, agent_id, now)


def mark_away_sent(conn: Connection, conversation_id: int, now: dt.datetime) -> None:
    conversations_sql.away_sent(conn, conversation_id, now)
