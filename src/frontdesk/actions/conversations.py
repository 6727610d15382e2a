"""Open, reply to, assign and close conversations."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select, update

from frontdesk.actions.events import emit
from frontdesk.assignment.apply import add_place, record_assignment, release_place
from frontdesk.assignment.pool import load_team, online_members
from frontdesk.assignment.queue import assign_from_pool, dequeue, drain_teams_of, enqueue
from frontdesk.clock import now
from frontdesk.domain import events as ev
from frontdesk.domain.conversations import check_closing_note, check_message_text, check_open
from frontdesk.domain.errors import Conflict, InvalidInput, NotFound
from frontdesk.domain.model import (
    Actor,
    ConversationStatus,
    DeliveryStatus,
    Direction,
    Source,
)
from frontdesk.store import rows
from frontdesk.store.database import wake
from frontdesk.store.rows import Row
from frontdesk.store.tables import (
    agents,
    channels,
    contact_identities,
    contacts,
    conversations,
    messages,
    team_members,
    teams,
)


def get_conversation(conn: Connection, conversation_id: int) -> Row:
    row = rows.by_id(conn, conversations, conversation_id)
    if row is None:
        raise NotFound("conversation", conversation_id)
    return row


def find_open_conversation(conn: Connection, contact_id: int) -> Row | None:
    # The literal 'open' lets SQLite use the partial unique index (tables.py).
    return rows.select_one(conn, conversations, "contact_id = ? AND status = 'open'", (contact_id,))


def _open_conversation_id(conn: Connection, contact_id: int) -> int | None:
    """Only the id: every message into an open conversation asks (the partial index answers)."""
    found = rows.scalar(conn, "SELECT id FROM conversations WHERE contact_id = ? AND status = 'open'", (contact_id,))
    return None if found is None else int(found)


def ensure_open_conversation(
    conn: Connection, contact_id: int, source: Source, channel_id: int | None, actor: Actor
) -> tuple[int, bool]:
    """Return the contact's open conversation, opening one if there is none: (id, opened).

    The partial unique index decides races between processes: the loser of an insert race
    reads the winner's conversation instead of failing.
    """
    existing = _open_conversation_id(conn, contact_id)
    if existing is not None:
        return existing, False
    at = now()
    conversation_id = rows.insert_new(
        conn,
        conversations,
        {
            "contact_id": contact_id,
            "channel_id": channel_id,
            "status": ConversationStatus.OPEN,
            "source": source,
            "opened_at": at,
            "last_message_at": at,
        },
    )
    if conversation_id is None:  # another process opened one first
        winner = _open_conversation_id(conn, contact_id)
        assert winner is not None  # the open conversation that conflicted is there
        return winner, False
    emit(
        conn,
        ev.CONVERSATION_OPENED,
        {"source": str(source), "channel_id": channel_id, "actor": actor.as_payload()},
        contact_id=contact_id,
        conversation_id=conversation_id,
    )
    return conversation_id, True


def open_conversation(
    conn: Connection, contact_id: int, actor: Actor, channel_id: int | None = None
) -> tuple[int, bool]:
    """An agent, the API or a workflow opens a conversation (or gets the open one)."""
    if conn.execute(select(contacts.c.id).where(contacts.c.id == contact_id)).first() is None:
        raise NotFound("contact", contact_id, "contact_id")
    if channel_id is None:
        channel_id = conn.execute(
            select(contact_identities.c.channel_id)
            .where(contact_identities.c.contact_id == contact_id)
            .order_by(contact_identities.c.id.desc())
        ).scalar()
    elif conn.execute(select(channels.c.id).where(channels.c.id == channel_id)).first() is None:
        raise NotFound("channel", channel_id, "channel_id")
    elif not _contact_reachable_on(conn, contact_id, channel_id):
        raise InvalidInput(
            "channel_not_linked",
            f"contact {contact_id} has no identity on channel {channel_id}",
            "channel_id",
        )
    return ensure_open_conversation(conn, contact_id, actor.source, channel_id, actor)


def _contact_reachable_on(conn: Connection, contact_id: int, channel_id: int) -> bool:
    query = select(contact_identities.c.id).where(
        contact_identities.c.contact_id == contact_id, contact_identities.c.channel_id == channel_id
    )
    return conn.execute(query).first() is not None


def send_message(
    conn: Connection, conversation_id: int, actor: Actor, text: str, quick_replies: list[str] | None = None
) -> int:
    """An agent/API/workflow message to the contact; queued for delivery on the channel."""
    check_message_text(text)
    conversation = get_conversation(conn, conversation_id)
    check_open(conversation_id, conversation["status"], "reply to")
    status = _delivery_status(conn, conversation["channel_id"])
    at = now()
    message_id = rows.insert(
        conn,
        messages,
        {
            "conversation_id": conversation_id,
            "channel_id": conversation["channel_id"],
            "direction": Direction.OUTBOUND,
            "author_kind": actor.kind,
            "author_agent_id": actor.agent_id,
            "text": text,
            "opened_conversation": False,
            "delivery_status": status,
            "next_attempt_at": at if status is DeliveryStatus.PENDING else None,
            "quick_replies": quick_replies or None,
            "created_at": at,
        },
    )
    values: dict[str, Any] = {"last_message_at": at}
    if (
        actor.agent_id is not None
        and actor.agent_id == conversation["assignee_id"]
        and not conversation["first_reply_at"]
    ):
        values.update(first_reply_at=at, reply_due_at=None)  # answered: no reassignment for silence
    rows.update_by_id(conn, conversations, conversation_id, values)
    emit(
        conn,
        ev.MESSAGE_SENT,
        {"message_id": message_id, "author": actor.as_payload(), "text": text, "quick_replies": quick_replies or []},
        contact_id=conversation["contact_id"],
        conversation_id=conversation_id,
    )
    if status is DeliveryStatus.PENDING:
        wake(conn, "delivery")
    return message_id


def add_note(conn: Connection, conversation_id: int, actor: Actor, text: str) -> int:
    """An internal note: stored in the thread for agents, never sent to the contact."""
    check_message_text(text)
    conversation = get_conversation(conn, conversation_id)
    message_id = conn.execute(
        insert(messages).values(
            conversation_id=conversation_id,
            channel_id=None,
            direction=Direction.OUTBOUND,
            author_kind=actor.kind,
            author_agent_id=actor.agent_id,
            text=text,
            opened_conversation=False,
            delivery_status=DeliveryStatus.STORED,
            private=True,
            created_at=now(),
        )
    ).inserted_primary_key[0]
    emit(
        conn,
        ev.NOTE_ADDED,
        {"message_id": message_id, "author": actor.as_payload(), "text": text},
        contact_id=conversation["contact_id"],
        conversation_id=conversation_id,
    )
    return int(message_id)


def _delivery_status(conn: Connection, channel_id: int | None) -> DeliveryStatus:
    if channel_id is None:
        return DeliveryStatus.STORED
    config = rows.remembered(
        conn, ("channel.config", channel_id), lambda: rows.value(conn, channels, "config", channel_id)
    )
    return DeliveryStatus.PENDING if config and config.get("callback_url") else DeliveryStatus.STORED


def close_conversation(
    conn: Connection, conversation_id: int, actor: Actor, note: str | None, category: str | None
) -> None:
    check_closing_note(note, category)
    conversation = get_conversation(conn, conversation_id)
    check_open(conversation_id, conversation["status"], "close")
    conn.execute(
        update(conversations)
        .where(conversations.c.id == conversation_id)
        .values(
            status=ConversationStatus.CLOSED,
            closed_at=now(),
            closing_note=note,
            closing_category=category,
            reply_due_at=None,
        )
    )
    dequeue(conn, conversation_id)
    emit(
        conn,
        ev.CONVERSATION_CLOSED,
        {
            "actor": actor.as_payload(),
            "note": note,
            "category": category,
            "assignee_id": conversation["assignee_id"],
        },
        contact_id=conversation["contact_id"],
        conversation_id=conversation_id,
    )
    if conversation["assignee_id"] is not None:  # a place is free: the team's queue moves now
        release_place(conn, conversation["assignee_id"])
        drain_teams_of(conn, conversation["assignee_id"], now())


def reopen_conversation(conn: Connection, conversation_id: int, actor: Actor) -> None:
    """Open a closed conversation again — only while the contact has no other open one."""
    conversation = get_conversation(conn, conversation_id)
    if conversation["status"] == ConversationStatus.OPEN:
        raise Conflict("conversation_open", f"conversation {conversation_id} is already open")
    other = find_open_conversation(conn, conversation["contact_id"])
    if other is not None:
        raise Conflict(
            "contact_has_open_conversation",
            f"contact {conversation['contact_id']} already has open conversation {other['id']}",
        )
    conn.execute(
        update(conversations)
        .where(conversations.c.id == conversation_id)
        .values(status=ConversationStatus.OPEN, closed_at=None, closing_note=None, closing_category=None)
    )
    emit(
        conn,
        ev.CONVERSATION_REOPENED,
        {"actor": actor.as_payload(), "assignee_id": conversation["assignee_id"]},
        contact_id=conversation["contact_id"],
        conversation_id=conversation_id,
    )
    if conversation["assignee_id"] is not None:
        add_place(conn, conversation["assignee_id"], now())  # the assignee holds it again


def assign_conversation(
    conn: Connection,
    conversation_id: int,
    actor: Actor,
    agent_id: int | None,
    team_id: int | None,
    reason: str | None = None,
) -> None:
    """A person hands the conversation over: to an agent (even above capacity), or to a team,
    whose strategy picks an available member — or whose queue keeps it until someone is free."""
    if agent_id is None and team_id is None:
        raise InvalidInput("nothing_to_assign", "give agent_id, team_id or both", "agent_id")
    conversation = get_conversation(conn, conversation_id)
    check_open(conversation_id, conversation["status"], "assign")
    _check_exists(conn, agents, agent_id, "agent")
    _check_exists(conn, teams, team_id, "team")
    _check_active(conn, agent_id)
    if agent_id is not None and team_id is not None and not _is_member(conn, team_id, agent_id):
        raise InvalidInput("not_a_member", f"agent {agent_id} is not a member of team {team_id}", "agent_id")
    at = now()
    if agent_id is None:
        assert team_id is not None
        _hand_to_team(conn, conversation, team_id, actor, reason or "transferred to the team", at)
        return
    if conversation["assignee_id"] == agent_id and team_id in (None, conversation["team_id"]):
        return  # already there: nothing changes
    add_place(conn, agent_id, at)
    record_assignment(
        conn, conversation, agent_id, team_id, actor, strategy="manual", reason=reason or "manual", now=at
    )


def _hand_to_team(conn: Connection, conversation: Row, team_id: int, actor: Actor, why: str, at: Any) -> None:
    team = load_team(conn, team_id)
    members = online_members(conn, team)
    if assign_from_pool(conn, conversation, team, members, {}, at, actor=actor, why=why) is not None:
        return
    release_place(conn, conversation["assignee_id"])
    conn.execute(update(conversations).where(conversations.c.id == conversation["id"]).values(assignee_id=None))
    enqueue(conn, conversation, team, 0, {}, at)


def unassign_conversation(conn: Connection, conversation_id: int, actor: Actor) -> None:
    conversation = get_conversation(conn, conversation_id)
    check_open(conversation_id, conversation["status"], "unassign")
    conn.execute(
        update(conversations)
        .where(conversations.c.id == conversation_id)
        .values(assignee_id=None, reply_due_at=None, assigned_at=None)
    )
    emit(
        conn,
        ev.CONVERSATION_UNASSIGNED,
        {"previous_agent_id": conversation["assignee_id"], "actor": actor.as_payload()},
        contact_id=conversation["contact_id"],
        conversation_id=conversation_id,
    )
    if conversation["assignee_id"] is not None:
        release_place(conn, conversation["assignee_id"])
        drain_teams_of(conn, conversation["assignee_id"], now())


def _check_exists(conn: Connection, table: Any, ident: int | None, kind: str) -> None:
    if ident is not None and conn.execute(select(table.c.id).where(table.c.id == ident)).first() is None:
        raise NotFound(kind, ident, f"{kind}_id")


def _check_active(conn: Connection, agent_id: int | None) -> None:
    if agent_id is not None and not conn.execute(select(agents.c.active).where(agents.c.id == agent_id)).scalar():
        raise InvalidInput("agent_inactive", f"agent {agent_id} is deactivated", "agent_id")


def _is_member(conn: Connection, team_id: int, agent_id: int) -> bool:
    query = select(team_members.c.agent_id).where(
        team_members.c.team_id == team_id, team_members.c.agent_id == agent_id
    )
    return conn.execute(query).first() is not None
