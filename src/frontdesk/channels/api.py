"""The generic API channel (respond.io's "custom channel"): your system posts the contact's
messages to Frontdesk, signed, and Frontdesk posts replies to your `callback_url`, signed."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from frontdesk.channels import signing
from frontdesk.channels.base import (
    Capabilities,
    CheckResult,
    InboundItem,
    MediaFetch,
    SendResult,
    Verdict,
    nothing_to_check,
)
from frontdesk.channels.media import no_provider_media
from frontdesk.domain.errors import InvalidInput
from frontdesk.domain.model import ChannelType
from frontdesk.domain.records import Attachment, Channel, Outbound
from frontdesk.settings import Settings


class ApiChannel:
    type = ChannelType.API
    capabilities = Capabilities(max_quick_replies=10)
    required: frozenset[str] = frozenset()
    credential_names: frozenset[str] = frozenset()

    def default_config(self) -> dict[str, Any]:
        return {"callback_url": None}

    def check_config(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        if "allowed_origins" in settings:
            raise InvalidInput("not_for_api", "allowed_origins: only webchat channels have them", "allowed_origins")
        if "phone_number_id" in settings:
            raise InvalidInput("not_for_api", "phone_number_id: only whatsapp channels have one", "phone_number_id")
        if "templates" in settings:
            raise InvalidInput("not_for_api", "templates: only whatsapp channels send templates", "templates")
        if "callback_url" not in settings:
            return {}
        url = settings["callback_url"]
        return {"callback_url": str(url) if url else None}

    def check_complete(self, config: Mapping[str, Any], credentials: Mapping[str, str]) -> None:
        return None  # its settings stand on their own

    def verify(self, secrets: Sequence[str], headers: Mapping[str, str], body: bytes, now: float) -> str | None:
        """Signed with the channel's secret (or, during a rotation's grace, the previous one)."""
        timestamp, given = headers.get(signing.TIMESTAMP_HEADER), headers.get(signing.SIGNATURE_HEADER)
        problems = [signing.verify(secret, timestamp, given, body, now) for secret in secrets]
        if not problems:
            return "the channel has no secret"
        return None if not all(problems) else problems[0]

    def parse(self, payload: Any) -> list[InboundItem]:
        """`{"contact": {external_id, name?, fields?}, "message": {id, text}}`, validated by the endpoint."""
        contact, message = payload["contact"], payload["message"]
        return [
            InboundItem(
                external_id=contact["external_id"],
                provider_message_id=message["id"],
                text=message["text"],
                contact_name=contact.get("name"),
                contact_fields=contact.get("fields") or {},
            )
        ]

    def pushes(self, config: Mapping[str, Any]) -> bool:
        return bool(config.get("callback_url"))

    async def send(
        self, client: httpx.AsyncClient, channel: Channel, message: Outbound, settings: Settings
    ) -> SendResult:
        """POST the message to the callback URL. Every failure is retried: a receiver that is down
        or refuses today may take it tomorrow, and the attempts are bounded."""
        url, secret = channel.config.get("callback_url"), channel.secret
        if not url:
            return SendResult(Verdict.RETRY, "the channel has no callback_url")
        body = _body(message)
        headers = {
            "content-type": "application/json",
            # Receivers dedupe on this: a delivery retried after a lost answer carries the same id.
            "x-frontdesk-delivery": str(message.id),
            "x-frontdesk-attempt": str(message.attempt),
            **signing.signed_headers(secret, body),
        }
        try:
            response = await client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return SendResult(Verdict.RETRY, f"{type(exc).__name__}: {exc}")
        if response.is_success:
            return SendResult(Verdict.SENT)
        return SendResult(Verdict.RETRY, f"callback answered HTTP {response.status_code}")

    async def check(self, client: httpx.AsyncClient, channel: Channel, settings: Settings) -> CheckResult:
        return nothing_to_check("API")

    async def fetch_media(
        self, client: httpx.AsyncClient, channel: Channel, attachment: Attachment, settings: Settings, limit: int
    ) -> MediaFetch:
        """Nothing: the media fetcher fetches a URL itself; these channels have no provider media."""
        return no_provider_media("API")


def _body(message: Outbound) -> bytes:
    payload = {
        "type": "message",
        "message": {
            "id": message.id,
            "text": message.text,
            "quick_replies": message.quick_replies,
            "conversation_id": message.conversation_id,
            "author": {"kind": message.author_kind, "agent_id": message.author_agent_id},
            "created_at": message.created_at.isoformat(),
            "attachments": [_attachment(a) for a in message.attachments],
        },
        "contact": {"id": message.contact_id, "external_id": message.external_id},
    }
    return json.dumps(payload, separators=(",", ":")).encode()


def _attachment(attachment: Attachment) -> dict[str, Any]:
    """What a receiver needs to show or fetch it: `url` is set for a link sent as is; a stored
    file is read through the API by its id (there is no public URL to give here)."""
    return {
        "id": attachment.id,
        "kind": attachment.kind,
        "mime_type": attachment.mime_type,
        "file_name": attachment.file_name,
        "size": attachment.size,
        "url": None if attachment.storage_key else attachment.source_url,
    }


ADAPTER = ApiChannel()
