"""What web-chat visitors do through the widget: open a session, tell their name and e-mail, post
messages, read theirs. The checks and the writes; the channel's pure rules (tokens, origins) are
its adapter's (channels/webchat.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from frontdesk.actions.contacts import field_definitions, find_or_create_by_identity, get_contact, update_contact
from frontdesk.actions.ingest import CONTACT, InboundMessage, receive_inbound
from frontdesk.channels import webchat
from frontdesk.channels.webchat import Profile, WebchatChannel
from frontdesk.clock import now
from frontdesk.domain.attachments import NewAttachment
from frontdesk.domain.contacts import normalise_value
from frontdesk.domain.errors import InvalidInput, NotFound, Unauthorized
from frontdesk.domain.model import ChannelType
from frontdesk.store.sql import channels, contacts


def load_channel(conn: Connection, channel_id: int) -> WebchatChannel:
    found = channels.channel(conn, channel_id)
    if found is None or found.type != ChannelType.WEBCHAT:
        raise NotFound("webchat_channel", channel_id)
    return webchat.webchat_channel(found, now())


def first_channel_id(conn: Connection) -> int | None:
    return channels.first_channel_id(conn, ChannelType.WEBCHAT)


def visitor_contact(conn: Connection, channel_id: int, visitor_id: str) -> int | None:
    return contacts.by_identity(conn, channel_id, visitor_id)


def visitor_messages(
    conn: Connection, channel_id: int, contact_id: int, after: int, limit: int
) -> list[dict[str, Any]]:
    return channels.visitor_messages(conn, channel_id, contact_id, after, limit)


def check_unclaimed(conn: Connection, channel_id: int, visitor_id: str) -> None:
    """A new session may choose its visitor id, unless a visitor who wrote holds it (needs its token)."""
    if visitor_contact(conn, channel_id, visitor_id) is not None:
        raise Unauthorized("visitor_exists", "this visitor_id is in use: send its token to resume the session")


def check_profile(conn: Connection, profile: Profile) -> None:
    """Refuse a bad e-mail at once, though it is kept only with the visitor's first message."""
    if profile.email:
        _check_email(conn, profile.email)


def save_visitor(conn: Connection, channel_id: int, visitor_id: str, profile: Profile) -> int:
    """Find or create the visitor's contact and keep what they told: a name fills an empty one
    (never overwriting what an agent set); an e-mail goes to the declared `email` field."""
    email = _check_email(conn, profile.email) if profile.email else None
    contact_id, created = find_or_create_by_identity(conn, channel_id, visitor_id, profile.name)
    if profile.name and not created and get_contact(conn, contact_id).name is None:
        update_contact(conn, contact_id, CONTACT, name=profile.name)
    if email:
        update_contact(conn, contact_id, CONTACT, fields={"email": email})
    return contact_id


def post_message(
    conn: Connection,
    channel_id: int,
    visitor_id: str,
    client_id: str,
    text: str,
    profile: Profile,
    attachments: Sequence[NewAttachment] = (),
) -> tuple[dict[str, Any], bool]:
    """The visitor's message (with the files they attached, already stored), idempotent on their
    client id: (the stored message, was it a retry). The first one makes the visitor's contact,
    with the name and e-mail they gave (`profile`)."""
    payload = {"visitor_id": visitor_id, "client_id": client_id, "text": text, **_told(profile)}
    (item,) = webchat.ADAPTER.parse(payload)
    first = visitor_contact(conn, channel_id, visitor_id) is None
    email = item.contact_fields.get("email") if first else None
    inbound = InboundMessage(
        channel_id,
        item.external_id,
        item.provider_message_id,
        item.text,
        item.contact_name if first else None,
        {"email": _check_email(conn, str(email))} if email else {},
        tuple(attachments),
    )
    receipt = receive_inbound(conn, inbound)
    return channels.visitor_message(conn, receipt.message_id), receipt.duplicate


def _told(profile: Profile) -> dict[str, str]:
    return {key: value for key, value in (("name", profile.name), ("email", profile.email)) if value}


def _check_email(conn: Connection, email: str) -> object:
    definition = field_definitions(conn).get("email")
    if definition is None:
        raise InvalidInput("no_email_field", "email: this Frontdesk declares no `email` contact field", "email")
    try:
        return normalise_value(definition, email)
    except ValueError as exc:
        raise InvalidInput("invalid_email", f"email: {exc}", "email") from exc
