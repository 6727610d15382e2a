"""Channels: where contacts write from. Each gets a secret used to sign what crosses it."""

from __future__ import annotations

import secrets

from sqlalchemy import Connection, RowMapping, insert, select

from frontdesk.clock import now
from frontdesk.domain.errors import NotFound
from frontdesk.domain.model import ChannelType
from frontdesk.domain.people import check_name
from frontdesk.store.tables import channels


def create_channel(conn: Connection, type_: ChannelType, name: str, config: dict[str, object]) -> tuple[int, str]:
    """Return (id, secret); the secret is shown once to the creator and used for HMAC signatures."""
    secret = secrets.token_urlsafe(32)
    channel_id = conn.execute(
        insert(channels).values(type=type_, name=check_name(name), config=config, secret=secret, created_at=now())
    ).inserted_primary_key[0]
    return int(channel_id), secret


def get_channel(conn: Connection, channel_id: int) -> RowMapping:
    row = conn.execute(select(channels).where(channels.c.id == channel_id)).mappings().first()
    if row is None:
        raise NotFound("channel", channel_id)
    return row
