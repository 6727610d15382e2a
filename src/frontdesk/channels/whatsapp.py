"""WhatsApp Cloud API (Meta's Graph API): webhooks signed with the app's secret, messages sent
with the access token to `{graph base}/{version}/{phone number id}/messages`.

Inbound: text, interactive replies, template quick-reply buttons, media (image, audio, video,
document, sticker: stored at once with the media id, fetched later by the media fetcher through
`fetch_media`), locations and contact cards. A reaction or a type Frontdesk cannot show becomes a
`Notice` (a system note); what is malformed an `Ignored` item (logged by the route, never fatal:
Meta retries an error for days). Outbound text, with a question's options as reply buttons or a
list, and the template messages the channel's config lists (the only kind Meta delivers outside
the 24-hour window). Outbound media: uploaded or linked, one Graph message per attachment
(channels/whatsapp_media.py).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from frontdesk import destinations
from frontdesk.channels import outbound_media, signing, whatsapp_inbound, whatsapp_media
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
from frontdesk.channels.payload import string
from frontdesk.domain.errors import InvalidInput
from frontdesk.domain.message_templates import parse_templates
from frontdesk.domain.model import ChannelType
from frontdesk.domain.records import Attachment, Channel, Outbound
from frontdesk.settings import Settings

SIGNATURE_HEADER = signing.HUB_SIGNATURE_HEADER
ACCESS_TOKEN, APP_SECRET, VERIFY_TOKEN = "access_token", "app_secret", "verify_token"
MAX_BUTTONS, MAX_BUTTON_TITLE = 3, 20  # Meta's limits on interactive reply buttons
MAX_ROWS, MAX_ROW_TITLE = 10, 24  # and on a list message's rows
IDENTITY_FIELDS = {"fields": "display_phone_number,verified_name"}
_PHONE_NUMBER_ID = re.compile(r"[0-9]{1,32}")


class WhatsAppChannel:
    type = ChannelType.WHATSAPP
    capabilities = Capabilities(
        max_quick_replies=MAX_ROWS,
        media=whatsapp_media.LIMITS,
        reply_window=dt.timedelta(hours=24),
        outside_window="outside WhatsApp's 24-hour window: send a template (the contact last wrote over 24 hours ago)",
        templates=True,
    )
    required = frozenset({"phone_number_id", ACCESS_TOKEN, APP_SECRET, VERIFY_TOKEN})
    credential_names = frozenset({ACCESS_TOKEN, APP_SECRET, VERIFY_TOKEN})

    def default_config(self) -> dict[str, Any]:
        return {"phone_number_id": None}

    def check_config(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        for key in ("callback_url", "allowed_origins"):
            if key in settings:
                raise InvalidInput("not_for_whatsapp", f"{key}: whatsapp channels do not take it", key)
        checked: dict[str, Any] = {}
        if "templates" in settings:  # the approved templates it may send, as Meta's console lists them
            checked["templates"] = [t.as_config() for t in parse_templates(settings["templates"])]
        if "phone_number_id" not in settings:
            return checked
        value = str(settings["phone_number_id"] or "")
        if not _PHONE_NUMBER_ID.fullmatch(value):
            raise InvalidInput(
                "invalid_phone_number_id", "phone_number_id: the digits Meta's console shows", "phone_number_id"
            )
        return {**checked, "phone_number_id": value}

    def check_complete(self, config: Mapping[str, Any], credentials: Mapping[str, str]) -> None:
        return None  # its settings stand on their own

    def verify(self, secrets: Sequence[str], headers: Mapping[str, str], body: bytes, now: float) -> str | None:
        """`X-Hub-Signature-256`, Meta's signature of the raw body with the app secret."""
        return signing.verify_hub(secrets, headers.get(SIGNATURE_HEADER, ""), body)

    def parse(self, payload: Any) -> Sequence[Item]:
        """Every message and status of every change, in the payload's order."""
        return whatsapp_inbound.parse(payload)

    def pushes(self, config: Mapping[str, Any]) -> bool:
        return True

    async def send(
        self, client: httpx.AsyncClient, channel: Channel, message: Outbound, settings: Settings
    ) -> SendResult:
        """Text, or a question's options as buttons/a list, or media (`_send_media`); 2xx sent,
        429/5xx/network retried, any other answer failed with Meta's own `error.message`."""
        phone_number_id = channel.config.get("phone_number_id")
        if not phone_number_id or not message.external_id:
            return SendResult(Verdict.FAILED, "the channel has no phone_number_id or the contact no wa_id")
        url = f"{settings.whatsapp_graph_base_url.rstrip('/')}/{settings.whatsapp_api_version}/{phone_number_id}"
        headers = {"authorization": f"Bearer {channel.credential(ACCESS_TOKEN)}"}
        if message.attachments:
            return await self._send_media(client, url, headers, message, settings)
        return await _post(client, f"{url}/messages", message_body(message), headers)

    async def _send_media(
        self, client: httpx.AsyncClient, url: str, headers: dict[str, str], message: Outbound, settings: Settings
    ) -> SendResult:
        """Every stored file uploaded first (a failed upload is retried: nothing went out yet),
        then one Graph message per attachment; the text captions the first media or goes on its
        own first, a question's options go last."""
        refused = outbound_media.check(message, self.capabilities, "WhatsApp")
        if refused is not None:
            return refused
        refs = []
        for attachment in message.attachments:
            ref = await _media_ref(client, f"{url}/media", headers, attachment, settings)
            if isinstance(ref, SendResult):
                return ref
            refs.append(ref)
        parts = whatsapp_media.media_bodies(_base(message), message, refs)
        if message.quick_replies:
            parts.append(message_body(message))
        elif message.text and whatsapp_media.caption(message) is None:
            parts.insert(0, message_body(message))
        return await outbound_media.send_parts(parts, lambda body: _post(client, f"{url}/messages", body, headers))

    async def check(self, client: httpx.AsyncClient, channel: Channel, settings: Settings) -> CheckResult:
        """`GET /{version}/{phone number id}?fields=display_phone_number,verified_name` with the
        access token: the number and the business name Meta holds for it, or why not."""
        phone_number_id = channel.config.get("phone_number_id")
        if not phone_number_id:
            return CheckResult(CheckOutcome.FAILED, "the channel has no phone_number_id")
        base = settings.whatsapp_graph_base_url.rstrip("/")
        headers = {"authorization": f"Bearer {channel.credential(ACCESS_TOKEN)}"}
        try:
            response = await client.get(
                f"{base}/{settings.whatsapp_api_version}/{phone_number_id}", params=IDENTITY_FIELDS, headers=headers
            )
        except httpx.HTTPError as exc:
            return unreachable("the WhatsApp Graph API", base, exc)
        return _identity(response)

    async def fetch_media(
        self, client: httpx.AsyncClient, channel: Channel, attachment: Attachment, settings: Settings, limit: int
    ) -> MediaFetch:
        """`GET {graph}/{version}/{media id}` with the access token names a short-lived URL, its
        type, size and SHA-256; the content is then downloaded from that URL with the same token."""
        if not attachment.provider_media_id:
            return MediaFetch(error="nothing to fetch: the attachment has no WhatsApp media id")
        headers = {"authorization": f"Bearer {channel.credential(ACCESS_TOKEN)}"}
        media_id = urllib.parse.quote(attachment.provider_media_id, safe="")
        base = f"{settings.whatsapp_graph_base_url.rstrip('/')}/{settings.whatsapp_api_version}"
        info = await _media_info(client, f"{base}/{media_id}", headers)
        if isinstance(info, MediaFetch):
            return info
        if (_size(info.get("file_size")) or 0) > limit:
            return too_big(limit)
        fetched = await download(client, str(info["url"]), limit, "WhatsApp", headers)
        if fetched.content is None:
            return fetched
        expected = string(info.get("sha256"), 100) or attachment.sha256
        if expected and not _matches(expected, fetched.content):
            return later("the content WhatsApp sent does not match its SHA-256")
        declared = string(info.get("mime_type"), 200) or attachment.mime_type or fetched.mime_type
        return MediaFetch(fetched.content, declared)


async def _post(client: httpx.AsyncClient, url: str, body: dict[str, Any], headers: dict[str, str]) -> SendResult:
    try:
        response = await client.post(url, json=body, headers=headers)
    except httpx.HTTPError as exc:
        return SendResult(Verdict.RETRY, f"{type(exc).__name__}: {exc}")
    return _classify(response)


async def _media_ref(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], attachment: Attachment, settings: Settings
) -> dict[str, str] | SendResult:
    """`{"link": …}` for a link sent as is, else `{"id": …}` of the file uploaded to Meta."""
    if not attachment.storage_key:
        return {"link": str(attachment.source_url)}
    content = await outbound_media.content(settings, attachment)
    if content is None:
        return outbound_media.missing(attachment)
    fields, files = whatsapp_media.upload_form(attachment, content)
    try:
        response = await client.post(url, data=fields, files=files, headers=headers)
    except httpx.HTTPError as exc:
        return SendResult(Verdict.RETRY, f"{type(exc).__name__} uploading the media: {exc}")
    try:
        return {"id": str(response.json()["id"])} if response.is_success else _failure(response, "the upload")
    except (ValueError, LookupError, TypeError):
        return SendResult(Verdict.RETRY, "WhatsApp answered the upload without a media id")


def message_body(message: Outbound) -> dict[str, Any]:
    """The Graph API body: a template, or text with options as reply buttons (≤ 3 short titles),
    a list (≤ 10 rows), or numbered under the text when they fit neither."""
    base = _base(message)
    if message.template is not None:
        return {**base, "type": "template", "template": template_body(message.template)}
    options = message.quick_replies
    if options and len(options) <= MAX_BUTTONS and all(len(o) <= MAX_BUTTON_TITLE for o in options):
        buttons = [{"type": "reply", "reply": {"id": o, "title": o}} for o in options]
        interactive = {"type": "button", "body": {"text": message.text}, "action": {"buttons": buttons}}
        return {**base, "type": "interactive", "interactive": interactive}
    if options and len(options) <= MAX_ROWS and all(len(o) <= MAX_ROW_TITLE for o in options):
        rows = [{"id": o, "title": o} for o in options]
        action = {"button": "Choose", "sections": [{"title": "Options", "rows": rows}]}
        interactive = {"type": "list", "body": {"text": message.text}, "action": action}
        return {**base, "type": "interactive", "interactive": interactive}
    text = message.text
    if options:
        text += "\n" + "\n".join(f"{n}. {o}" for n, o in enumerate(options, 1))
    return {**base, "type": "text", "text": {"preview_url": False, "body": text}}


def _identity(response: httpx.Response) -> CheckResult:
    if response.status_code in (401, 403):
        return CheckResult(
            CheckOutcome.FAILED,
            f"WhatsApp refused the access token (HTTP {response.status_code}: {_error_message(response)})",
        )
    if not response.is_success:
        return CheckResult(
            CheckOutcome.FAILED, f"WhatsApp answered HTTP {response.status_code}: {_error_message(response)}"
        )
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        return CheckResult(CheckOutcome.FAILED, "WhatsApp answered without a JSON object")
    identity = {
        key: str(answer[key])[:200] for key in ("id", "display_phone_number", "verified_name") if answer.get(key)
    }
    name, number = identity.get("verified_name", "(no verified name)"), identity.get("display_phone_number", "?")
    return CheckResult(CheckOutcome.OK, f"{name}, phone number {number}", identity)


def template_body(template: Mapping[str, Any]) -> dict[str, Any]:
    """Meta's template object: its name, its language's code, and the body parameters as texts
    (a template without parameters sends no components)."""
    body: dict[str, Any] = {"name": template["name"], "language": {"code": template["language"]}}
    parameters = [{"type": "text", "text": str(text)} for text in template.get("parameters") or []]
    if parameters:
        body["components"] = [{"type": "body", "parameters": parameters}]
    return body


def _base(message: Outbound) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": message.external_id}


def _classify(response: httpx.Response) -> SendResult:
    if response.is_success:
        try:
            provider_id = str(response.json()["messages"][0]["id"])
        except (ValueError, LookupError, TypeError):
            provider_id = None
        return SendResult(Verdict.SENT, provider_message_id=provider_id)
    return _failure(response, "")


def _failure(response: httpx.Response, what: str) -> SendResult:
    """429/5xx retried, any other answer failed for good, with Meta's own reason."""
    about = f" to {what}" if what else ""
    reason = f"WhatsApp answered HTTP {response.status_code}{about}: {_error_message(response)}"
    if response.status_code == 429 or response.status_code >= 500:
        return SendResult(
            Verdict.RETRY, reason, retry_after=destinations.retry_after(response.headers.get("retry-after"))
        )
    return SendResult(Verdict.FAILED, reason)


def _error_message(response: httpx.Response) -> str:
    try:
        return str(response.json()["error"]["message"])[:500]
    except (ValueError, LookupError, TypeError):
        return response.text[:200] or "no error message"


async def _media_info(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> MediaFetch | dict[str, Any]:
    """`GET /{version}/{media id}`: the JSON naming the media's short-lived URL, or why not."""
    try:
        response = await client.get(url, headers=headers)
    except httpx.HTTPError as exc:
        return later(f"{type(exc).__name__} reaching the Graph API")
    if not response.is_success:
        return answered(response, "WhatsApp", _error_message(response))
    try:
        info = response.json()
    except ValueError:
        info = None
    if not isinstance(info, dict) or not string(info.get("url"), 4000):
        return MediaFetch(error="WhatsApp's answer about the media has no url")
    return info


def _size(value: Any) -> int | None:
    """`file_size`, which the Graph API gives as a number or a string of digits."""
    text = str(value) if isinstance(value, int | str) and not isinstance(value, bool) else ""
    return int(text) if text.isdigit() else None


def _matches(expected: str, content: bytes) -> bool:
    """Meta gives a SHA-256 in hex (the media's JSON) or in base64 (some webhooks): either will do."""
    digest = hashlib.sha256(content).digest()
    return expected.lower() == digest.hex() or expected == base64.b64encode(digest).decode()


ADAPTER = WhatsAppChannel()
