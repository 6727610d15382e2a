"""Opt-outs: a contact's STOP (or START) keyword changes whether the channel may message them.

The change and its event are written with the keyword's note (in the open conversation, if any)
in one transaction. A keyword opens no conversation and starts no workflow: it is not a request.
"""

from __future__ import annotations

from sqlalchemy import Connection

from frontdesk.actions.contacts import find_or_create_by_identity
from frontdesk.actions.events import emit
from frontdesk.actions.ingest import CONTACT, record_notice
from frontdesk.channels.base import Notice, OptOut
from frontdesk.clock import now
from frontdesk.domain import events as ev
from frontdesk.domain.errors import NotFound
from frontdesk.store.sql import channels, messages, opt_outs


def record_opt_out(conn: Connection, channel_id: int, change: OptOut, notice: Notice) -> bool:
    """Record the keyword (a contact unknown so far is created, so a STOP before any message
    holds too); True when it changed the contact's state. A provider's retry changes nothing."""
    if messages.received(conn, channel_id, change.provider_message_id) is not None:
        return False
    if channels.summary(conn, channel_id) is None:
        raise NotFound("channel", channel_id)
    contact_id, _ = find_or_create_by_identity(conn, channel_id, change.external_id, None)
    before = opt_outs.opted_out_at(conn, channel_id, change.external_id)
    record_notice(conn, channel_id, notice)
    if (before is not None) == change.opted_out:
        return False
    opt_outs.set_opted_out(conn, channel_id, change.external_id, now() if change.opted_out else None)
    payload: ev.ContactOptOutChangedPayload = {
        "channel_id": channel_id,
        "opted_out": change.opted_out,
        "keyword": change.keyword,
        "actor": CONTACT.as_payload(),
    }
    emit(conn, ev.CONTACT_OPT_OUT_CHANGED, payload, contact_id=contact_id)
    return True
