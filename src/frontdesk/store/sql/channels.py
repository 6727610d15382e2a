"""Channels' statements: the channel rows, and what a web-chat visitor may read of their conversations.

Channels as the API and the admin pages read them (never their secrets), and the secrets that
verify a channel's inbound calls.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

from sqlalchemy import Connection, false, insert, select, update

from frontdesk.domain.errors import NotFound
from frontdesk.domain.records import Attachment, Channel
from frontdesk.store import rows
from frontdesk.store.tables import attachments, channels, conversations, messages

_SUMMARY = "SELECT id, type, name FROM channels WHERE id = ?"
_OUTBOUND = "SELECT type, config FROM channels WHERE id = ?"


class ChannelSummary(NamedTuple):
    id: int
    type: str
    name: str


def channel(conn: Connection, channel_id: int) -> Channel | None:
    row = conn.execute(select(channels).where(channels.c.id == channel_id)).mappings().first()
    return None if row is None else Channel(**row)


def outbound_settings(conn: Connection, channel_id: int) -> tuple[str, dict[str, Any]] | None:
    """A channel's type and config, on the cursor and without its secrets: what sending a
    message checks to know whether delivery will push it."""
    row = rows.execute(conn, _OUTBOUND, (channel_id,)).fetchone()
    return None if row is None else (row[0], rows.decode(conn, channels, ("config",), (row[1],))["config"])


def summary(conn: Connection, channel_id: int) -> ChannelSummary | None:
    """A channel's id, type and name, on the cursor and without its secrets: what ingest checks
    and templates show, on the hot path."""
    row = rows.execute(conn, _SUMMARY, (channel_id,)).fetchone()
    return None if row is None else ChannelSummary(*row)


def first_channel_id(conn: Connection, type_: str) -> int | None:
    """The oldest channel of `type_` (the demo's web chat)."""
    query = select(channels.c.id).where(channels.c.type == type_).order_by(channels.c.id)
    found: int | None = conn.execute(query).scalar()
    return found


def insert_channel(
    conn: Connection,
    type_: str,
    name: str,
    config: dict[str, Any],
    secret: str,
    at: dt.datetime,
    credentials: str | None = None,
) -> int:
    """`credentials` (JSON text) are sealed by the column type, like the secret."""
    values = {"type": type_, "name": name, "config": config, "secret": secret, "created_at": at}
    values["credentials"] = credentials
    return int(conn.execute(insert(channels).values(**values).returning(channels.c.id)).scalar_one())


def set_name_and_config(conn: Connection, channel_id: int, name: str, config: dict[str, Any]) -> None:
    conn.execute(update(channels).where(channels.c.id == channel_id).values(name=name, config=config))


def set_csat_survey(conn: Connection, channel_id: int, on: bool) -> None:
    conn.execute(update(channels).where(channels.c.id == channel_id).values(csat_survey=on))


def set_credentials(conn: Connection, channel_id: int, credentials: str) -> None:
    """The provider's credentials as JSON text (sealed by the column type)."""
    conn.execute(update(channels).where(channels.c.id == channel_id).values(credentials=credentials))


def set_secrets(
    conn: Connection, channel_id: int, secret: str, previous: str | None, previous_until: dt.datetime | None
) -> None:
    """The channel's new secret, and the one it replaces while that one still verifies (None: not at all)."""
    values = {"secret": secret, "previous_secret": previous, "previous_secret_until": previous_until}
    conn.execute(update(channels).where(channels.c.id == channel_id).values(**values))


def visitor_message(conn: Connection, message_id: int) -> dict[str, Any]:
    """One message as the widget shows it."""
    return _shown(conn.execute(select(*_SHOWN).where(messages.c.id == message_id)).mappings().one())


def visitor_messages(
    conn: Connection, channel_id: int, contact_id: int, after: int, limit: int
) -> list[dict[str, Any]]:
    """What the visitor may read: the non-private messages of their conversations on this channel."""
    theirs = select(conversations.c.id).where(conversations.c.contact_id == contact_id)
    query = (
        select(*_SHOWN)
        .where(
            messages.c.conversation_id.in_(theirs),
            # `+ 0` keeps SQLite on the (conversation, id) index rather than scanning the channel.
            messages.c.channel_id + 0 == channel_id,
            messages.c.private == false(),
            messages.c.id > after,
        )
        .order_by(messages.c.id)
        .limit(limit)
    )
    return [_shown(r) for r in conn.execute(query).mappings()]


def visitor_attachment(conn: Connection, channel_id: int, contact_id: int, attachment_id: int) -> Attachment | None:
    """An attachment the visitor may read: on a message they may read (visitor_messages' rule)."""
    theirs = select(conversations.c.id).where(conversations.c.contact_id == contact_id)
    row = (
        conn.execute(
            select(attachments)
            .join(messages, messages.c.id == attachments.c.message_id)
            .where(
                attachments.c.id == attachment_id,
                messages.c.conversation_id.in_(theirs),
                messages.c.channel_id == channel_id,
                messages.c.private == false(),
            )
        )
        .mappings()
        .first()
    )
    return None if row is None else Attachment(**row)


_SHOWN = (
    messages.c.id,
    messages.c.conversation_id,
    messages.c.direction,
    messages.c.author_kind,
    messages.c.text,
    messages.c.quick_replies,
    messages.c.created_at,
)


def _shown(row: Any) -> dict[str, Any]:
    return {**row, "quick_replies": row["quick_replies"] or [], "created_at": row["created_at"].isoformat()}


def _public(row: dict[str, Any]) -> dict[str, Any]:
    row.pop("secret", None)
    row.pop("previous_secret", None)
    row.pop("credentials", None)
    return row


def list_channels(conn: Connection) -> list[dict[str, Any]]:
    return [_public(dict(r)) for r in conn.execute(select(channels).order_by(channels.c.id)).mappings()]


def channel_detail(conn: Connection, channel_id: int) -> dict[str, Any]:
    row = conn.execute(select(channels).where(channels.c.id == channel_id)).mappings().first()
    if row is None:
        raise NotFound("channel", channel_id)
    return _public(dict(row))


def channel_choices(conn: Connection) -> list[dict[str, Any]]:
    """Every channel's id, name and type, by id (the pages' pickers)."""
    query = select(channels.c.id, channels.c.name, channels.c.type).order_by(channels.c.id)
    return [dict(r) for r in conn.execute(query).mappings()]


def channel_secrets(conn: Connection, channel_id: int, at: dt.datetime) -> tuple[str, ...] | None:
    """The secrets that verify the channel's inbound calls at `at`: its secret, then the one it
    replaced while that one's grace period runs. None: no such channel."""
    query = select(channels.c.secret, channels.c.previous_secret, channels.c.previous_secret_until)
    row = conn.execute(query.where(channels.c.id == channel_id)).first()
    if row is None:
        return None
    if row.previous_secret is None or row.previous_secret_until is None or row.previous_secret_until <= at:
        return (row.secret,)
    return (row.secret, row.previous_secret)


def configs_of_type(conn: Connection, type_: str) -> list[tuple[int, dict[str, Any]]]:
    """Each channel of `type_` with its config, secrets left sealed (the SMTP receiver matches
    e-mail channels by their inbound address at every RCPT)."""
    query = select(channels.c.id, channels.c.config).where(channels.c.type == type_).order_by(channels.c.id)
    return [(row.id, row.config) for row in conn.execute(query)]
