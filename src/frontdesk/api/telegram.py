"""Telegram Bot API webhooks: one update per POST, carrying the channel's webhook secret.

A public route authenticated by `X-Telegram-Bot-Api-Secret-Token` (the `secret_token` given to
`setWebhook`). Past that header, nothing in an update may make the answer an error (Telegram
retries it and holds back the bot's later updates meanwhile): what Frontdesk cannot take is
skipped and logged. A tapped inline button is answered in the webhook's own answer
(`answerCallbackQuery`), which Telegram runs: no call out while the request is open.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from litestar import Request, Response, post

from frontdesk.api.auth import SIGNED_WEBHOOK
from frontdesk.api.deps import Db
from frontdesk.api.provider_items import take
from frontdesk.api.schemas import PathId
from frontdesk.channels import telegram
from frontdesk.domain.errors import NotFound, Unauthorized
from frontdesk.domain.model import ChannelType
from frontdesk.domain.records import Channel

log = logging.getLogger(__name__)


@post("/webhooks/telegram/{channel_id:int}", opt=SIGNED_WEBHOOK, tags=["channels"], status_code=200)
async def telegram_webhook(request: Request[Any, Any, Any], db: Db, channel_id: PathId) -> Response[dict[str, Any]]:
    """An update (`message` or `callback_query`) with the channel's secret token in
    `X-Telegram-Bot-Api-Secret-Token`. Answers 200 with how many new messages were stored (a
    redelivered update counts 0), or, for a callback query, the `answerCallbackQuery` call."""
    channel = await _telegram_channel(request, channel_id)
    body = await request.body()
    secret = channel.credential(telegram.WEBHOOK_SECRET)
    problem = telegram.ADAPTER.verify((secret,), request.headers, body, time.time())
    if problem is not None:
        raise Unauthorized("bad_secret_token", problem)
    payload = _payload(body, channel_id)
    stored = 0
    for item in telegram.ADAPTER.parse(payload):
        stored += await take(db, "telegram", channel_id, item)
    return Response(telegram.webhook_answer(payload) or {"messages": stored}, status_code=200)


async def _telegram_channel(request: Request[Any, Any, Any], channel_id: int) -> Channel:
    found: Channel | None = await request.app.state.authenticator.provider_channel(channel_id)
    if found is None or found.type != ChannelType.TELEGRAM:
        raise NotFound("telegram channel", channel_id)
    return found


def _payload(body: bytes, channel_id: int) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        log.warning("telegram update skipped: not JSON", extra={"channel_id": channel_id})
        return None
