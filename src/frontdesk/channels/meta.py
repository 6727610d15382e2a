"""Messenger and Instagram (Meta's Messenger Platform): one Graph webhook format, signed like
WhatsApp's, and one Send API, `{graph base}/{version}/{page id}/messages` with the page access token.

The two channel types differ in the webhook's `object` (`page` / `instagram`), the contact's
identity (a page-scoped or an Instagram-scoped id), Instagram's story replies and mentions, and
what media each sends. Inbound: channels/meta_inbound.py. Outbound: text, a question's options as
quick replies (≤ 13), attachments (channels/meta_outbound.py), under Meta's 24-hour window, which an
agent's reply passes for 7 days with the HUMAN_AGENT tag.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from frontdesk.channels import meta_inbound, meta_outbound, outbound_media, signing
from frontdesk.channels.base import (
    Capabilities,
    CheckOutcome,
    CheckResult,
    Item,
    MediaFetch,
    SendResult,
    StatusUpTo,
    Verdict,
    unreachable,
)
from frontdesk.channels.media import fetch_source_url
from frontdesk.channels.outbound_media import MB
from frontdesk.channels.payload import answer_of
from frontdesk.clock import now
from frontdesk.domain.errors import InvalidInput
from frontdesk.domain.model import AttachmentKind, ChannelType
from frontdesk.domain.records import Attachment, Channel, Outbound
from frontdesk.settings import Settings

ACCESS_TOKEN, APP_SECRET, VERIFY_TOKEN = "access_token", "app_secret", "verify_token"
PAGE_ID = "page_id"
HUMAN_AGENT_WINDOW = dt.timedelta(days=7)
_PAGE_ID = re.compile(r"[0-9]{1,32}")


@dataclass(frozen=True)
class Platform:
    """What tells Messenger and Instagram apart."""

    type: ChannelType
    name: str  # as people say it
    webhook_object: str  # the `object` of its webhooks
    media: Mapping[str, int]  # the attachment kinds it sends, each with its size limit


MESSENGER = Platform(
    ChannelType.MESSENGER,
    "Messenger",
    "page",
    {kind: 25 * MB for kind in (AttachmentKind.IMAGE, AttachmentKind.AUDIO, AttachmentKind.VIDEO, AttachmentKind.FILE)},
)
INSTAGRAM = Platform(
    ChannelType.INSTAGRAM,
    "Instagram",
    "instagram",
    {AttachmentKind.IMAGE: 8 * MB, AttachmentKind.AUDIO: 25 * MB, AttachmentKind.VIDEO: 25 * MB},
)


class MetaChannel:
    required = frozenset({PAGE_ID, ACCESS_TOKEN, APP_SECRET, VERIFY_TOKEN})
    credential_names = frozenset({ACCESS_TOKEN, APP_SECRET, VERIFY_TOKEN})

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.type = platform.type
        self.capabilities = Capabilities(
            max_quick_replies=meta_outbound.MAX_QUICK_REPLIES,
            media=platform.media,
            reply_window=meta_outbound.WINDOW,
            outside_window=(
                f"outside {platform.name}'s 24-hour window: the contact last wrote over 24 hours ago "
                "(only an agent's own reply may still go, for 7 days, with the HUMAN_AGENT tag)"
            ),
            agent_reply_window=HUMAN_AGENT_WINDOW,
            outside_agent_window=(
                f"outside {platform.name}'s messaging window: the contact last wrote over 7 days ago, "
                "past even the HUMAN_AGENT tag's 7 days: they must write first"
            ),
        )

    def default_config(self) -> dict[str, Any]:
        return {PAGE_ID: None}

    def check_config(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        for key in settings:
            if key != PAGE_ID:
                raise InvalidInput(f"not_for_{self.type}", f"{key}: {self.type} channels do not take it", key)
        if PAGE_ID not in settings:
            return {}
        value = str(settings[PAGE_ID] or "")
        if not _PAGE_ID.fullmatch(value):
            raise InvalidInput("invalid_page_id", "page_id: the digits of the Facebook Page's id", PAGE_ID)
        return {PAGE_ID: value}

    def check_complete(self, config: Mapping[str, Any], credentials: Mapping[str, str]) -> None:
        return None  # its settings stand on their own

    def verify(self, secrets: Sequence[str], headers: Mapping[str, str], body: bytes, now: float) -> str | None:
        """`X-Hub-Signature-256`, the app secret's signature of the raw body (as WhatsApp's)."""
        return signing.verify_hub(secrets, headers.get(signing.HUB_SIGNATURE_HEADER, ""), body)

    def parse(self, payload: Any) -> Sequence[Item]:
        return meta_inbound.parse(payload, self.platform.webhook_object)

    def receipts_up_to(self, payload: Any) -> list[StatusUpTo]:
        """The receipts that give only a time (Messenger's `watermark`): applied by the route."""
        return meta_inbound.receipts_up_to(payload, self.platform.webhook_object)

    def pushes(self, config: Mapping[str, Any]) -> bool:
        return True

    async def send(
        self, client: httpx.AsyncClient, channel: Channel, message: Outbound, settings: Settings
    ) -> SendResult:
        """Text with its quick replies, and each attachment as a message of its own; 2xx sent,
        429/5xx and Meta's temporary errors retried, any other answer failed with Meta's message."""
        page_id = channel.config.get(PAGE_ID)
        if not page_id or not message.external_id:
            return SendResult(Verdict.FAILED, "the channel has no page_id or the contact no id")
        refused = outbound_media.check(message, self.capabilities, self.platform.name)
        if refused is not None:
            return refused
        url = f"{_graph(settings)}/{page_id}/messages"
        headers = {"authorization": f"Bearer {channel.credential(ACCESS_TOKEN)}"}
        envelope = meta_outbound.envelope(message, now())

        async def post(part: meta_outbound.Part) -> SendResult:
            return await meta_outbound.post(client, url, headers, envelope, part, settings, self.platform.name)

        return await outbound_media.send_parts(meta_outbound.parts(message), post)

    async def check(self, client: httpx.AsyncClient, channel: Channel, settings: Settings) -> CheckResult:
        """`GET /{version}/me?fields=id,name` with the page access token: the page it belongs to."""
        try:
            response = await client.get(
                f"{_graph(settings)}/me",
                params={"fields": "id,name"},
                headers={"authorization": f"Bearer {channel.credential(ACCESS_TOKEN)}"},
            )
        except httpx.HTTPError as exc:
            return unreachable(f"the {self.platform.name} Graph API", settings.meta_graph_base_url, exc)
        return self._identity(response)

    def _identity(self, response: httpx.Response) -> CheckResult:
        answer, name = answer_of(response), self.platform.name
        if not response.is_success:
            refused = f"{name} refused the page access token" if response.status_code in (400, 401, 403) else ""
            detail = f"HTTP {response.status_code}: {meta_outbound.error_message(response)}"
            return CheckResult(CheckOutcome.FAILED, f"{refused} ({detail})" if refused else f"{name} answered {detail}")
        identity = {key: str(answer[key])[:200] for key in ("id", "name") if answer.get(key)}
        return CheckResult(
            CheckOutcome.OK, f"page {identity.get('name', '(no name)')} ({identity.get('id', '?')})", identity
        )

    async def fetch_media(
        self, client: httpx.AsyncClient, channel: Channel, attachment: Attachment, settings: Settings, limit: int
    ) -> MediaFetch:
        """Meta's webhooks give a media's CDN URL: downloaded through the private-address guard."""
        return await fetch_source_url(client, attachment, settings, limit)


def _graph(settings: Settings) -> str:
    return f"{settings.meta_graph_base_url.rstrip('/')}/{settings.meta_api_version}"


MESSENGER_ADAPTER = MetaChannel(MESSENGER)
INSTAGRAM_ADAPTER = MetaChannel(INSTAGRAM)
