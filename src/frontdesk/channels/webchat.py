"""The web-chat channel: visitors of a business's site write from an embedded widget.

A visitor is a random id their browser keeps; a visitor token (the id, an expiry and an
HMAC-SHA256 of both under the channel secret) proves it without any server-side session, so one
visitor can never read or write as another. The visitor's contact is made by their first message,
not by the session: a script opening sessions makes no contacts. A channel lists the site
origins allowed to embed it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, false, select

from frontdesk.actions.contacts import field_definitions, find_or_create_by_identity, update_contact
from frontdesk.actions.ingest import CONTACT, InboundMessage, receive_inbound
from frontdesk.clock import now
from frontdesk.domain.contacts import normalise_value
from frontdesk.domain.errors import InvalidInput, NotFound, Unauthorized
from frontdesk.domain.model import ChannelType
from frontdesk.store.tables import channels, contact_identities, contacts, conversations, messages

VISITOR_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")
_EXPIRY = re.compile(r"[0-9]{1,11}")  # unix seconds, before the year 5000: a datetime can hold it
CLIENT_MESSAGE_ID = re.compile(r"[A-Za-z0-9_-]{1,100}")
_ORIGIN = re.compile(r"https?://[a-z0-9.-]+(:[0-9]{1,5})?")
# Keeps visitor tokens apart from the channel's request signatures ("<digits>.<body>"), which
# use the same secret: no visitor id can make the server sign something else.
_TOKEN_CONTEXT = b"frontdesk.webchat.visitor:"


@dataclass(frozen=True)
class WebchatChannel:
    id: int
    secret: str
    allowed_origins: tuple[str, ...]
    previous_secret: str | None = None  # a rotated-out secret, still valid during its grace period


@dataclass(frozen=True)
class Profile:
    """What a visitor may tell about themselves in the widget; both optional."""

    name: str | None = None
    email: str | None = None


# -- identity ----------------------------------------------------------------------------------
def new_visitor_id() -> str:
    return secrets.token_urlsafe(24)


def visitor_token(secret: str, visitor_id: str, expires_at: dt.datetime) -> str:
    """`<visitor id>.<expiry, unix seconds>.<mac>`: the expiry is signed with the id."""
    signed = f"{visitor_id}.{int(expires_at.timestamp())}"
    mac = hmac.new(secret.encode(), _TOKEN_CONTEXT + signed.encode(), hashlib.sha256).hexdigest()
    return f"{signed}.{mac}"


def visitor_of(channel: WebchatChannel, token: str | None, now: dt.datetime) -> str:
    """The visitor id a token proves, checked in constant time; Unauthorized otherwise."""
    visitor_id, expires = _token_parts(token or "")
    if not VISITOR_ID.fullmatch(visitor_id) or not _EXPIRY.fullmatch(expires):
        raise Unauthorized("bad_visitor_token", "send the visitor token of a session: Authorization: Bearer <token>")
    expires_at = dt.datetime.fromtimestamp(int(expires), dt.UTC)
    valid = (channel.secret, channel.previous_secret) if channel.previous_secret else (channel.secret,)
    given = (token or "").encode()
    if not any(hmac.compare_digest(visitor_token(s, visitor_id, expires_at).encode(), given) for s in valid):
        raise Unauthorized("bad_visitor_token", "the visitor token does not match this channel")
    if expires_at <= now:
        raise Unauthorized(
            "visitor_token_expired", f"the visitor token expired at {expires_at.isoformat()}: start a new session"
        )
    return visitor_id


def _token_parts(token: str) -> tuple[str, str]:
    """(visitor id, expiry) of `<id>.<expiry>.<mac>`; empty strings for anything else."""
    parts = token.split(".")
    return (parts[0], parts[1]) if len(parts) == 3 else ("", "")


# -- origins -----------------------------------------------------------------------------------
def channel_config(allowed_origins: list[str] | None) -> dict[str, Any]:
    """A webchat channel's config: the site origins (scheme://host[:port]) that may embed it."""
    clean = []
    for index, value in enumerate(allowed_origins or []):
        origin = value.strip().lower().rstrip("/")
        if not _ORIGIN.fullmatch(origin):
            raise InvalidInput(
                "invalid_origin",
                f"allowed_origins.{index}: {value!r} is not an origin like https://shop.example or http://localhost:3000",
                "allowed_origins",
            )
        clean.append(origin)
    return {"allowed_origins": sorted(set(clean))}


def origin_allowed(channel: WebchatChannel, origin: str, hosts: tuple[str | None, ...]) -> bool:
    """Frontdesk's own pages (the demo) may always use a channel; other sites only if listed.
    `hosts`: the Host header and a proxy's X-Forwarded-Host (which a page of another site could
    only send after a preflight, and preflights from other sites are refused)."""
    return origin in channel.allowed_origins or urlsplit(origin).netloc in {h for h in hosts if h}


# -- reads and writes --------------------------------------------------------------------------
def load_channel(conn: Connection, channel_id: int) -> WebchatChannel:
    row = conn.execute(select(channels).where(channels.c.id == channel_id)).mappings().first()
    if row is None or row["type"] != ChannelType.WEBCHAT:
        raise NotFound("webchat_channel", channel_id)
    until = row["previous_secret_until"]
    previous = row["previous_secret"] if until is not None and until > now() else None
    return WebchatChannel(row["id"], row["secret"], tuple(row["config"].get("allowed_origins") or ()), previous)


def first_channel_id(conn: Connection) -> int | None:
    query = select(channels.c.id).where(channels.c.type == ChannelType.WEBCHAT).order_by(channels.c.id)
    return conn.execute(query).scalar()


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
    if profile.name and not created:
        current = conn.execute(select(contacts.c.name).where(contacts.c.id == contact_id)).scalar()
        if current is None:
            update_contact(conn, contact_id, CONTACT, name=profile.name)
    if email:
        update_contact(conn, contact_id, CONTACT, fields={"email": email})
    return contact_id


def _check_email(conn: Connection, email: str) -> object:
    definition = field_definitions(conn).get("email")
    if definition is None:
        raise InvalidInput("no_email_field", "email: this Frontdesk declares no `email` contact field", "email")
    try:
        return normalise_value(definition, email)
    except ValueError as exc:
        raise InvalidInput("invalid_email", f"email: {exc}", "email") from exc


def visitor_contact(conn: Connection, channel_id: int, visitor_id: str) -> int | None:
    query = select(contact_identities.c.contact_id).where(
        contact_identities.c.channel_id == channel_id, contact_identities.c.external_id == visitor_id
    )
    return conn.execute(query).scalar()


def post_message(
    conn: Connection, channel_id: int, visitor_id: str, client_id: str, text: str, profile: Profile
) -> tuple[dict[str, Any], bool]:
    """The visitor's message, idempotent on their client id: (the stored message, was it a retry).
    The first one makes the visitor's contact, with the name and e-mail they gave (`profile`)."""
    # The provider id carries the visitor id, so two visitors choosing the same client id never
    # collide (and one can never get the other's message back as a "retry").
    provider_id = f"{visitor_id}:{client_id}"
    inbound = InboundMessage(channel_id, visitor_id, provider_id, text)
    if visitor_contact(conn, channel_id, visitor_id) is None:
        email = {"email": _check_email(conn, profile.email)} if profile.email else {}
        inbound = InboundMessage(channel_id, visitor_id, provider_id, text, profile.name, email)
    receipt = receive_inbound(conn, inbound)
    row = conn.execute(select(*_SHOWN).where(messages.c.id == receipt.message_id)).mappings().one()
    return _shown(row), receipt.duplicate


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
