"""The web-chat channel: visitors of a business's site write from an embedded widget.

The widget's endpoints (api/webchat.py) use this adapter; actions.webchat writes what visitors
send. A visitor is a random id their browser keeps; a visitor token (the id, an expiry and an
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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from frontdesk.channels.base import (
    Capabilities,
    CheckResult,
    InboundItem,
    MediaFetch,
    SendResult,
    Verdict,
    nothing_to_check,
)
from frontdesk.channels.media import no_provider_media
from frontdesk.domain.errors import InvalidInput, Unauthorized
from frontdesk.domain.model import ChannelType
from frontdesk.domain.records import Attachment, Channel, Outbound
from frontdesk.settings import Settings

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


# -- the adapter -------------------------------------------------------------------------------
def webchat_channel(channel: Channel, now: dt.datetime) -> WebchatChannel:
    """What the widget's endpoints check a request against; a rotated-out secret while its grace runs."""
    until = channel.previous_secret_until
    previous = channel.previous_secret if until is not None and until > now else None
    return WebchatChannel(channel.id, channel.secret, tuple(channel.config.get("allowed_origins") or ()), previous)


def provider_message_id(visitor_id: str, client_id: str) -> str:
    """The provider id carries the visitor id, so two visitors choosing the same client id never
    collide (and one can never get the other's message back as a "retry")."""
    return f"{visitor_id}:{client_id}"


class WebchatAdapter:
    type = ChannelType.WEBCHAT
    capabilities = Capabilities(max_quick_replies=10)
    required: frozenset[str] = frozenset()
    credential_names: frozenset[str] = frozenset()

    def default_config(self) -> dict[str, Any]:
        return {"allowed_origins": []}

    def check_config(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        if "callback_url" in settings:
            raise InvalidInput("not_for_webchat", "callback_url: web chat answers in the widget", "callback_url")
        if "phone_number_id" in settings:
            raise InvalidInput("not_for_webchat", "phone_number_id: only whatsapp channels have one", "phone_number_id")
        if "templates" in settings:
            raise InvalidInput("not_for_webchat", "templates: only whatsapp channels send templates", "templates")
        return channel_config(settings["allowed_origins"]) if "allowed_origins" in settings else {}

    def check_complete(self, config: Mapping[str, Any], credentials: Mapping[str, str]) -> None:
        return None  # its settings stand on their own

    def verify(self, secrets: Sequence[str], headers: Mapping[str, str], body: bytes, now: float) -> str | None:
        """A visitor's request carries its visitor token (`Authorization: Bearer <token>`)."""
        token = headers.get("authorization", "").removeprefix("Bearer ").strip()
        channel = WebchatChannel(0, secrets[0], (), secrets[1] if len(secrets) > 1 else None)
        try:
            visitor_of(channel, token, dt.datetime.fromtimestamp(now, dt.UTC))
        except Unauthorized as exc:
            return exc.message
        return None

    def parse(self, payload: Any) -> list[InboundItem]:
        """`{visitor_id, client_id, text, name?, email?}`: the message a visitor posted."""
        visitor_id = payload["visitor_id"]
        email = payload.get("email")
        return [
            InboundItem(
                external_id=visitor_id,
                provider_message_id=provider_message_id(visitor_id, payload["client_id"]),
                text=payload["text"],
                contact_name=payload.get("name"),
                contact_fields={"email": email} if email else {},
            )
        ]

    def pushes(self, config: Mapping[str, Any]) -> bool:
        return False  # the widget reads its answers from the visitor feed

    async def send(
        self, client: httpx.AsyncClient, channel: Channel, message: Outbound, settings: Settings
    ) -> SendResult:
        return SendResult(Verdict.FAILED, "web chat answers in the widget: there is nothing to send to")

    async def check(self, client: httpx.AsyncClient, channel: Channel, settings: Settings) -> CheckResult:
        return nothing_to_check("web chat")

    async def fetch_media(
        self, client: httpx.AsyncClient, channel: Channel, attachment: Attachment, settings: Settings, limit: int
    ) -> MediaFetch:
        """Nothing: the media fetcher fetches a URL itself; these channels have no provider media."""
        return no_provider_media("web chat")


ADAPTER = WebchatAdapter()
