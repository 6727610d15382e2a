"""Twilio Messaging webhooks: incoming SMS/MMS and the status callbacks of our messages, one per POST.

A public route authenticated by `X-Twilio-Signature`, which covers the URL Twilio posted to: the
one under FRONTDESK_PUBLIC_URL when it is set (behind a proxy the request's own URL is not what
Twilio saw), else the request's. Past the signature, nothing in a webhook makes the answer an
error (Twilio would retry it and log an 11200 error): what Frontdesk cannot take is skipped and
logged. The answer is empty TwiML: Frontdesk replies later through the REST API, never inline.
"""

from __future__ import annotations

import time
from functools import partial
from typing import Any

from litestar import Request, Response, post

from frontdesk.actions.opt_outs import record_opt_out
from frontdesk.api.auth import SIGNED_WEBHOOK
from frontdesk.api.deps import Db
from frontdesk.api.provider_items import Stored, Write, take, usual_write
from frontdesk.api.schemas import PathId
from frontdesk.channels import twilio, twilio_inbound
from frontdesk.channels.base import Notice, OptOut
from frontdesk.domain.errors import NotFound, Unauthorized
from frontdesk.domain.model import ChannelType
from frontdesk.domain.records import Channel

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


@post(
    "/webhooks/twilio/{channel_id:int}", opt=SIGNED_WEBHOOK, tags=["channels"], status_code=200, media_type="text/xml"
)
async def twilio_webhook(request: Request[Any, Any, Any], db: Db, channel_id: PathId) -> Response[str]:
    """An incoming message (`MessageSid`, `From`, `Body`, `NumMedia`, `MediaUrl0`…) or a status
    callback (`MessageStatus`, `ErrorCode`), form-encoded and signed with the auth token
    (`X-Twilio-Signature`). Answers empty TwiML (`<Response/>`, text/xml); a redelivered webhook
    stores nothing twice. STOP and START record the contact's opt-out."""
    channel = await _twilio_channel(request, channel_id)
    body = await request.body()
    headers = {**{k.lower(): v for k, v in request.headers.items()}, twilio.SIGNED_URL: signed_url(request)}
    problem = twilio.ADAPTER.verify((channel.credential(twilio.AUTH_TOKEN),), headers, body, time.time())
    if problem is not None:
        raise Unauthorized("bad_signature", problem)
    form = twilio.form_fields(body)
    change = twilio_inbound.opt_out(form)
    for item in twilio.ADAPTER.parse(form):
        await take(db, "twilio", channel_id, item, partial(_write, change=change))
    return Response(EMPTY_TWIML, status_code=200, media_type="text/xml")


def signed_url(request: Request[Any, Any, Any]) -> str:
    """The URL Twilio posted to: under FRONTDESK_PUBLIC_URL when set, with the request's query."""
    public: str | None = request.app.state.settings.public_url
    if not public:
        return str(request.url)
    query = request.url.query
    return f"{public.rstrip('/')}{request.url.path}" + (f"?{query}" if query else "")


async def _twilio_channel(request: Request[Any, Any, Any], channel_id: int) -> Channel:
    found: Channel | None = await request.app.state.authenticator.provider_channel(channel_id)
    if found is None or found.type != ChannelType.TWILIO:
        raise NotFound("twilio channel", channel_id)
    return found


def _write(channel_id: int, item: Stored, change: OptOut | None) -> Write:
    """An opt-out keyword's notice records the opt-out with its note; the rest as usual."""
    if isinstance(item, Notice):
        assert change is not None  # the parser makes a notice of an opt-out keyword only
        return lambda c: record_opt_out(c, channel_id, change, item)
    return usual_write(channel_id, item)
