"""Messenger and Instagram webhooks: Meta's subscription check (GET) and its deliveries (POST),
at one URL per channel, `/webhooks/meta/{id}`, for a channel of either type.

Public routes authenticated by the channel's own credentials, as WhatsApp's: the verify token for
the GET, the app secret's signature of the raw body (`X-Hub-Signature-256`) for the POST. Past the
signature nothing in a payload makes the answer an error (Meta retries errors, then disables the
webhook): an item Frontdesk cannot take is skipped and logged, and each message goes through the
one ingest path, in the payload's order.
"""

from __future__ import annotations

import json
import logging
import time
from functools import partial
from typing import Any

from litestar import MediaType, Request, Response, get, post

from frontdesk.actions.delivery import record_status_up_to
from frontdesk.api.auth import SIGNED_WEBHOOK, SUBSCRIPTION_CHECK
from frontdesk.api.deps import Db
from frontdesk.api.provider_items import take
from frontdesk.api.schemas import PathId
from frontdesk.api.whatsapp import ChallengeParam, HubParam, TokenParam, subscription_challenge
from frontdesk.channels import meta
from frontdesk.channels.base import InboundItem
from frontdesk.domain.errors import NotFound, Unauthorized
from frontdesk.domain.model import ChannelType
from frontdesk.domain.records import Channel

log = logging.getLogger(__name__)
_META = {ChannelType.MESSENGER: meta.MESSENGER_ADAPTER, ChannelType.INSTAGRAM: meta.INSTAGRAM_ADAPTER}


@get("/webhooks/meta/{channel_id:int}", opt=SUBSCRIPTION_CHECK, tags=["channels"], media_type=MediaType.TEXT)
async def meta_verify(
    request: Request[Any, Any, Any],
    channel_id: PathId,
    mode: HubParam = None,
    token: TokenParam = None,
    challenge: ChallengeParam = None,
) -> str:
    """Meta's subscription check: `hub.mode=subscribe` with the channel's verify token gets
    `hub.challenge` back as text; anything else 403."""
    channel = await _meta_channel(request, channel_id)
    return subscription_challenge(channel.credential(meta.VERIFY_TOKEN), mode, token, challenge)


@post("/webhooks/meta/{channel_id:int}", opt=SIGNED_WEBHOOK, tags=["channels"], status_code=200)
async def meta_webhook(request: Request[Any, Any, Any], db: Db, channel_id: PathId) -> Response[dict[str, int]]:
    """A delivery of messages, postbacks, reactions and receipts, signed with the app secret
    (`X-Hub-Signature-256`). Answers 200 with how many new messages were stored and receipts
    applied; a retried delivery stores nothing twice (and counts 0)."""
    channel = await _meta_channel(request, channel_id)
    adapter = _META[ChannelType(channel.type)]
    body = await request.body()
    problem = adapter.verify((channel.credential(meta.APP_SECRET),), request.headers, body, time.time())
    if problem is not None:
        raise Unauthorized("bad_signature", problem)
    payload = _payload(body, channel_id)
    counts = {"messages": 0, "statuses": 0}
    for item in adapter.parse(payload):
        if await take(db, "meta", channel_id, item):
            counts["messages" if isinstance(item, InboundItem) else "statuses"] += 1
    for receipt in adapter.receipts_up_to(payload):
        counts["statuses"] += await db.write(partial(record_status_up_to, channel_id=channel_id, receipt=receipt))
    return Response(counts, status_code=200)


async def _meta_channel(request: Request[Any, Any, Any], channel_id: int) -> Channel:
    found: Channel | None = await request.app.state.authenticator.provider_channel(channel_id)
    if found is None or found.type not in _META:
        raise NotFound("messenger or instagram channel", channel_id)
    return found


def _payload(body: bytes, channel_id: int) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        log.warning("meta webhook skipped: not JSON", extra={"channel_id": channel_id})
        return None
