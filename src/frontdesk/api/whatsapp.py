"""WhatsApp Cloud API webhooks: Meta's subscription check (GET) and its deliveries (POST).

Public routes authenticated by the channel's own credentials: the verify token for the GET, the
app secret's signature of the raw body for the POST. Past the signature, nothing in a payload may
make the answer an error (Meta retries errors for days): an item Frontdesk cannot take is
skipped and logged, and each message goes through the one ingest path, in the payload's order. A
reaction or a message type Frontdesk cannot show is a system note in the open conversation.
"""

from __future__ import annotations

import hmac
import json
import logging
import time
from typing import Annotated, Any

from litestar import MediaType, Request, Response, get, post
from litestar.params import QueryParameter

from frontdesk.api.auth import SIGNED_WEBHOOK, SUBSCRIPTION_CHECK
from frontdesk.api.deps import Db
from frontdesk.api.provider_items import take
from frontdesk.api.schemas import PathId
from frontdesk.channels import whatsapp
from frontdesk.channels.base import InboundItem, Item
from frontdesk.domain.errors import Forbidden, NotFound, Unauthorized
from frontdesk.domain.model import ChannelType
from frontdesk.domain.records import Channel

log = logging.getLogger(__name__)
HubParam = Annotated[str | None, QueryParameter(name="hub.mode", required=False)]
TokenParam = Annotated[str | None, QueryParameter(name="hub.verify_token", required=False)]
ChallengeParam = Annotated[str | None, QueryParameter(name="hub.challenge", required=False, max_length=200)]


@get("/webhooks/whatsapp/{channel_id:int}", opt=SUBSCRIPTION_CHECK, tags=["channels"], media_type=MediaType.TEXT)
async def whatsapp_verify(
    request: Request[Any, Any, Any],
    channel_id: PathId,
    mode: HubParam = None,
    token: TokenParam = None,
    challenge: ChallengeParam = None,
) -> str:
    """Meta's subscription check: `hub.mode=subscribe` with the channel's verify token gets
    `hub.challenge` back as text; anything else 403."""
    channel = await _whatsapp_channel(request, channel_id)
    return subscription_challenge(channel.credential(whatsapp.VERIFY_TOKEN), mode, token, challenge)


def subscription_challenge(expected: str, mode: str | None, token: str | None, challenge: str | None) -> str:
    """What Meta's subscription check gets back (WhatsApp, Messenger, Instagram): its challenge when
    the mode is `subscribe` and the token the channel's verify token; anything else is 403."""
    if mode != "subscribe" or not expected or not hmac.compare_digest(expected, token or ""):
        raise Forbidden("bad_verify_token", "hub.verify_token: does not match the channel's verify token")
    return challenge or ""


@post("/webhooks/whatsapp/{channel_id:int}", opt=SIGNED_WEBHOOK, tags=["channels"], status_code=200)
async def whatsapp_webhook(request: Request[Any, Any, Any], db: Db, channel_id: PathId) -> Response[dict[str, int]]:
    """A delivery of messages and statuses, signed with the app secret (`X-Hub-Signature-256`).
    Answers 200 with how many new messages were stored and statuses applied; a retried delivery
    stores nothing twice (and counts 0)."""
    channel = await _whatsapp_channel(request, channel_id)
    body = await request.body()
    problem = whatsapp.ADAPTER.verify((channel.credential(whatsapp.APP_SECRET),), request.headers, body, time.time())
    if problem is not None:
        raise Unauthorized("bad_signature", problem)
    counts = {"messages": 0, "statuses": 0}
    for item in _items(body, channel_id):
        if await take(db, "whatsapp", channel_id, item):
            counts["messages" if isinstance(item, InboundItem) else "statuses"] += 1
    return Response(counts, status_code=200)


async def _whatsapp_channel(request: Request[Any, Any, Any], channel_id: int) -> Channel:
    found: Channel | None = await request.app.state.authenticator.provider_channel(channel_id)
    if found is None or found.type != ChannelType.WHATSAPP:
        raise NotFound("whatsapp channel", channel_id)
    return found


def _items(body: bytes, channel_id: int) -> list[Item]:
    try:
        payload = json.loads(body)
    except ValueError:
        log.warning("whatsapp webhook skipped: not JSON", extra={"channel_id": channel_id})
        return []
    return list(whatsapp.ADAPTER.parse(payload))
