"""What every channel adapter does: the contract a provider module implements.

An adapter checks its channel's settings, verifies that an inbound request comes from the
provider, turns the provider's payload into normalized inbound items, sends an outbound message
and classifies the provider's answer (sent / retry later / failed for good), and states what the
channel can carry. Adapters are pure: they never touch the database; ingest stores what they
parse and delivery records what they answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

import httpx

from frontdesk.domain.model import ChannelType
from frontdesk.domain.records import Outbound


@dataclass(frozen=True)
class InboundItem:
    """One message a contact sent, as every channel normalizes it (ingest stores it once)."""

    external_id: str  # the contact's identity on the channel
    provider_message_id: str  # what makes a provider's retry a duplicate
    text: str
    contact_name: str | None = None
    contact_fields: dict[str, object] = field(default_factory=dict)


class Verdict(StrEnum):
    SENT = "sent"
    RETRY = "retry"  # try again later (with backoff), until the attempts run out
    FAILED = "failed"  # permanent: never tried again


@dataclass(frozen=True)
class SendResult:
    verdict: Verdict
    error: str | None = None  # why, when not sent
    provider_message_id: str | None = None


@dataclass(frozen=True)
class Capabilities:
    """What a channel can carry; workflows and the inbox adapt what they send to it."""

    max_quick_replies: int
    media: frozenset[str] = frozenset()  # attachment kinds it accepts (none yet)


class ChannelAdapter(Protocol):
    type: ChannelType
    capabilities: Capabilities

    def default_config(self) -> dict[str, Any]: ...

    def check_config(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        """The config keys `settings` sets, checked; a key of another channel type is refused."""
        ...

    def verify(self, secrets: Sequence[str], headers: Mapping[str, str], body: bytes, now: float) -> str | None:
        """None when the request is the provider's (signed with one of `secrets`), else why not."""
        ...

    def parse(self, payload: Any) -> list[InboundItem]:
        """The inbound items of a verified request's decoded body."""
        ...

    def pushes(self, config: Mapping[str, Any]) -> bool:
        """Whether an outbound message is sent to the provider (`pending` until delivery has it),
        or only stored for clients to read (the API without a callback URL, the web chat)."""
        ...

    async def send(
        self, client: httpx.AsyncClient, config: Mapping[str, Any], secret: str, message: Outbound
    ) -> SendResult: ...
