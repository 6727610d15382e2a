"""SMS and MMS through Twilio's Programmable Messaging: webhooks signed with the account's auth
token (`X-Twilio-Signature`, checked by the official `twilio` package's `RequestValidator` against
the URL Twilio posted to), messages sent to `{base}/2010-04-01/Accounts/{sid}/Messages.json` with
HTTP basic auth (account SID, auth token).

Inbound: a text, MMS media by URL (fetched later by the media fetcher, with the same basic auth),
STOP/START keywords (channels/twilio_inbound.py) and status callbacks. Outbound: text, a question's
options as numbered lines (SMS has no buttons), and media given by a public link (`MediaUrl`:
Twilio fetches it). Errors: 429/5xx/network retried, any other answer failed with Twilio's code
and message.
"""

from __future__ import annotations

import base64
import re
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any

import httpx
from twilio.request_validator import RequestValidator

from frontdesk import destinations
from frontdesk.channels import twilio_inbound
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
from frontdesk.channels.media import download
from frontdesk.channels.outbound_media import MB
from frontdesk.channels.payload import answer_of
from frontdesk.domain.errors import InvalidInput
from frontdesk.domain.model import AttachmentKind, ChannelType
from frontdesk.domain.records import Attachment, Channel, Outbound
from frontdesk.settings import Settings

SIGNATURE_HEADER = "x-twilio-signature"
# Not a header Twilio sends: the route puts here the URL the signature covers, over anything a
# request may carry under that name (RequestValidator needs the URL, the contract gives headers).
SIGNED_URL = "x-frontdesk-signed-url"
AUTH_TOKEN = "auth_token"
API_VERSION = "2010-04-01"
MMS_LIMIT = 5 * MB  # Twilio accepts MMS media up to 5 MB
_ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}")
_SERVICE_SID = re.compile(r"MG[0-9a-fA-F]{32}")
_PHONE = re.compile(r"\+[1-9][0-9]{6,14}")  # E.164
_SETTINGS = {
    "account_sid": (_ACCOUNT_SID, "AC followed by 32 hexadecimal digits (Twilio console → Account Info)"),
    "from_number": (_PHONE, "a phone number in E.164 form, such as +14155550100"),
    "messaging_service_sid": (_SERVICE_SID, "MG followed by 32 hexadecimal digits (Messaging → Services)"),
}


class TwilioChannel:
    type = ChannelType.TWILIO
    capabilities = Capabilities(
        max_quick_replies=10,  # as numbered lines: the contact answers with the option or its number
        media={kind: MMS_LIMIT for kind in (AttachmentKind.IMAGE, AttachmentKind.AUDIO, AttachmentKind.VIDEO)},
        opt_out=True,
    )
    required = frozenset({"account_sid", AUTH_TOKEN})
    credential_names = frozenset({AUTH_TOKEN})

    def default_config(self) -> dict[str, Any]:
        return {"account_sid": None, "from_number": None, "messaging_service_sid": None}

    def check_config(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        """The account SID and the sender: a From number, a Messaging Service SID, or both (the
        service then sends); an empty value removes a sender."""
        checked: dict[str, Any] = {}
        for key, value in settings.items():
            if key not in _SETTINGS:
                raise InvalidInput("not_for_twilio", f"{key}: twilio channels do not take it", key)
            pattern, shape = _SETTINGS[key]
            text = str(value or "").strip()
            if key != "account_sid" and not text:
                checked[key] = None
                continue
            if not pattern.fullmatch(text):
                raise InvalidInput(f"invalid_{key}", f"{key}: {shape}", key)
            checked[key] = text
        return checked

    def check_complete(self, config: Mapping[str, Any], credentials: Mapping[str, str]) -> None:
        return None  # its settings stand on their own

    def verify(self, secrets: Sequence[str], headers: Mapping[str, str], body: bytes, now: float) -> str | None:
        """`X-Twilio-Signature`: Twilio's HMAC-SHA1 of the URL it posted to and the sorted form
        fields, with the auth token, as the `twilio` package's `RequestValidator` computes it."""
        given, url = headers.get(SIGNATURE_HEADER, ""), headers.get(SIGNED_URL, "")
        if not given:
            return f"missing {SIGNATURE_HEADER} header"
        usable = [secret for secret in secrets if secret]
        if not usable:
            return "the channel has no auth token"
        form = form_fields(body)
        if any(RequestValidator(token).validate(url, form, given) for token in usable):
            return None
        return f"{SIGNATURE_HEADER} does not match the URL {url} and the body (is FRONTDESK_PUBLIC_URL right?)"

    def parse(self, payload: Any) -> Sequence[Item]:
        """A verified webhook's form fields: one message, status or skipped thing."""
        return twilio_inbound.parse(payload if isinstance(payload, dict) else {})

    def pushes(self, config: Mapping[str, Any]) -> bool:
        return True

    async def send(
        self, client: httpx.AsyncClient, channel: Channel, message: Outbound, settings: Settings
    ) -> SendResult:
        """One Messages resource (media links as `MediaUrl`); its `sid` kept for status callbacks."""
        sid, token = channel.config.get("account_sid"), channel.credential(AUTH_TOKEN)
        sender = _sender(channel.config)
        if not sid or not token or sender is None or not message.external_id:
            return SendResult(Verdict.FAILED, "the channel has no account SID, auth token or sender, or no To number")
        refused = _media_refused(message)
        if refused is not None:
            return refused
        fields: dict[str, Any] = {"To": message.external_id, **sender, "Body": message_text(message)}
        if message.attachments:
            fields["MediaUrl"] = [str(a.source_url) for a in message.attachments]
        if settings.public_url:
            fields["StatusCallback"] = webhook_url(settings.public_url, channel.id)
        url = f"{_base(settings)}/{API_VERSION}/Accounts/{sid}/Messages.json"
        try:
            response = await client.post(url, data=fields, headers=_auth(sid, token))
        except httpx.HTTPError as exc:
            return SendResult(Verdict.RETRY, f"{type(exc).__name__} reaching the Twilio API")
        return _classify(response)

    async def check(self, client: httpx.AsyncClient, channel: Channel, settings: Settings) -> CheckResult:
        """`GET /2010-04-01/Accounts/{sid}.json`: the account's friendly name and status, or why not."""
        sid = channel.config.get("account_sid")
        if not sid:
            return CheckResult(CheckOutcome.FAILED, "the channel has no account SID")
        base = _base(settings)
        try:
            response = await client.get(
                f"{base}/{API_VERSION}/Accounts/{sid}.json", headers=_auth(sid, channel.credential(AUTH_TOKEN))
            )
        except httpx.HTTPError as exc:
            return unreachable("the Twilio API", base, exc)
        return _identity(response)

    async def fetch_media(
        self, client: httpx.AsyncClient, channel: Channel, attachment: Attachment, settings: Settings, limit: int
    ) -> MediaFetch:
        """`GET` the MediaUrl with the account's basic auth, only on the Twilio API's own host (the
        auth token goes nowhere else); its redirect to Twilio's media store is followed without it."""
        url = attachment.provider_media_id or ""
        if not _same_origin(url, _base(settings)):
            return MediaFetch(error=f"not a Twilio media URL (expected one under {_base(settings)})")
        auth = _auth(str(channel.config.get("account_sid") or ""), channel.credential(AUTH_TOKEN))
        fetched = await download(client, url, limit, "Twilio", auth, follow_redirects=True)
        if fetched.content is None:
            return fetched
        return MediaFetch(fetched.content, attachment.mime_type or fetched.mime_type)


def form_fields(body: bytes) -> dict[str, str]:
    """A form-encoded body's fields (Twilio sends each once)."""
    return dict(urllib.parse.parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


def webhook_url(public_base_url: str, channel_id: int) -> str:
    """Where Twilio posts a channel's messages and status callbacks (the number's "A message comes in")."""
    return f"{public_base_url.rstrip('/')}/webhooks/twilio/{channel_id}"


def message_text(message: Outbound) -> str:
    """The SMS body: the text, and a question's options numbered under it."""
    options = message.quick_replies
    if not options:
        return message.text
    return message.text + "\n" + "\n".join(f"{n}. {o}" for n, o in enumerate(options, 1))


def _sender(config: Mapping[str, Any]) -> dict[str, str] | None:
    """A Messaging Service sends when the channel names one (it picks the number), else the From number."""
    if config.get("messaging_service_sid"):
        return {"MessagingServiceSid": str(config["messaging_service_sid"])}
    return {"From": str(config["from_number"])} if config.get("from_number") else None


def _media_refused(message: Outbound) -> SendResult | None:
    """Twilio fetches MMS media from a public URL: a file only Frontdesk holds cannot go (yet)."""
    for attachment in message.attachments:
        name = attachment.file_name or f"attachment {attachment.id}"
        if attachment.kind not in TwilioChannel.capabilities.media:
            return SendResult(Verdict.FAILED, f"Twilio cannot send a {attachment.kind} attachment")
        if not attachment.source_url:
            return SendResult(Verdict.FAILED, f"{name}: Twilio sends MMS media from a public link only")
    return None


def _base(settings: Settings) -> str:
    return settings.twilio_base_url.rstrip("/")


def _auth(sid: str, token: str) -> dict[str, str]:
    return {"authorization": "Basic " + base64.b64encode(f"{sid}:{token}".encode()).decode()}


def _same_origin(url: str, base: str) -> bool:
    try:
        given, expected = httpx.URL(url), httpx.URL(base)
    except httpx.InvalidURL:
        return False
    return (given.scheme, given.host, given.port) == (expected.scheme, expected.host, expected.port)


def _classify(response: httpx.Response) -> SendResult:
    answer = answer_of(response)
    if response.is_success:
        sid = answer.get("sid")
        return SendResult(Verdict.SENT, provider_message_id=sid if isinstance(sid, str) else None)
    reason = f"Twilio answered HTTP {response.status_code}: {_error(answer, response)}"
    if response.status_code == 429 or response.status_code >= 500:
        return SendResult(
            Verdict.RETRY, reason, retry_after=destinations.retry_after(response.headers.get("retry-after"))
        )
    return SendResult(Verdict.FAILED, reason)


def _identity(response: httpx.Response) -> CheckResult:
    answer = answer_of(response)
    if not response.is_success:
        refused = "Twilio refused the account SID or auth token" if response.status_code in (401, 403, 404) else ""
        detail = f"HTTP {response.status_code}: {_error(answer, response)}"
        return CheckResult(CheckOutcome.FAILED, f"{refused} ({detail})" if refused else f"Twilio answered {detail}")
    identity = {key: str(answer[key])[:200] for key in ("sid", "friendly_name", "status", "type") if answer.get(key)}
    name, status = identity.get("friendly_name", "(no name)"), identity.get("status", "?")
    return CheckResult(CheckOutcome.OK, f"{name}, account {identity.get('sid', '?')} ({status})", identity)


def _error(answer: dict[str, Any], response: httpx.Response) -> str:
    """Twilio's error body: `{"code": 21211, "message": "…", "more_info": …, "status": 400}`."""
    message, code = answer.get("message"), answer.get("code")
    if isinstance(message, str) and message:
        return (f"error {code}: " if code else "") + message[:500]
    return response.text[:200] or "no error message"


ADAPTER = TwilioChannel()
