"""The web-chat widget's public endpoints, under /webchat/{channel_id}/, and its demo page.

No API token here: a visitor proves who they are with their visitor token
(`Authorization: Bearer <token>`, or `?token=` on the event stream, which EventSource cannot
give headers). The channel's `allowed_origins` decide which sites may call (CORS). Every
request counts against its client address's rate, new sessions and messages against their own
(channels/webchat_limits.py): past them, 429 with Retry-After.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any

from litestar import Controller, Litestar, Request, Response, get, post
from litestar.datastructures import Headers, UploadFile
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body as BodyKwarg
from litestar.params import JSONBody, QueryParameter
from litestar.response import File, ServerSentEvent, ServerSentEventMessage, Template
from litestar.types import ASGIApp, HTTPResponseStartEvent, Message, Receive, Scope, Send
from pydantic import Field, StringConstraints, ValidationError
from sqlalchemy import Connection

from frontdesk.actions import webchat as visitors
from frontdesk.api import uploads
from frontdesk.api.addresses import client_address
from frontdesk.api.attachments import content_response, with_attachments
from frontdesk.api.deps import Db
from frontdesk.api.schemas import MAX_ID, Body, PathId
from frontdesk.channels import webchat
from frontdesk.channels.webchat import Profile, WebchatChannel
from frontdesk.channels.webchat_limits import WebchatLimits
from frontdesk.channels.webchat_live import VisitorFeed
from frontdesk.domain.conversations import check_message_text
from frontdesk.domain.errors import DomainError, Forbidden, NotFound, Unauthorized
from frontdesk.settings import Settings
from frontdesk.store.database import Database, sleep_until_set
from frontdesk.store.sql.channels import visitor_attachment

CHANNEL_KEY = "webchat_channel"
KEEPALIVE_SECONDS = 15.0
PAGE = 100
Cursor = Annotated[int, QueryParameter(ge=0, le=MAX_ID)]
Channel = NamedDependency[WebchatChannel]
VisitorId = NamedDependency[str]


class SessionBody(Body):
    visitor_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{16,64}$")] | None = None
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = None
    email: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=254)] | None = None


class VisitorMessageBody(Body):
    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,100}$")]  # chosen by the widget: retries reuse it
    text: Annotated[str, Field(min_length=1, max_length=10_000)]
    # Kept when this first message makes the visitor's contact (a session alone makes none).
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = None
    email: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=254)] | None = None


@dataclass
class VisitorUpload:
    """A message with a file (multipart/form-data): the fields of VisitorMessageBody, and `file`."""

    id: str
    file: UploadFile
    text: str = ""
    name: str | None = None
    email: str | None = None


def _check_upload(data: VisitorUpload) -> None:
    """The checks VisitorMessageBody's fields make, for the same fields sent as a form."""
    try:
        VisitorMessageBody(id=data.id, text=data.text or "-", name=data.name or None, email=data.email or None)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise DomainError("invalid_request", f"invalid request: {field}: {first['msg']}", field) from None


def _shown(channel_id: int, conn: Connection, found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The visitor's messages with their attachments, served to them under /webchat/ (their token)."""
    return with_attachments(conn, found, lambda attachment_id: f"/webchat/{channel_id}/attachments/{attachment_id}")


def _page(conn: Connection, channel_id: int, contact_id: int, after: int, limit: int) -> list[dict[str, Any]]:
    return _shown(channel_id, conn, visitors.visitor_messages(conn, channel_id, contact_id, after, limit))


# -- which channel, from which site ------------------------------------------------------------
class OriginGate:
    """ASGI middleware of the webchat routes: resolves the channel (404 unless it is a webchat
    one), refuses other sites than its allowed origins (403) and answers CORS for the allowed.
    A middleware rather than a hook, so that error answers carry the CORS headers too."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        channel_id = scope["path_params"].get("channel_id")
        if not isinstance(channel_id, int) or not 0 < channel_id <= MAX_ID:
            raise NotFound("webchat_channel", channel_id)
        db: Database = Litestar.from_scope(scope).state.db
        channel = await db.read(lambda c: visitors.load_channel(c, channel_id))
        headers = Headers.from_scope(scope)
        origin = headers.get("origin")
        if origin is not None and not webchat.origin_allowed(
            channel, origin, (headers.get("host"), headers.get("x-forwarded-host"))
        ):
            raise Forbidden(
                "origin_not_allowed",
                f"{origin} may not use web chat channel {channel_id}: add it to the channel's allowed_origins",
                "origin",
            )
        scope.setdefault("state", {})[CHANNEL_KEY] = channel
        cors = _cors_headers(origin)
        if scope["method"] == "OPTIONS":
            await _answer_preflight(send, cors)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *cors]
            await send(message)

        await self.app(scope, receive, send_with_cors)


def _cors_headers(origin: str | None) -> list[tuple[bytes, bytes]]:
    headers = [(b"vary", b"Origin")]
    if origin is not None:  # already checked: allowed
        headers += [
            (b"access-control-allow-origin", origin.encode("latin-1")),
            (b"access-control-expose-headers", b"Idempotent-Replayed"),
        ]
    return headers


async def _answer_preflight(send: Send, cors: list[tuple[bytes, bytes]]) -> None:
    headers = [
        *cors,
        (b"access-control-allow-methods", b"GET, POST"),
        (b"access-control-allow-headers", b"Authorization, Content-Type"),
        (b"access-control-max-age", b"600"),
        (b"allow", b"GET, POST, OPTIONS"),
    ]
    start: HTTPResponseStartEvent = {"type": "http.response.start", "status": 204, "headers": headers}
    await send(start)
    await send({"type": "http.response.body", "body": b"", "more_body": False})


def _channel(request: Request[Any, Any, Any]) -> WebchatChannel:
    found: WebchatChannel = request.state[CHANNEL_KEY]
    return found


def _visitor(request: Request[Any, Any, Any], channel: Channel) -> str:
    """The visitor id the request's token proves (header, or `token` on the event stream)."""
    authorization = request.headers.get("authorization")
    moment = request.app.state.clock()
    if authorization is None:
        return webchat.visitor_of(channel, request.query_params.get("token"), moment)
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer":
        raise Unauthorized("bad_visitor_token", "send the visitor token as Authorization: Bearer <token>")
    return webchat.visitor_of(channel, token.strip(), moment)


def _limits(request: Request[Any, Any, Any]) -> WebchatLimits:
    limits: WebchatLimits = request.app.state.webchat_limits
    return limits


def _count_request(request: Request[Any, Any, Any]) -> None:
    """Every web-chat request counts against its client address (inside the handler, so a 429
    carries the CORS headers and the widget can read it)."""
    limits = _limits(request)
    limits.take(limits.requests, client_address(request))


def _new_token(request: Request[Any, Any, Any], channel: WebchatChannel, visitor_id: str) -> dict[str, str]:
    settings: Settings = request.app.state.settings
    expires_at = request.app.state.clock() + dt.timedelta(days=settings.webchat_token_days)
    token = webchat.visitor_token(channel.secret, visitor_id, expires_at)
    return {"visitor_id": visitor_id, "token": token, "expires_at": expires_at.isoformat(timespec="seconds")}


# -- live delivery -----------------------------------------------------------------------------
async def _visitor_events(
    feed: VisitorFeed, db: Database, channel_id: int, contact_id: int, after: int
) -> AsyncIterator[ServerSentEventMessage]:
    yield ServerSentEventMessage(event="ready", data=json.dumps({"cursor": after}))
    with feed.watch(contact_id) as woken:
        while not feed.ending:
            woken.clear()
            found = await db.read(partial(_page, channel_id=channel_id, contact_id=contact_id, after=after, limit=PAGE))
            for message in found:
                yield ServerSentEventMessage(event="message", data=json.dumps(message))
            if found:
                after = found[-1]["id"]
                continue
            await sleep_until_set(woken, KEEPALIVE_SECONDS)
            if not woken.is_set():
                yield ServerSentEventMessage(comment="keepalive")


# -- the endpoints -----------------------------------------------------------------------------
class WebchatController(Controller):
    path = "/webchat/{channel_id:int}"
    include_in_schema = False  # a visitor-token API for the widget; documented in docs/api.md
    opt = {"auth": "public"}
    middleware = [OriginGate]
    before_request = staticmethod(_count_request)
    dependencies = {
        "channel": Provide(_channel, sync_to_thread=False),
        "visitor": Provide(_visitor, sync_to_thread=False),
    }

    @post("/session", status_code=200)
    async def session(
        self, request: Request[Any, Any, Any], db: Db, channel: Channel, data: JSONBody[SessionBody]
    ) -> dict[str, str]:
        """Start a visitor session (a new id, or the one the widget chose) or resume one with its
        token; either way a fresh token (the expiry slides). No contact is made here: the first
        message makes it. A name or e-mail given is kept on the visitor's contact once it exists."""
        profile = Profile(data.name, data.email)
        if "authorization" not in request.headers:
            _limits(request).take(_limits(request).sessions, client_address(request))
            visitor_id = data.visitor_id or webchat.new_visitor_id()
            await db.read(lambda c: visitors.check_unclaimed(c, channel.id, visitor_id))
            await db.read(lambda c: visitors.check_profile(c, profile))
            return _new_token(request, channel, visitor_id)
        visitor_id = _visitor(request, channel)
        if data.visitor_id not in (None, visitor_id):
            raise Unauthorized("bad_visitor_token", "the token is for another visitor_id")
        known = await db.read(lambda c: visitors.visitor_contact(c, channel.id, visitor_id))
        if known is None:
            await db.read(lambda c: visitors.check_profile(c, profile))
        elif profile != Profile():
            await db.write(lambda c: visitors.save_visitor(c, channel.id, visitor_id, profile))
        return _new_token(request, channel, visitor_id)

    @post("/messages", status_code=200)
    async def send(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        channel: Channel,
        visitor: VisitorId,
        data: JSONBody[VisitorMessageBody],
    ) -> Response[dict[str, Any]]:
        """The visitor writes. Idempotent on `id`: a retry answers the stored message again."""
        check_message_text(data.text)
        _limits(request).take(_limits(request).messages, f"{channel.id}:{visitor}")
        profile = Profile(data.name, data.email)
        message, duplicate = await db.write(
            lambda c: visitors.post_message(c, channel.id, visitor, data.id, data.text, profile)
        )
        message = await db.read(lambda c: _shown(channel.id, c, [message])[0])
        return Response(message, headers={"Idempotent-Replayed": "true"} if duplicate else {})

    @post("/messages/upload", status_code=200, opt={"upload_files": 1})
    async def upload(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        channel: Channel,
        visitor: VisitorId,
        data: Annotated[VisitorUpload, BodyKwarg(media_type=RequestEncodingType.MULTI_PART)],
    ) -> Response[dict[str, Any]]:
        """The visitor writes with a file (one a message, at most FRONTDESK_MEDIA_MAX_BYTES: 413
        past it). Idempotent on `id`, as a message without one; the file is stored first."""
        _check_upload(data)
        _limits(request).take(_limits(request).messages, f"{channel.id}:{visitor}")
        checked = await uploads.uploaded(data.file, request.app.state.settings.media_max_bytes, "file")
        files = await uploads.store(request.app.state.media, [checked])
        profile = Profile(data.name or None, data.email or None)
        message, duplicate = await db.write(
            lambda c: visitors.post_message(c, channel.id, visitor, data.id, data.text, profile, files)
        )
        message = await db.read(lambda c: _shown(channel.id, c, [message])[0])
        return Response(message, headers={"Idempotent-Replayed": "true"} if duplicate else {})

    @get("/attachments/{attachment_id:int}")
    async def attachment(
        self, request: Request[Any, Any, Any], db: Db, channel: Channel, visitor: VisitorId, attachment_id: PathId
    ) -> File:
        """The content of an attachment of the visitor's own messages (a note's never: 404), with
        the same headers as the inbox's (api/attachments.py); `?token=` serves an <img>."""
        contact_id = await db.read(lambda c: visitors.visitor_contact(c, channel.id, visitor))
        found = None
        if contact_id is not None:
            found = await db.read(lambda c: visitor_attachment(c, channel.id, contact_id, attachment_id))
        if found is None:
            raise NotFound("attachment", attachment_id)
        return content_response(request.app.state.media, found)

    @get("/messages")
    async def messages(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        channel: Channel,
        visitor: VisitorId,
        after: Cursor = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=PAGE)] = PAGE,
        wait: Annotated[float, QueryParameter(ge=0, le=30)] = 0,
    ) -> dict[str, Any]:
        """The visitor's messages after a cursor; with `wait`, a long poll of up to that many seconds."""
        contact_id = await db.read(lambda c: visitors.visitor_contact(c, channel.id, visitor))
        if contact_id is None:
            return {"messages": [], "cursor": after}

        def read(conn: Connection) -> list[dict[str, Any]]:
            return _page(conn, channel.id, contact_id, after, limit)

        feed: VisitorFeed = request.app.state.visitors
        with feed.watch(contact_id) as woken:
            found = await db.read(read)
            if not found and wait and not feed.ending:
                await sleep_until_set(woken, wait)
                found = await db.read(read)
        return {"messages": found, "cursor": found[-1]["id"] if found else after}

    @get("/stream")
    async def stream(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        channel: Channel,
        visitor: VisitorId,
        after: Cursor = 0,
    ) -> ServerSentEvent:
        """Server-Sent Events: `ready`, then each of the visitor's messages after the cursor as a
        `message` event, as it is committed; a comment every 15 s keeps proxies from closing it."""
        contact_id = await db.read(lambda c: visitors.visitor_contact(c, channel.id, visitor))
        if contact_id is None:
            raise NotFound("visitor", visitor)
        feed: VisitorFeed = request.app.state.visitors
        return ServerSentEvent(
            _visitor_events(feed, db, channel.id, contact_id, after),
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )


@get("/widget/demo", opt={"auth": "public"}, include_in_schema=False)
async def widget_demo(db: Db, channel: Annotated[int | None, QueryParameter(ge=1, le=MAX_ID)] = None) -> Template:
    """A sample shop page embedding the widget (the first webchat channel unless `channel` says)."""
    channel_id = channel if channel is not None else await db.read(visitors.first_channel_id)
    try:
        if channel_id is None:
            raise NotFound("webchat_channel", "")
        await db.read(lambda c: visitors.load_channel(c, channel_id))
    except NotFound:
        return Template("widget_demo.html", context={"channel_id": None, "asked": channel}, status_code=404)
    return Template("widget_demo.html", context={"channel_id": channel_id, "asked": channel})
