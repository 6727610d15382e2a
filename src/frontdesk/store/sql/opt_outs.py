"""Opt-outs: whether a contact sent a channel's opt-out keyword (SMS's STOP), kept on their
identity on that channel, so each sender number's list is its own (as carriers keep it)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection

from frontdesk.store import rows
from frontdesk.store.tables import contact_identities

_OPTED_OUT = (
    "SELECT 1 FROM contact_identities WHERE contact_id = ? AND channel_id = ? AND opted_out_at IS NOT NULL LIMIT 1"
)
_WHERE = "channel_id = ? AND external_id = ?"


def opted_out(conn: Connection, contact_id: int, channel_id: int) -> bool:
    return rows.scalar(conn, _OPTED_OUT, (contact_id, channel_id)) is not None


def opted_out_at(conn: Connection, channel_id: int, external_id: str) -> dt.datetime | None:
    found = rows.select_one(conn, contact_identities, _WHERE, (channel_id, external_id))
    return None if found is None else found["opted_out_at"]


def set_opted_out(conn: Connection, channel_id: int, external_id: str, at: dt.datetime | None) -> None:
    """Record the opt-out (at its time) or its end (None)."""
    rows.update(conn, contact_identities, _WHERE, (channel_id, external_id), {"opted_out_at": at})
