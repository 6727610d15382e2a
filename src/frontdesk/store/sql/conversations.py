"""Conversations' statements: opening, assigning, closing, the deadlines, the read marks.

On the driver's cursor (ADR 0003): ingest, the engine and assignment touch conversations on
the hot path. Rows come back as `Conversation` records.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import msgspec
from sqlalchemy import Connection

from frontdesk.domain.model import ConversationStatus, DeliveryStatus, Direction
from frontdesk.domain.records import Contact, Conversation
from frontdesk.store import rows
from frontdesk.store.dialects.base import quote
from frontdesk.store.sql import contacts as contacts_sql
from frontdesk.store.tables import contacts, conversations, messages

# The literal 'open' lets SQLite use the partial unique index (tables.py).
_OPEN = "status = 'open'"
_UNANSWERED = "status = 'open' AND first_reply_at IS NULL"


def _record(row: dict[str, Any] | None) -> Conversation | None:
    return None if row is None else Conversation.from_row(row)


def get(conn: Connection, conversation_id: int) -> Conversation | None:
    """Read once per engine job (`rows.memo`): a new conversation's run read it three times (its
    context, the greeting, the assignment), and its message's away check a fourth. What this module
    writes to the row it writes to the remembered record too (`_update`); nothing else in the store
    writes conversations."""
    return rows.remembered(  # type: ignore[no-any-return]
        conn, ("conversation", conversation_id), lambda: _record(rows.by_id(conn, conversations, conversation_id))
    )


_COLUMNS = tuple(c.name for c in conversations.columns)
_CONTACT_COLUMNS = tuple(c.name for c in contacts.columns)
_WITH_CONTACT = (
    f"SELECT {', '.join(f'v.{quote(c)}' for c in _COLUMNS)}, {', '.join(f'c.{quote(c)}' for c in _CONTACT_COLUMNS)}"
    " FROM conversations v JOIN contacts c ON c.id = v.contact_id WHERE v.id"
)


def with_contact(conn: Connection, conversation_id: int) -> tuple[Conversation, Contact] | None:
    """The conversation and its contact, in one statement unless they are remembered (`get`,
    `contacts.get`, `read_with_contacts`): a run's context reads both."""
    kept: Conversation | None = rows.recalled(conn, ("conversation", conversation_id))
    if kept is not None:
        contact = contacts_sql.get(conn, kept.contact_id)
        return None if contact is None else (kept, contact)
    found = rows.execute(
        conn, f"{_WITH_CONTACT} = ?", (conversation_id,), one_row=(conversations, conversation_id)
    ).fetchone()
    return None if found is None else _remember_with_contact(conn, found)


def read_with_contacts(conn: Connection, conversation_ids: Iterable[int]) -> None:
    """In an engine job (`rows.memo`), read these conversations and their contacts in one statement
    and remember them: the job's runs each read theirs (`with_contact`), a round trip each on
    PostgreSQL. Each stays as true as `get`'s: what writes them in the job revises or forgets it."""
    wanted = sorted(i for i in set(conversation_ids) if rows.recalled(conn, ("conversation", i)) is None)
    if len(wanted) < 2 or not rows.memo_open(conn):
        return  # one is read when needed, by the statement that reads one
    largest = _READ_AHEAD[-1]
    for start in range(0, len(wanted), largest):
        chunk = wanted[start : start + largest]
        size = next(n for n in _READ_AHEAD if n >= len(chunk))
        padded = chunk + chunk[-1:] * (size - len(chunk))  # an id twice in the list reads it once
        for found in rows.execute(conn, f"{_WITH_CONTACT} IN ({', '.join('?' * size)})", padded):
            _remember_with_contact(conn, found)


# The lists' lengths `read_with_contacts` sends: four statement texts, each prepared once per
# connection on PostgreSQL, however many conversations a job has.
_READ_AHEAD = (4, 16, 64, 256)


def _remember_with_contact(conn: Connection, found: Sequence[Any]) -> tuple[Conversation, Contact]:
    split = len(_COLUMNS)
    conversation = Conversation.from_row(rows.decode(conn, conversations, _COLUMNS, found[:split]))
    contact = Contact(**rows.decode(conn, contacts, _CONTACT_COLUMNS, found[split:]))
    rows.remember(conn, ("conversation", conversation.id), conversation)
    contacts_sql.remember(conn, contact)
    return conversation, contact


def _update(conn: Connection, conversation_id: int, values: dict[str, Any]) -> None:
    """In an engine job (`rows.memo`), the row's changes wait and merge into one UPDATE
    (`rows.update_later`): a new conversation's greeting and assignment each changed it, and each
    UPDATE of it is a new tuple in its eight indexes. The remembered record is revised at once, and
    any statement naming the table runs the waiting UPDATE first."""
    rows.update_later(conn, conversations, conversation_id, values)
    rows.revise(conn, ("conversation", conversation_id), lambda kept: msgspec.structs.replace(kept, **values))


def write_waiting(conn: Connection) -> None:
    """Write the conversations' changes an engine job keeps waiting (`_update`) now."""
    rows.write_deferred(conn, conversations)


def find_open(conn: Connection, contact_id: int) -> Conversation | None:
    return _record(rows.select_one(conn, conversations, f"contact_id = ? AND {_OPEN}", (contact_id,)))


def open_id(conn: Connection, contact_id: int) -> int | None:
    """Only the id: every message into an open conversation asks (the partial index answers)."""
    found = rows.scalar(conn, f"SELECT id FROM conversations WHERE contact_id = ? AND {_OPEN}", (contact_id,))
    return None if found is None else int(found)


def insert_open(conn: Connection, contact_id: int, channel_id: int | None, source: str, at: dt.datetime) -> int | None:
    """A new open conversation's id, or None if the contact has one already (the partial
    unique index decides races between processes)."""
    return rows.insert_new(conn, conversations, {"contact_id": contact_id, **new_open(channel_id, source, at)})


def new_open(channel_id: int | None, source: str, at: dt.datetime) -> dict[str, Any]:
    """A new open conversation's row, but for its contact."""
    return {
        "channel_id": channel_id,
        "status": ConversationStatus.OPEN,
        "source": source,
        "opened_at": at,
        "last_message_at": at,
    }


def close(conn: Connection, conversation_id: int, at: dt.datetime, note: str | None, category: str | None) -> None:
    values = {
        "status": ConversationStatus.CLOSED,
        "closed_at": at,
        "closing_note": note,
        "closing_category": category,
        "reply_due_at": None,
    }
    _update(conn, conversation_id, values)


def reopen(conn: Connection, conversation_id: int) -> None:
    values = {"status": ConversationStatus.OPEN, "closed_at": None, "closing_note": None, "closing_category": None}
    _update(conn, conversation_id, values)


def assign(
    conn: Connection,
    conversation_id: int,
    agent_id: int | None,
    team_id: int | None,
    at: dt.datetime,
    reply_due_at: dt.datetime | None,
    *,
    new_assignee: bool,
) -> None:
    """Point the conversation at its assignee (and team, if given). A new assignee has not
    answered yet: their first reply is still to come."""
    values: dict[str, Any] = {"assignee_id": agent_id, "assigned_at": at, "reply_due_at": reply_due_at}
    if new_assignee:
        values["first_reply_at"] = None
    if team_id is not None:
        values["team_id"] = team_id
    _update(conn, conversation_id, values)


def set_team(conn: Connection, conversation_id: int, team_id: int) -> None:
    _update(conn, conversation_id, {"team_id": team_id})


def clear_assignee(conn: Connection, conversation_id: int) -> None:
    _update(conn, conversation_id, {"assignee_id": None})


def clear_assignment(conn: Connection, conversation_id: int) -> None:
    """Nobody holds it, nothing is due."""
    values = {"assignee_id": None, "reply_due_at": None, "assigned_at": None}
    _update(conn, conversation_id, values)


def clear_reply_due(conn: Connection, conversation_id: int) -> None:
    _update(conn, conversation_id, {"reply_due_at": None})


def message_received(conn: Connection, conversation_id: int, channel_id: int, at: dt.datetime) -> bool:
    """The contact wrote on `channel_id`: answers go back there. False, with nothing written, when
    the conversation is not open (any more). The row stays locked until the commit, so an agent
    closing it from another process waits for the message, or closed it first and this is False."""
    values = {"last_message_at": at, "channel_id": channel_id}
    changed = rows.update(conn, conversations, f"id = ? AND {_OPEN}", (conversation_id,), values)
    rows.forget(conn, ("conversation", conversation_id))
    return changed > 0


def message_sent(conn: Connection, conversation_id: int, at: dt.datetime) -> None:
    _update(conn, conversation_id, {"last_message_at": at})


def first_reply_sent(conn: Connection, conversation_id: int, at: dt.datetime) -> None:
    """The assignee answered: no reassignment for silence any more."""
    values = {"last_message_at": at, "first_reply_at": at, "reply_due_at": None}
    _update(conn, conversation_id, values)


def away_state(conn: Connection, conversation_id: int) -> tuple[int | None, str, dt.datetime | None] | None:
    """(team id, status, when the away message was sent) of the conversation: the engine asks for
    each message, mostly of a conversation its job has just read (`get`)."""
    found = get(conn, conversation_id)
    return None if found is None else (found.team_id, found.status, found.away_sent_at)


def away_sent(conn: Connection, conversation_id: int, at: dt.datetime) -> None:
    _update(conn, conversation_id, {"away_sent_at": at})


def unanswered_of(conn: Connection, agent_id: int, team_id: int) -> list[Conversation]:
    """The agent's open conversations in the team still without their first reply."""
    found = rows.select_all(
        conn, conversations, f"assignee_id = ? AND team_id = ? AND {_UNANSWERED}", (agent_id, team_id)
    )
    return [Conversation.from_row(r) for r in found]


def reply_overdue(conn: Connection, now: dt.datetime, limit: int) -> list[Conversation]:
    """Unanswered conversations whose reply deadline has passed, oldest deadline first."""
    where = f"{_UNANSWERED} AND reply_due_at <= ? ORDER BY reply_due_at LIMIT ?"
    found = rows.select_all(conn, conversations, where, (rows.dialect(conn).encode_time(now), limit))
    return [Conversation.from_row(r) for r in found]


def next_reply_due(conn: Connection) -> dt.datetime | None:
    last = rows.scalar(conn, f"SELECT min(reply_due_at) FROM conversations WHERE {_UNANSWERED}")
    return rows.dialect(conn).decode_time(last)


def previous_assignee(conn: Connection, contact_id: int, other_than: int) -> int | None:
    """Who last handled the contact, in another conversation than `other_than`."""
    found = rows.scalar(
        conn,
        "SELECT assignee_id FROM conversations WHERE contact_id = ? AND id != ? AND assignee_id IS NOT NULL"
        " ORDER BY id DESC LIMIT 1",
        (contact_id, other_than),
    )
    return None if found is None else int(found)


# -- what the conversation is with and on ----------------------------------------------------
def contact_exists(conn: Connection, contact_id: int) -> bool:
    return rows.execute(conn, "SELECT 1 FROM contacts WHERE id = ?", (contact_id,)).fetchone() is not None


def contact_owner(conn: Connection, contact_id: int) -> int | None:
    found = rows.scalar(conn, "SELECT owner_agent_id FROM contacts WHERE id = ?", (contact_id,))
    return None if found is None else int(found)


def channel_exists(conn: Connection, channel_id: int) -> bool:
    return rows.execute(conn, "SELECT 1 FROM channels WHERE id = ?", (channel_id,)).fetchone() is not None


def latest_channel_of(conn: Connection, contact_id: int) -> int | None:
    """The channel of the contact's newest identity."""
    found = rows.scalar(
        conn, "SELECT channel_id FROM contact_identities WHERE contact_id = ? ORDER BY id DESC LIMIT 1", (contact_id,)
    )
    return None if found is None else int(found)


def reachable_on(conn: Connection, contact_id: int, channel_id: int) -> bool:
    sql = "SELECT 1 FROM contact_identities WHERE contact_id = ? AND channel_id = ?"
    return rows.execute(conn, sql, (contact_id, channel_id)).fetchone() is not None


# -- messages written into a conversation ----------------------------------------------------
def add_outbound(
    conn: Connection,
    conversation: Conversation,
    author_kind: str,
    author_agent_id: int | None,
    text: str,
    status: DeliveryStatus,
    quick_replies: list[str] | None,
    at: dt.datetime,
    template: dict[str, Any] | None = None,
) -> int:
    """A message to the contact, queued for delivery when `status` is pending; its id. A template
    message keeps its name, language and parameters for the channel to send."""
    values = {
        "conversation_id": conversation.id,
        "channel_id": conversation.channel_id,
        "direction": Direction.OUTBOUND,
        "author_kind": author_kind,
        "author_agent_id": author_agent_id,
        "text": text,
        "opened_conversation": False,
        "delivery_status": status,
        "next_attempt_at": at if status is DeliveryStatus.PENDING else None,
        "quick_replies": quick_replies,
        "template": template,
        "created_at": at,
    }
    return rows.insert(conn, messages, values)


def add_note(
    conn: Connection, conversation_id: int, author_kind: str, author_agent_id: int | None, text: str, at: dt.datetime
) -> int:
    """An internal note: in the thread for agents, never delivered; its id."""
    values = {
        "conversation_id": conversation_id,
        "channel_id": None,
        "direction": Direction.OUTBOUND,
        "author_kind": author_kind,
        "author_agent_id": author_agent_id,
        "text": text,
        "opened_conversation": False,
        "delivery_status": DeliveryStatus.STORED,
        "private": True,
        "created_at": at,
    }
    return rows.insert(conn, messages, values)


# -- read marks ------------------------------------------------------------------------------
def newest_message_id(conn: Connection, conversation_id: int) -> int | None:
    found = rows.scalar(conn, "SELECT max(id) FROM messages WHERE conversation_id = ?", (conversation_id,))
    return None if found is None else int(found)


def set_read_mark(conn: Connection, agent_id: int, conversation_id: int, message_id: int) -> None:
    """The agent has read the conversation up to `message_id`."""
    changed = rows.execute(
        conn,
        "UPDATE conversation_reads SET last_read_message_id = ? WHERE agent_id = ? AND conversation_id = ?",
        (message_id, agent_id, conversation_id),
    ).rowcount
    if changed == 0:
        rows.execute(
            conn,
            "INSERT INTO conversation_reads (agent_id, conversation_id, last_read_message_id) VALUES (?, ?, ?)",
            (agent_id, conversation_id, message_id),
        )


def keep_subject(conn: Connection, conversation_id: int, subject: str) -> None:
    """An e-mail's subject, on a conversation that has none yet (the mail that opened it wins)."""
    sql = "UPDATE conversations SET subject = ? WHERE id = ? AND subject IS NULL"
    rows.execute(conn, sql, (subject, conversation_id))
    rows.forget(conn, ("conversation", conversation_id))


def open_thread_of(conn: Connection, channel_id: int, provider_message_ids: list[str]) -> int | None:
    """The contact of the open conversation holding one of our messages sent under these ids
    (an e-mail reply's In-Reply-To/References), if any."""
    if not provider_message_ids:
        return None
    marks = ", ".join("?" for _ in provider_message_ids)
    sql = (
        "SELECT c.contact_id FROM messages m JOIN conversations c ON c.id = m.conversation_id"
        f" WHERE m.channel_id = ? AND m.provider_message_id IN ({marks})"
        f" AND m.direction = '{Direction.OUTBOUND}' AND c.{_OPEN} ORDER BY m.id DESC LIMIT 1"
    )
    found = rows.scalar(conn, sql, (channel_id, *provider_message_ids))
    return None if found is None else int(found)
