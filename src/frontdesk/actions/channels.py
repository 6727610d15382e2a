"""Channels: where contacts write from. Each gets a secret used to sign what crosses it."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from sqlalchemy import Connection, RowMapping, insert, select, update

from frontdesk.actions.events import emit
from frontdesk.channels import webchat
from frontdesk.clock import now
from frontdesk.domain import events as ev
from frontdesk.domain.errors import InvalidInput, NotFound
from frontdesk.domain.model import Actor, ChannelType
from frontdesk.domain.people import check_name
from frontdesk.store.tables import channels

DEFAULT_CONFIG: dict[ChannelType, dict[str, Any]] = {
    ChannelType.API: {"callback_url": None},
    ChannelType.WEBCHAT: {"allowed_origins": []},
}


def check_config(type_: ChannelType, settings: dict[str, Any]) -> dict[str, Any]:
    """The config keys `settings` sets, checked for the channel's type. Each type keeps its own
    settings; one meant for the other type is refused, not ignored."""
    if type_ is ChannelType.WEBCHAT:
        if "callback_url" in settings:
            raise InvalidInput("not_for_webchat", "callback_url: web chat answers in the widget", "callback_url")
        return webchat.channel_config(settings["allowed_origins"]) if "allowed_origins" in settings else {}
    if "allowed_origins" in settings:
        raise InvalidInput("not_for_api", "allowed_origins: only webchat channels have them", "allowed_origins")
    if "callback_url" not in settings:
        return {}
    url = settings["callback_url"]
    return {"callback_url": str(url) if url else None}


def create_channel(conn: Connection, type_: ChannelType, name: str, settings: dict[str, Any]) -> tuple[int, str]:
    """Return (id, secret); the secret is shown once to the creator and used for HMAC signatures."""
    config = {**DEFAULT_CONFIG[type_], **check_config(type_, settings)}
    secret = secrets.token_urlsafe(32)
    channel_id = conn.execute(
        insert(channels).values(type=type_, name=check_name(name), config=config, secret=secret, created_at=now())
    ).inserted_primary_key[0]
    return int(channel_id), secret


def rotate_secret(conn: Connection, channel_id: int, actor: Actor, grace: dt.timedelta) -> tuple[str, dt.datetime]:
    """A new secret, which signs outbound calls at once; the old one still verifies inbound calls
    (and web-chat visitor tokens) for `grace`, so the channel's sender can switch without a gap.
    Returns the new secret (shown once) and the end of the grace period."""
    old = get_channel(conn, channel_id)["secret"]
    secret = secrets.token_urlsafe(32)
    until = now() + grace
    values = {"secret": secret, "previous_secret": old, "previous_secret_until": until}
    if not grace:
        values.update(previous_secret=None, previous_secret_until=None)
    conn.execute(update(channels).where(channels.c.id == channel_id).values(**values))
    emit(conn, ev.CHANNEL_UPDATED, {"channel_id": channel_id, "changed": ["secret"], "actor": actor.as_payload()})
    return secret, until


def update_channel(conn: Connection, channel_id: int, actor: Actor, changes: dict[str, Any]) -> None:
    """`changes` may hold name, callback_url (api; None removes it), allowed_origins (webchat)."""
    channel = get_channel(conn, channel_id)
    name = check_name(changes["name"]) if "name" in changes else channel["name"]
    settings = {key: changes[key] for key in ("callback_url", "allowed_origins") if key in changes}
    before = channel["config"]
    config = {**before, **check_config(ChannelType(channel["type"]), settings)}
    changed = {key for key in config if config[key] != before.get(key)}
    if name != channel["name"]:
        changed.add("name")
    if not changed:
        return
    conn.execute(update(channels).where(channels.c.id == channel_id).values(name=name, config=config))
    payload = {"channel_id": channel_id, "changed": sorted(changed), "actor": actor.as_payload()}
    emit(conn, ev.CHANNEL_UPDATED, payload)


def get_channel(conn: Connection, channel_id: int) -> RowMapping:
    row = conn.execute(select(channels).where(channels.c.id == channel_id)).mappings().first()
    if row is None:
        raise NotFound("channel", channel_id)
    return row
