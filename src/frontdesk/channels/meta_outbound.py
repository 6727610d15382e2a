"""The Send API's requests for Messenger and Instagram: the envelope (recipient, messaging type,
the HUMAN_AGENT tag), the message parts, and how Meta's answer is classified.

A message goes out as parts: its text (with a question's options as quick replies, ≤ 13 titles of
≤ 20 characters, else numbered under the text) and one part per attachment, a stored file uploaded
with its send (multipart `filedata`), a link sent as `payload.url`. Options ride on the last part,
so the text goes last when there are options, first otherwise.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import httpx

from frontdesk import destinations
from frontdesk.channels import outbound_media
from frontdesk.channels.base import SendResult, Verdict
from frontdesk.channels.meta_inbound import OPTION_PAYLOAD
from frontdesk.channels.payload import answer_of, mapping
from frontdesk.domain.model import AuthorKind
from frontdesk.domain.records import Attachment, Outbound
from frontdesk.settings import Settings

MAX_QUICK_REPLIES, MAX_TITLE = 13, 20  # Meta's limits on quick replies
WINDOW = dt.timedelta(hours=24)
# Graph error codes that mean "try again later": unknown, service, rate limits (app, user, page, sends).
_TEMPORARY = frozenset({1, 2, 4, 17, 32, 613})
Part = dict[str, Any] | Attachment  # a message object as is, or an attachment to send


def envelope(message: Outbound, at: dt.datetime) -> dict[str, Any]:
    """Recipient and messaging type: a response within 24 hours of the contact's last message; past
    them, an agent's reply goes tagged HUMAN_AGENT (the reply was checked within 7 days)."""
    base: dict[str, Any] = {"recipient": {"id": message.external_id}}
    last = message.last_inbound_at
    late = last is None or at - last > WINDOW
    if late and message.author_kind == AuthorKind.AGENT:
        return {**base, "messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
    return {**base, "messaging_type": "RESPONSE"}


def parts(message: Outbound) -> list[Part]:
    attachments: list[Part] = list(message.attachments)
    if not message.text and not message.quick_replies:
        return attachments
    text = text_message(message)
    return [*attachments, text] if message.quick_replies else [text, *attachments]


def text_message(message: Outbound) -> dict[str, Any]:
    """The text, with options as quick replies whose payload names the option (the answer), or
    numbered under the text when there are too many or a title is too long."""
    options = message.quick_replies
    if options and len(options) <= MAX_QUICK_REPLIES and all(len(o) <= MAX_TITLE for o in options):
        replies = [{"content_type": "text", "title": o, "payload": OPTION_PAYLOAD + o} for o in options]
        return {"text": message.text, "quick_replies": replies}
    if options:
        return {"text": message.text + "\n" + "\n".join(f"{n}. {o}" for n, o in enumerate(options, 1))}
    return {"text": message.text}


async def post(
    client: httpx.AsyncClient,
    url: str,
    headers: dict[str, str],
    head: dict[str, Any],
    part: Part,
    settings: Settings,
    platform: str,
) -> SendResult:
    """Send one part under the envelope `head` (recipient, messaging type)."""
    try:
        if isinstance(part, dict):
            response = await client.post(url, json={**head, "message": part}, headers=headers)
        elif part.storage_key:
            content = await outbound_media.content(settings, part)
            if content is None:
                return outbound_media.missing(part)
            data, files = upload_form(head, part, content)
            response = await client.post(url, data=data, files=files, headers=headers)
        else:
            attachment = {"type": _type(part), "payload": {"url": str(part.source_url), "is_reusable": True}}
            response = await client.post(url, json={**head, "message": {"attachment": attachment}}, headers=headers)
    except httpx.HTTPError as exc:
        return SendResult(Verdict.RETRY, f"{type(exc).__name__}: {exc}")
    return classify(response, platform)


def upload_form(
    head: dict[str, Any], attachment: Attachment, content: bytes
) -> tuple[dict[str, str], dict[str, tuple[str, bytes, str]]]:
    """The multipart Send API request that uploads a file as it sends it: JSON fields, `filedata`."""
    mime = outbound_media.mime_of(attachment) or "application/octet-stream"
    message = {"attachment": {"type": _type(attachment), "payload": {"is_reusable": False}}}
    data = {key: json.dumps(value) if isinstance(value, dict) else str(value) for key, value in head.items()}
    data["message"] = json.dumps(message)
    return data, {"filedata": (attachment.file_name or f"attachment-{attachment.id}", content, mime)}


def classify(response: httpx.Response, platform: str) -> SendResult:
    """2xx sent (Meta's `message_id` kept); 429, 5xx or a temporary Graph error retried; any other
    answer failed for good with Meta's own message."""
    answer = answer_of(response)
    if response.is_success:
        mid = answer.get("message_id")
        return SendResult(Verdict.SENT, provider_message_id=mid if isinstance(mid, str) else None)
    error = mapping(answer.get("error"))
    reason = f"{platform} answered HTTP {response.status_code}: {error_message(response)}"
    temporary = error.get("code") in _TEMPORARY or error.get("is_transient") is True
    if temporary or response.status_code == 429 or response.status_code >= 500:
        return SendResult(
            Verdict.RETRY, reason, retry_after=destinations.retry_after(response.headers.get("retry-after"))
        )
    return SendResult(Verdict.FAILED, reason)


def error_message(response: httpx.Response) -> str:
    """The Graph API's `error.message` (with its code), or the start of the body."""
    error = mapping(answer_of(response).get("error"))
    message = error.get("message")
    if isinstance(message, str) and message:
        code = error.get("code")
        return (f"(#{code}) " if isinstance(code, int) and f"(#{code})" not in message else "") + message[:500]
    return response.text[:200] or "no error message"


def _type(attachment: Attachment) -> str:
    """image, audio, video or file: the Send API's attachment types are Frontdesk's kinds."""
    return str(attachment.kind)
