"""What the inbox pages show, read in a few queries per page."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, exists, func, select

from frontdesk.domain.errors import NotFound
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

VIEWS = ("mine", "unassigned", "all")
THREAD_PAGE = 50  # messages a thread shows at once; "Earlier messages" reads the page before


def inbox_list(
    conn: Connection,
    viewer: int | None,
    view: str,
    status: str,
    team_id: int | None,
    limit: int = 50,
    *,
    visible: ColumnElement[bool],
    channel_id: int | None = None,
) -> list[dict[str, Any]]:
    """`visible`: the conversations the viewer may see (store.visibility.seen_by)."""
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
    found = [dict(r) for r in rows]
    ids = [c["id"] for c in found]
    last = _last_messages(conn, ids)
    unread = _unread(conn, viewer, ids)
    for conversation in found:
        conversation["last"] = last.get(conversation["id"])
        conversation["unread"] = unread.get(conversation["id"], 0)
    return found


def _unread(conn: Connection, viewer: int | None, conversation_ids: list[int]) -> dict[int, int]:
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


def _last_messages(conn: Connection, conversation_ids: list[int]) -> dict[int, dict[str, Any]]:
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
        select(messages.c.conversation_id, messages.c.text, messages.c.direction, messages.c.created_at).where(
            messages.c.id.in_(ids)
        )
    ).mappings()
    return {r["conversation_id"]: dict(r) for r in rows}


def thread(
    conn: Connection, conversation_id: int, visible: ColumnElement[bool], *, before: int | None = None
) -> dict[str, Any]:
    """The conversation with its contact and one page of its messages: the newest, or those just
    before message id `before`; `visible` limits the contact's past conversations."""
    conversation = conn.execute(select(conversations).where(conversations.c.id == conversation_id)).mappings().first()
    if conversation is None:
        raise NotFound("conversation", conversation_id)
    names = dict(conn.execute(select(agents.c.id, agents.c.name)).all())
    page = _message_page(conn, conversation_id, before)
    contact = conn.execute(select(contacts).where(contacts.c.id == conversation["contact_id"])).mappings().one()
    history = conn.execute(
        select(conversations.c.id, conversations.c.status, conversations.c.opened_at, conversations.c.closing_category)
        .where(conversations.c.contact_id == contact["id"], conversations.c.id != conversation_id, visible)
        .order_by(conversations.c.id.desc())
        .limit(10)
    ).mappings()
    runs = conn.execute(
        select(workflow_runs.c.id, workflow_runs.c.status, workflow_runs.c.step_id, workflow_runs.c.wait_kind)
        .where(workflow_runs.c.conversation_id == conversation_id)
        .order_by(workflow_runs.c.id)
    ).mappings()
    return {
        "conversation": dict(conversation),
        "messages": [{**m, "author_name": names.get(m["author_agent_id"])} for m in page["messages"]],
        "earlier": page["earlier"],
        "newer": page["newer"],
        "contact": dict(contact),
        "owner_name": names.get(contact["owner_agent_id"]),
        "assignee_name": names.get(conversation["assignee_id"]),
        "history": [dict(h) for h in history],
        "runs": [dict(r) for r in runs],
    }


def _message_page(conn: Connection, conversation_id: int, before: int | None) -> dict[str, Any]:
    """THREAD_PAGE messages, oldest first, ending just before `before` (or at the newest): one
    backwards range of ix_messages_conversation, however long the thread. `before` is a position,
    not a reference: an id of another conversation only sets where the page ends.
    `earlier`: the `before` of the page preceding this one, None at the start of the thread;
    `newer`: whether messages follow this page (it is not the newest)."""
    in_thread = messages.c.conversation_id == conversation_id
    query = select(messages).where(in_thread).order_by(messages.c.id.desc()).limit(THREAD_PAGE + 1)
    if before is not None:
        query = query.where(messages.c.id < before)
    rows = [dict(m) for m in conn.execute(query).mappings()]
    shown = rows[:THREAD_PAGE][::-1]
    earlier = shown[0]["id"] if len(rows) > THREAD_PAGE else None
    if before is None:
        return {"messages": shown, "earlier": earlier, "newer": False}
    newer = conn.execute(select(exists().where(in_thread, messages.c.id >= before))).scalar()
    return {"messages": shown, "earlier": earlier, "newer": bool(newer)}


def viewer(conn: Connection, agent_id: int) -> dict[str, Any]:
    row = conn.execute(select(agents).where(agents.c.id == agent_id)).mappings().one()
    return {k: row[k] for k in ("id", "name", "email", "role", "availability")}


def choices(conn: Connection) -> dict[str, Any]:
    return {
        "teams": [dict(r) for r in conn.execute(select(teams.c.id, teams.c.name).order_by(teams.c.name)).mappings()],
        "channels": [
            dict(r)
            for r in conn.execute(
                select(channels.c.id, channels.c.name, channels.c.type).order_by(channels.c.id)
            ).mappings()
        ],
        "agents": [
            dict(r)
            for r in conn.execute(
                select(agents.c.id, agents.c.name, agents.c.availability).order_by(agents.c.name)
            ).mappings()
        ],
    }
