"""Conversations and messages as people read them: the inbox's list, thread and read marks (web/
queries.py assembles the pages from these), and the API's lists and details.

These statements are measured by bench scenario 5 (docs/benchmarks.md): each is shaped to use one
index range however long a thread is; change their SQL only with a new measurement. Ingest and
the engine write conversations and messages on the driver cursor (ADR 0003).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, exists, func, select

from frontdesk.domain.errors import NotFound
from frontdesk.store.sql.paging import page_size
from frontdesk.store.tables import (
    INBOUND,
    agents,
    channels,
    contacts,
    conversation_reads,
    conversations,
    messages,
    teams,
    workflow_runs,
)


# -- the inbox list ------------------------------------------------------------------------
def inbox_rows(
    conn: Connection,
    viewer: int | None,
    view: str,
    status: str,
    team_id: int | None,
    limit: int,
    *,
    visible: ColumnElement[bool],
    channel_id: int | None = None,
) -> list[dict[str, Any]]:
    """One page of a view's conversations, newest activity first, with their contact's, assignee's
    and team's names and channel type. `visible`: the conversations the viewer may see
    (store.visibility.seen_by)."""
    filters = [conversations.c.status == status, visible]
    if channel_id is not None:
        filters.append(conversations.c.channel_id == channel_id)
    if view == "mine":
        filters.append(conversations.c.assignee_id == viewer)
    elif view == "unassigned":
        filters.append(conversations.c.assignee_id.is_(None))
    if team_id is not None:
        filters.append(conversations.c.team_id == team_id)
    rows = conn.execute(
        select(
            conversations,
            contacts.c.name.label("contact_name"),
            agents.c.name.label("assignee_name"),
            teams.c.name.label("team_name"),
            channels.c.type.label("channel_type"),
        )
        .join(contacts, contacts.c.id == conversations.c.contact_id)
        .outerjoin(agents, agents.c.id == conversations.c.assignee_id)
        .outerjoin(teams, teams.c.id == conversations.c.team_id)
        .outerjoin(channels, channels.c.id == conversations.c.channel_id)
        .where(and_(*filters))
        .order_by(conversations.c.last_message_at.desc(), conversations.c.id.desc())
        .limit(limit)
    ).mappings()
    return [dict(r) for r in rows]


def unread_counts(conn: Connection, viewer: int | None, conversation_ids: list[int]) -> dict[int, int]:
    """Contact messages the viewer has not seen, per conversation. Per conversation: its read mark,
    then the contact's messages after it, counted in ix_messages_inbound — never the whole thread."""
    if viewer is None or not conversation_ids:
        return {}
    seen = (
        select(conversation_reads.c.last_read_message_id)
        .where(conversation_reads.c.agent_id == viewer, conversation_reads.c.conversation_id == conversations.c.id)
        .correlate(conversations)
        .scalar_subquery()
    )
    unseen = (
        select(func.count())
        .select_from(messages)
        .where(
            messages.c.conversation_id == conversations.c.id,
            messages.c.direction == INBOUND,
            messages.c.id > func.coalesce(seen, 0),
        )
        .correlate(conversations)
        .scalar_subquery()
    )
    rows = conn.execute(select(conversations.c.id, unseen).where(conversations.c.id.in_(conversation_ids))).all()
    return {conversation_id: count for conversation_id, count in rows if count}


def last_messages(conn: Connection, conversation_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The newest message that is not a note, per conversation: ix_messages_conversation read
    backwards from the end, one or two entries each, however long the thread."""
    if not conversation_ids:
        return {}
    newest = (
        select(messages.c.id)
        .where(messages.c.conversation_id == conversations.c.id, messages.c.private.is_(False))
        .order_by(messages.c.id.desc())
        .limit(1)
        .correlate(conversations)
        .scalar_subquery()
    )
    ids = select(newest).where(conversations.c.id.in_(conversation_ids))
    rows = conn.execute(
        select(
            messages.c.id, messages.c.conversation_id, messages.c.text, messages.c.direction, messages.c.created_at
        ).where(messages.c.id.in_(ids))
    ).mappings()
    return {r["conversation_id"]: dict(r) for r in rows}


# -- a thread ------------------------------------------------------------------------------
def latest_messages(conn: Connection, conversation_id: int, count: int, *, before: int | None) -> list[dict[str, Any]]:
    """The conversation's `count` newest messages (those before message id `before` when given),
    newest first: one backwards range of ix_messages_conversation, however long the thread."""
    query = (
        select(messages)
        .where(messages.c.conversation_id == conversation_id)
        .order_by(messages.c.id.desc())
        .limit(count)
    )
    if before is not None:
        query = query.where(messages.c.id < before)
    return [dict(m) for m in conn.execute(query).mappings()]


def has_messages_from(conn: Connection, conversation_id: int, message_id: int) -> bool:
    """Whether the conversation has a message with an id of `message_id` or more."""
    in_thread = messages.c.conversation_id == conversation_id
    return bool(conn.execute(select(exists().where(in_thread, messages.c.id >= message_id))).scalar())


def contact_history(
    conn: Connection, contact_id: int, conversation_id: int, visible: ColumnElement[bool]
) -> list[dict[str, Any]]:
    """The contact's ten newest conversations other than `conversation_id` that `visible` lets through."""
    rows = conn.execute(
        select(conversations.c.id, conversations.c.status, conversations.c.opened_at, conversations.c.closing_category)
        .where(conversations.c.contact_id == contact_id, conversations.c.id != conversation_id, visible)
        .order_by(conversations.c.id.desc())
        .limit(10)
    ).mappings()
    return [dict(h) for h in rows]


def conversation_runs(conn: Connection, conversation_id: int) -> list[dict[str, Any]]:
    """The workflow runs of the conversation, oldest first: where each one stands."""
    rows = conn.execute(
        select(workflow_runs.c.id, workflow_runs.c.status, workflow_runs.c.step_id, workflow_runs.c.wait_kind)
        .where(workflow_runs.c.conversation_id == conversation_id)
        .order_by(workflow_runs.c.id)
    ).mappings()
    return [dict(r) for r in rows]


# -- the API's reads -----------------------------------------------------------------------
def list_conversations(
    conn: Connection,
    *,
    status: str | None = None,
    team_id: int | None = None,
    assignee_id: int | None = None,
    contact_id: int | None = None,
    unassigned: bool = False,
    limit: int = 50,
    before: int | None = None,
    visible: ColumnElement[bool],
) -> list[dict[str, Any]]:
    """`visible`: the conversations the caller may see (store.visibility.seen_by)."""
    filters = [visible]
    for column, value in (
        (conversations.c.status, status),
        (conversations.c.team_id, team_id),
        (conversations.c.assignee_id, assignee_id),
        (conversations.c.contact_id, contact_id),
    ):
        if value is not None:
            filters.append(column == value)
    if unassigned:
        filters.append(conversations.c.assignee_id.is_(None))
    if before is not None:
        filters.append(conversations.c.id < before)
    query = select(conversations).where(and_(*filters)).order_by(conversations.c.id.desc()).limit(page_size(limit))
    return [dict(r) for r in conn.execute(query).mappings()]


def conversation_detail(conn: Connection, conversation_id: int) -> dict[str, Any]:
    row = conn.execute(select(conversations).where(conversations.c.id == conversation_id)).mappings().first()
    if row is None:
        raise NotFound("conversation", conversation_id)
    return dict(row)


def list_messages(conn: Connection, conversation_id: int, after: int | None, limit: int) -> list[dict[str, Any]]:
    conversation_detail(conn, conversation_id)  # 404 for an unknown conversation
    query = (
        select(messages)
        .where(messages.c.conversation_id == conversation_id)
        .order_by(messages.c.id)
        .limit(page_size(limit))
    )
    if after is not None:
        query = query.where(messages.c.id > after)
    return [_message(dict(r)) for r in conn.execute(query).mappings()]


def _message(row: dict[str, Any]) -> dict[str, Any]:
    row.pop("next_attempt_at", None)
    return row
