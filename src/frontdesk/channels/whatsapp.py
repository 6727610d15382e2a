"""WhatsApp Cloud API (Meta's Graph API): webhooks signed with the app's secret, messages sent
with the access token to `{graph base}/{version}/{phone number id}/messages`.

Text only in this slice: inbound text, interactive replies and template quick-reply buttons;
outbound text, with a question's options as reply buttons or a list, and the template messages the
channel's config lists (the only kind Meta delivers outside the 24-hour window). Anything else in a webhook
becomes an `Ignored` item (logged by the route, never fatal: Meta retries an error for days).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import hmac
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import httpx

from frontdesk.channels.base import (
    Capabilities,
    CheckOutcome,
    CheckResult,
    Ignored,
    InboundItem,
    Item,
    SendResult,
    StatusUpdate,
    Verdict,
    unreachable,
)
from frontdesk.clock import now
from frontdesk.domain.errors import InvalidInput
from frontdesk.domain.message_templates import parse_templates
from frontdesk.domain.model import ChannelType, DeliveryStatus
from frontdesk.domain.records import Channel, Outbound
from frontdesk.settings import Settings

SIGNATURE_HEADER = "x-hub-signature-256"
ACCESS_TOKEN, APP_SECRET, VERIFY_TOKEN = "access_token", "app_secret", "verify_token"
MAX_BUTTONS, MAX_BUTTON_TITLE = 3, 20  # Meta's limits on interactive reply buttons
MAX_ROWS, MAX_ROW_TITLE = 10, 24  # and on a list message's rows
IDENTITY_FIELDS = {"fields": "display_phone_number,verified_name"}
_PHONE_NUMBER_ID = re.compile(r"[0-9]{1,32}")
_STATUSES = {
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.READ,
    "failed": DeliveryStatus.FAILED,
}


class WhatsAppChannel:
    type = ChannelType.WHATSAPP
    capabilities = Capabilities(
        max_quick_replies=MAX_ROWS,
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

    def verify(self, secrets: Sequence[str], headers: Mapping[str, str], body: bytes, now: float) -> str | None:
        """`X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body with the app secret>`."""
        given = headers.get(SIGNATURE_HEADER, "")
        if not given.startswith("sha256="):
            return f"missing or malformed {SIGNATURE_HEADER} header"
        usable = [secret for secret in secrets if secret]
        if not usable:
            return "the channel has no app secret"
        for secret in usable:
            expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
            if hmac.compare_digest(expected, given):
                return None
        return "signature does not match the body"

    def parse(self, payload: Any) -> Sequence[Item]:
        """Every message and status of every change, in the payload's order."""
        if not isinstance(payload, dict) or payload.get("object") != "whatsapp_business_account":
            return [Ignored("not a whatsapp_business_account webhook")]
        return [item for value in _values(payload) for item in _items(value)]

    def pushes(self, config: Mapping[str, Any]) -> bool:
        return True

    async def send(
        self, client: httpx.AsyncClient, channel: Channel, message: Outbound, settings: Settings
    ) -> SendResult:
        """Text, or a question's options as buttons/a list; 2xx sent, 429/5xx/network retried,
        any other answer failed with Meta's own `error.message`."""
        phone_number_id = channel.config.get("phone_number_id")
        if not phone_number_id or not message.external_id:
            return SendResult(Verdict.FAILED, "the channel has no phone_number_id or the contact no wa_id")
        url = (
            f"{settings.whatsapp_graph_base_url.rstrip('/')}/{settings.whatsapp_api_version}/{phone_number_id}/messages"
        )
        headers = {"authorization": f"Bearer {channel.credential(ACCESS_TOKEN)}"}
        try:
            response = await client.post(url, json=message_body(message), headers=headers)
        except httpx.HTTPError as exc:
            return SendResult(Verdict.RETRY, f"{type(exc).__name__}: {exc}")
        return _classify(response)

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


def message_body(message: Outbound) -> dict[str, Any]:
    """The Graph API body: a template, or text with options as reply buttons (≤ 3 short titles),
    a list (≤ 10 rows), or numbered under the text when they fit neither."""
    base = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": message.external_id}
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


def _classify(response: httpx.Response) -> SendResult:
    if response.is_success:
        try:
            provider_id = str(response.json()["messages"][0]["id"])
        except (ValueError, LookupError, TypeError):
            provider_id = None
        return SendResult(Verdict.SENT, provider_message_id=provider_id)
    reason = f"WhatsApp answered HTTP {response.status_code}: {_error_message(response)}"
    if response.status_code == 429 or response.status_code >= 500:
        return SendResult(Verdict.RETRY, reason, retry_after=retry_after(response.headers.get("retry-after")))
    return SendResult(Verdict.FAILED, reason)


def retry_after(value: str | None) -> float | None:
    """An HTTP `Retry-After` header: delay-seconds, or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now()).total_seconds())


def _error_message(response: httpx.Response) -> str:
    try:
        return str(response.json()["error"]["message"])[:500]
    except (ValueError, LookupError, TypeError):
        return response.text[:200] or "no error message"


def _values(payload: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for entry in _list(payload.get("entry")):
        for change in _list(entry.get("changes")):
            value = change.get("value")
            if isinstance(value, dict):
                yield value


def _list(value: Any) -> list[dict[str, Any]]:
    return [x for x in value if isinstance(x, dict)] if isinstance(value, list) else []


def _items(value: dict[str, Any]) -> Iterator[Item]:
    names = {c.get("wa_id"): (c.get("profile") or {}).get("name") for c in _list(value.get("contacts"))}
    for message in _list(value.get("messages")):
        yield _message(message, names)
    for status in _list(value.get("statuses")):
        yield _status(status)


def _message(message: dict[str, Any], names: Mapping[Any, Any]) -> Item:
    sender, provider_id, kind = message.get("from"), message.get("id"), message.get("type")
    if not isinstance(sender, str) or not isinstance(provider_id, str) or not sender or not provider_id:
        return Ignored("a message without from or id")
    text, reply_id = _text(message, kind)
    if not text:
        return Ignored(f"message type {kind!r} is not supported yet", provider_id)
    name = names.get(sender)
    return InboundItem(sender, provider_id, text, name if isinstance(name, str) and name else None, reply_id=reply_id)


def _text(message: dict[str, Any], kind: Any) -> tuple[str, str | None]:
    """The message's text and, for a tapped button or list row, its id."""
    if kind == "text":
        return str((message.get("text") or {}).get("body") or ""), None
    if kind == "button":  # a template's quick-reply button
        button = message.get("button") or {}
        return str(button.get("text") or ""), _str(button.get("payload"))
    if kind == "interactive":
        interactive = message.get("interactive") or {}
        reply = interactive.get(str(interactive.get("type")))
        if interactive.get("type") in ("button_reply", "list_reply") and isinstance(reply, dict):
            return str(reply.get("title") or ""), _str(reply.get("id"))
    return "", None


def _status(status: dict[str, Any]) -> Item:
    provider_id, state = status.get("id"), _STATUSES.get(str(status.get("status")))
    if not isinstance(provider_id, str) or state is None:
        return Ignored(f"status {status.get('status')!r} is not one frontdesk follows", _str(provider_id))
    errors = _list(status.get("errors"))
    error = (errors[0].get("title") or errors[0].get("message")) if errors else None
    if state is DeliveryStatus.FAILED and not error:
        error = "WhatsApp reported the message failed"
    return StatusUpdate(provider_id, state, None if error is None else str(error))


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


ADAPTER = WhatsAppChannel()
