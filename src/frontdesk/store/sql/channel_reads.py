"""Channels as the API and the admin pages read them (never their secrets), and the secrets that
verify a channel's inbound calls."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, select

from frontdesk.domain.errors import NotFound
from frontdesk.store.tables import channels


def _public(row: dict[str, Any]) -> dict[str, Any]:
    row.pop("secret", None)
    row.pop("previous_secret", None)
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
