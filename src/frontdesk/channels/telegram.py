"""Telegram Bot API: webhooks carrying the channel's secret token in a header, messages sent with
the bot token to `{telegram base}/bot<token>/sendMessage`.

Inbound: messages of private chats — text, and a photo, document, voice note, audio, video,
video note or sticker (its `file_id` stored at once, the content fetched later by the media
fetcher through `fetch_media`; the caption is the text), a location, a contact — and taps on
inline-keyboard buttons (`callback_query`). Outbound text, with a question's options as an inline
keyboard.
Anything else in an update becomes an `Ignored` item (logged by the route, never fatal: Telegram
retries an error and holds back the bot's later updates meanwhile).
Outbound media: one `sendPhoto`/`sendVoice`/… call per attachment (channels/telegram_media.py).
"""

from __future__ import annotations

import dataclasses
import hmac
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from frontdesk.channels import outbound_media, telegram_inbound, telegram_media
from frontdesk.channels.base import (
    Capabilities,
    CheckOutcome,
    CheckResult,
    Item,
    MediaFetch,
    SendResult,
    Verdict,
    unreachable,
)
from frontdesk.channels.media import answered, download, later, too_big
from frontdesk.channels.payload import answer_of, mapping
from frontdesk.domain.errors import InvalidInput
from frontdesk.domain.model import ChannelType
from frontdesk.domain.records import Attachment, Channel, Outbound
from frontdesk.settings import Settings

SECRET_HEADER = "x-telegram-bot-api-secret-token"
BOT_TOKEN, WEBHOOK_SECRET = "bot_token", "webhook_secret"
MAX_BUTTONS = 10  # a keyboard may hold more; beyond this a question's options are numbered text
MAX_CALLBACK_DATA = 64  # bytes: Telegram refuses a longer callback_data
BOT_DOWNLOAD_LIMIT = 20 * 1024 * 1024  # getFile refuses bigger files to bots
TOO_BIG_FOR_BOTS = "larger than 20 MB: Telegram bots cannot download files over 20 MB"


class TelegramChannel:
    type = ChannelType.TELEGRAM
    capabilities = Capabilities(max_quick_replies=MAX_BUTTONS, media=telegram_media.LIMITS)
    required = frozenset({BOT_TOKEN, WEBHOOK_SECRET})
    credential_names = frozenset({BOT_TOKEN, WEBHOOK_SECRET})

    def default_config(self) -> dict[str, Any]:
        return {}

    def check_config(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        for key in settings:
            raise InvalidInput("not_for_telegram", f"{key}: telegram channels do not take it", key)
        return {}

    def check_complete(self, config: Mapping[str, Any], credentials: Mapping[str, str]) -> None:
        return None  # its settings stand on their own

    def verify(self, secrets: Sequence[str], headers: Mapping[str, str], body: bytes, now: float) -> str | None:
        """`X-Telegram-Bot-Api-Secret-Token` equals the webhook secret given to `setWebhook`."""
        given = headers.get(SECRET_HEADER, "")
        if not given:
            return f"missing {SECRET_HEADER} header"
        usable = [secret for secret in secrets if secret]
        if not usable:
            return "the channel has no webhook secret"
        if any(hmac.compare_digest(secret.encode(), given.encode()) for secret in usable):
            return None
        return f"{SECRET_HEADER} does not match the channel's webhook secret"

    def parse(self, payload: Any) -> Sequence[Item]:
        """One update holds one thing: a message, a callback query, or a kind skipped."""
        return telegram_inbound.parse(payload)

    def pushes(self, config: Mapping[str, Any]) -> bool:
        return True

    async def send(
        self, client: httpx.AsyncClient, channel: Channel, message: Outbound, settings: Settings
    ) -> SendResult:
        """Text, or a question's options as an inline keyboard, or media (`_send_media`); `ok`
        sent, 429/5xx/network retried, any other answer failed with Telegram's own `description`."""
        token = channel.credential(BOT_TOKEN)
        if not token or not message.external_id:
            return SendResult(Verdict.FAILED, "the channel has no bot_token or the contact no chat id")
        url = f"{settings.telegram_base_url.rstrip('/')}/bot{token}"
        if message.attachments:
            return await self._send_media(client, url, message, settings)
        return await _post(client, f"{url}/sendMessage", json=message_body(message))

    async def _send_media(
        self, client: httpx.AsyncClient, url: str, message: Outbound, settings: Settings
    ) -> SendResult:
        """One call per attachment (the file uploaded with it, or its link); the text captions the
        first, the keyboard rides on the last; a text too long for a caption goes first on its own."""
        refused = outbound_media.check(message, self.capabilities, "Telegram")
        if refused is not None:
            return refused
        lead = message_body(message) if message.text or message.quick_replies else None
        parts: list[telegram_media.Call | dict[str, Any]] = []
        if lead is not None and lead["text"] and not telegram_media.fits_caption(lead):
            parts, lead = [lead], None
        parts += telegram_media.calls(_chat_id(message), list(message.attachments), lead)

        async def post(part: telegram_media.Call | dict[str, Any]) -> SendResult:
            if isinstance(part, dict):
                return await _post(client, f"{url}/sendMessage", json=part)
            return await _send_call(client, url, part, settings)

        return await outbound_media.send_parts(parts, post)

    async def check(self, client: httpx.AsyncClient, channel: Channel, settings: Settings) -> CheckResult:
        """`getMe` with the bot token: the bot's username, name and id, or why not."""
        base = settings.telegram_base_url.rstrip("/")
        try:
            response = await client.post(f"{base}/bot{channel.credential(BOT_TOKEN)}/getMe")
        except httpx.HTTPError as exc:  # the URL holds the token: `unreachable` leaves the exception's text out
            return unreachable("the Telegram Bot API", base, exc)
        return _identity(response)

    async def fetch_media(
        self, client: httpx.AsyncClient, channel: Channel, attachment: Attachment, settings: Settings, limit: int
    ) -> MediaFetch:
        """`getFile?file_id=` names the file's path; the content is at `{base}/file/bot<token>/<path>`."""
        if not attachment.provider_media_id:
            return MediaFetch(error="nothing to fetch: the attachment has no Telegram file_id")
        if (attachment.size or 0) > BOT_DOWNLOAD_LIMIT:
            return MediaFetch(error=TOO_BIG_FOR_BOTS)
        if (attachment.size or 0) > limit:
            return too_big(limit)
        base, token = settings.telegram_base_url.rstrip("/"), channel.credential(BOT_TOKEN)
        found = await _file_path(client, f"{base}/bot{token}", attachment.provider_media_id)
        if isinstance(found, MediaFetch):
            return found
        fetched = await download(client, f"{base}/file/bot{token}/{found}", limit, "Telegram")
        if fetched.content is None:
            return fetched
        return MediaFetch(fetched.content, attachment.mime_type or fetched.mime_type)


async def _send_call(client: httpx.AsyncClient, url: str, call: telegram_media.Call, settings: Settings) -> SendResult:
    if not call.attachment.storage_key:
        body = {**call.fields, call.field: call.attachment.source_url}
        return await _post(client, f"{url}/{call.method}", json=body)
    content = await outbound_media.content(settings, call.attachment)
    if content is None:
        return outbound_media.missing(call.attachment)
    fields, files = telegram_media.form(call, content)
    return await _post(client, f"{url}/{call.method}", data=fields, files=files)


async def _post(client: httpx.AsyncClient, url: str, **body: Any) -> SendResult:
    try:
        response = await client.post(url, **body)
    except httpx.HTTPError as exc:  # the URL holds the token: never put the exception's text in the error
        return SendResult(Verdict.RETRY, f"{type(exc).__name__} reaching the Telegram Bot API")
    return _classify(response)


async def _file_path(client: httpx.AsyncClient, base: str, file_id: str) -> MediaFetch | str:
    """`getFile`: where the file is to download, or why not (a file over 20 MB is refused to bots)."""
    try:
        response = await client.get(f"{base}/getFile", params={"file_id": file_id})
    except httpx.HTTPError as exc:  # the URL holds the token: never put the exception's text in the error
        return later(f"{type(exc).__name__} reaching the Telegram Bot API")
    answer = answer_of(response)
    result = answer.get("result")
    file_path = result.get("file_path") if isinstance(result, dict) else None
    if response.is_success and answer.get("ok") is True and isinstance(file_path, str) and file_path:
        return file_path
    description = _description(answer, response)
    if "too big" in description.lower():
        return MediaFetch(error=TOO_BIG_FOR_BOTS)
    refused = answered(response, "Telegram", description)
    retry_after = mapping(answer.get("parameters")).get("retry_after")
    if refused.retry and isinstance(retry_after, int) and not isinstance(retry_after, bool):
        return dataclasses.replace(refused, retry_after=float(max(retry_after, 0)))
    return refused


def message_body(message: Outbound) -> dict[str, Any]:
    """The sendMessage body: options as an inline keyboard (one button a row, the option as its
    callback_data), or numbered under the text when there are too many or one is too long."""
    chat_id = _chat_id(message)
    options = message.quick_replies
    if options and len(options) <= MAX_BUTTONS and all(len(o.encode()) <= MAX_CALLBACK_DATA for o in options):
        keyboard = [[{"text": o, "callback_data": o}] for o in options]
        return {"chat_id": chat_id, "text": message.text, "reply_markup": {"inline_keyboard": keyboard}}
    text = message.text
    if options:
        text += "\n" + "\n".join(f"{n}. {o}" for n, o in enumerate(options, 1))
    return {"chat_id": chat_id, "text": text}


def webhook_answer(payload: Any) -> dict[str, Any] | None:
    """For a callback query, the `answerCallbackQuery` call to return as the webhook's answer
    (Telegram runs a method given in the answer body), which stops the button's spinner."""
    query = payload.get("callback_query") if isinstance(payload, dict) else None
    query_id = query.get("id") if isinstance(query, dict) else None
    if not isinstance(query_id, str) or not query_id:
        return None
    return {"method": "answerCallbackQuery", "callback_query_id": query_id}


def webhook_url(public_base_url: str, channel_id: int) -> str:
    """The URL Telegram posts a channel's updates to (what `setWebhook` is given)."""
    return f"{public_base_url.rstrip('/')}/webhooks/telegram/{channel_id}"


def set_webhook(client: httpx.Client, channel: Channel, settings: Settings, public_base_url: str) -> str | None:
    """Register the channel's webhook URL and secret with Telegram (`setWebhook`, for the update
    kinds Frontdesk takes): None when Telegram accepted it, else why not (never the token)."""
    body = {
        "url": webhook_url(public_base_url, channel.id),
        "secret_token": channel.credential(WEBHOOK_SECRET),
        "allowed_updates": ["message", "callback_query"],
    }
    url = f"{settings.telegram_base_url.rstrip('/')}/bot{channel.credential(BOT_TOKEN)}/setWebhook"
    try:
        response = client.post(url, json=body)
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__} reaching the Telegram Bot API"
    answer = answer_of(response)
    if response.is_success and answer.get("ok") is True:
        return None
    return f"Telegram answered HTTP {response.status_code}: {_description(answer, response)}"


def _identity(response: httpx.Response) -> CheckResult:
    answer = answer_of(response)
    bot = answer.get("result")
    if not response.is_success or answer.get("ok") is not True or not isinstance(bot, dict):
        refused = "Telegram refused the bot token" if response.status_code in (401, 404) else "Telegram answered"
        return CheckResult(
            CheckOutcome.FAILED, f"{refused} (HTTP {response.status_code}: {_description(answer, response)})"
        )
    identity = {key: str(bot[key])[:200] for key in ("id", "username", "first_name") if bot.get(key)}
    username = f"@{identity['username']}" if "username" in identity else "a bot without a username"
    return CheckResult(
        CheckOutcome.OK, f"{username} ({identity.get('first_name', '?')}, id {identity.get('id', '?')})", identity
    )


def _classify(response: httpx.Response) -> SendResult:
    answer = answer_of(response)
    if response.is_success and answer.get("ok") is True:
        result = answer.get("result")
        provider_id = result.get("message_id") if isinstance(result, dict) else None
        return SendResult(Verdict.SENT, provider_message_id=None if provider_id is None else str(provider_id))
    reason = f"Telegram answered HTTP {response.status_code}: {_description(answer, response)}"
    if response.status_code == 429 or response.status_code >= 500:
        return SendResult(Verdict.RETRY, reason, retry_after=_retry_after(answer))
    return SendResult(Verdict.FAILED, reason)


def _retry_after(answer: dict[str, Any]) -> float | None:
    """A flood-limited call's `parameters.retry_after`: the seconds Telegram asks to wait."""
    parameters = answer.get("parameters")
    value = parameters.get("retry_after") if isinstance(parameters, dict) else None
    return float(value) if isinstance(value, int) and not isinstance(value, bool) else None


def _description(answer: dict[str, Any], response: httpx.Response) -> str:
    description = answer.get("description")
    if isinstance(description, str) and description:
        retry_after = mapping(answer.get("parameters")).get("retry_after")
        return description[:500] + (f" (retry after {retry_after} s)" if isinstance(retry_after, int) else "")
    return response.text[:200] or "no description"


def _chat_id(message: Outbound) -> int | str:
    external_id = message.external_id or ""
    return int(external_id) if _is_int(external_id) else external_id


def _is_int(value: str) -> bool:
    return value.removeprefix("-").isdigit()


ADAPTER = TelegramChannel()
