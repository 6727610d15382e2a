"""What every channel adapter does: the contract a provider module implements.

An adapter checks its channel's settings, verifies that an inbound request comes from the
provider, turns the provider's payload into normalized inbound items, sends an outbound message
and classifies the provider's answer (sent / retry later / failed for good), and states what the
channel can carry. Adapters are pure: they never touch the database; ingest stores what they
parse and delivery records what they answer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

import httpx

from frontdesk.domain.attachments import NewAttachment
from frontdesk.domain.errors import InvalidInput
from frontdesk.domain.model import ChannelType, DeliveryStatus
from frontdesk.domain.records import Attachment, Channel, Outbound
from frontdesk.settings import Settings


@dataclass(frozen=True)
class InboundItem:
    """One message a contact sent, as every channel normalizes it (ingest stores it once)."""

    external_id: str  # the contact's identity on the channel
    provider_message_id: str  # what makes a provider's retry a duplicate
    text: str
    contact_name: str | None = None
    contact_fields: dict[str, object] = field(default_factory=dict)
    reply_id: str | None = None  # the id of the button or list row the contact tapped
    attachments: tuple[NewAttachment, ...] = ()  # media to fetch (provider ids), a location, a contact card
    subject: str | None = None  # an e-mail's subject: kept on the conversation it opens
    references: tuple[str, ...] = ()  # an e-mail's In-Reply-To and References: the messages it answers


@dataclass(frozen=True)
class StatusUpdate:
    """The provider's news about an earlier outbound message (found by the id it gave at send)."""

    provider_message_id: str
    status: DeliveryStatus  # sent, delivered, read or failed
    error: str | None = None


@dataclass(frozen=True)
class StatusUpTo:
    """A provider's news about every outbound message to a contact up to a time (Messenger's
    delivery and read `watermark`), when it names no message."""

    external_id: str
    status: DeliveryStatus  # delivered or read
    until: dt.datetime


@dataclass(frozen=True)
class Ignored:
    """Something the payload holds that this channel does not take (yet): logged, never fatal."""

    reason: str
    provider_message_id: str | None = None


@dataclass(frozen=True)
class Notice:
    """Something a contact did that is not a message to answer (a reaction, a message type
    Frontdesk cannot show): recorded as a system note in their open conversation, never opening one."""

    external_id: str
    provider_message_id: str
    text: str


@dataclass(frozen=True)
class OptOut:
    """A contact's opt-out keyword (SMS's STOP: `opted_out`) or its end (START), under the id of
    the message that said it: the channel stops or resumes sending to them."""

    external_id: str
    provider_message_id: str
    opted_out: bool
    keyword: str


Item = InboundItem | StatusUpdate | Ignored | Notice


class Verdict(StrEnum):
    SENT = "sent"
    RETRY = "retry"  # try again later (with backoff), until the attempts run out
    FAILED = "failed"  # permanent: never tried again


# The config key that shows admins why the provider refused the channel's sign-in (SignIn.refused),
# until a credential is changed or a sign-in works again.
SIGN_IN_REFUSED = "sign_in_refused"


@dataclass(frozen=True)
class SignIn:
    """What a send or a check learned of the channel's sign-in with its provider (e-mail's OAuth2),
    for the caller to save: a credential the provider rotated (sealed like the others), or why the
    provider refused the grant (shown to admins until they sign in again)."""

    credentials: Mapping[str, str] = field(default_factory=dict, repr=False)
    refused: str | None = None
    # the refresh token the sign-in used: what it learned is saved only while that one is still saved
    # (an admin who signed in again meanwhile keeps their new one)
    credential: str = ""  # the name of the credential it used (e-mail's oauth2_refresh_token)
    used: str = field(default="", repr=False)
    granted: bool = False  # the provider gave a token: a refusal shown before is over

    def changes(self, config: Mapping[str, Any]) -> bool:
        """Whether saving it changes a channel whose config is `config` (most sign-ins change nothing:
        their write is skipped)."""
        if self.credentials or (self.refused is not None and config.get(SIGN_IN_REFUSED) != self.refused):
            return True
        return self.granted and SIGN_IN_REFUSED in config


@dataclass(frozen=True)
class SendResult:
    verdict: Verdict
    error: str | None = None  # why, when not sent
    provider_message_id: str | None = None
    retry_after: float | None = None  # seconds the provider asked to wait before a retry (429/5xx)
    sign_in: SignIn | None = None


@dataclass(frozen=True)
class Capabilities:
    """What a channel can carry; workflows and the inbox adapt what they send to it."""

    max_quick_replies: int
    # The attachment kinds it sends, each with the largest size it takes (bytes), checked before sending.
    media: Mapping[str, int] = field(default_factory=dict)
    # A free-form message is refused once the contact's last message on the channel is older
    # (WhatsApp's customer-service window); None: no window. `outside_window` says so plainly.
    reply_window: dt.timedelta | None = None
    outside_window: str = ""
    # An agent's own reply is still taken this long after the contact's last message (Messenger's
    # HUMAN_AGENT tag: 7 days), past `reply_window`; `outside_agent_window` says why not beyond it.
    agent_reply_window: dt.timedelta | None = None
    outside_agent_window: str = ""
    # Sends pre-approved template messages (domain.message_templates), the ones its config lists:
    # they are what a reply window still lets through.
    templates: bool = False
    # Contacts may opt out by keyword (SMS's STOP): a message to an opted-out contact is refused
    # before it is stored (actions.conversations.check_opt_out).
    opt_out: bool = False


@dataclass(frozen=True)
class MediaFetch:
    """What fetching an attachment's content gave: its bytes and the type the provider declared,
    or why not — for good (`retry` False) or for now (`retry_after` seconds, when the provider said)."""

    content: bytes | None = None
    mime_type: str | None = None
    error: str | None = None
    retry: bool = False
    retry_after: float | None = None


class ChannelAdapter(Protocol):
    type: ChannelType
    capabilities: Capabilities
    required: frozenset[str]  # the settings and credentials a new channel of this type must be given
    credential_names: frozenset[str]  # its write-only credentials (sealed, never returned)

    def default_config(self) -> dict[str, Any]: ...

    def check_config(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        """The config keys `settings` sets, checked; a key of another channel type is refused."""
        ...

    def check_complete(self, config: Mapping[str, Any], credentials: Mapping[str, str]) -> None:
        """The whole config and credentials as they would be saved: refuse (InvalidInput) what the
        settings need of each other (e-mail's OAuth2 needs a client id and a refresh token)."""
        ...

    def verify(self, secrets: Sequence[str], headers: Mapping[str, str], body: bytes, now: float) -> str | None:
        """None when the request is the provider's (signed with one of `secrets`), else why not."""
        ...

    def parse(self, payload: Any) -> Sequence[Item]:
        """The items of a verified request's decoded body: messages, status updates, and what it skips."""
        ...

    def pushes(self, config: Mapping[str, Any]) -> bool:
        """Whether an outbound message is sent to the provider (`pending` until delivery has it),
        or only stored for clients to read (the API without a callback URL, the web chat)."""
        ...

    async def send(
        self, client: httpx.AsyncClient, channel: Channel, message: Outbound, settings: Settings
    ) -> SendResult:
        """Send `message` on `channel` (its config, secret and credentials) and classify the answer."""
        ...

    async def check(self, client: httpx.AsyncClient, channel: Channel, settings: Settings) -> CheckResult:
        """Ask the provider's identity endpoint whose `channel`'s credentials are (the admin's "check")."""
        ...

    async def fetch_media(
        self, client: httpx.AsyncClient, channel: Channel, attachment: Attachment, settings: Settings, limit: int
    ) -> MediaFetch:
        """The content of an inbound attachment (its provider media id or source URL), at most
        `limit` bytes: the media fetcher calls it outside any transaction."""
        ...


class CheckOutcome(StrEnum):
    OK = "ok"  # the provider recognised the credentials and said whose they are
    FAILED = "failed"  # unreachable, or the credentials refused: `detail` says which
    NOTHING_TO_CHECK = "nothing_to_check"  # the channel talks to no provider (API, web chat)


@dataclass(frozen=True)
class CheckResult:
    """What the provider's identity endpoint says of a channel's credentials, in plain words."""

    outcome: CheckOutcome
    detail: str  # whose the credentials are, or why the check failed (never a credential)
    identity: dict[str, str] = field(default_factory=dict)  # the provider's own fields, as it gave them
    sign_in: SignIn | None = None


def unreachable(provider: str, base_url: str, exc: httpx.HTTPError) -> CheckResult:
    """A check that got no answer: the host it tried and the exception's kind (not its text, which
    may quote a URL holding a token)."""
    return CheckResult(CheckOutcome.FAILED, f"could not reach {provider} at {base_url} ({type(exc).__name__})")


def nothing_to_check(kind: str) -> CheckResult:
    return CheckResult(CheckOutcome.NOTHING_TO_CHECK, f"nothing to check: {kind} channels talk to no provider")


def one_of(key: str, value: Any, choices: Sequence[str]) -> str:
    """A channel setting that must be one of `choices` (InvalidInput `invalid_<key>` naming them)."""
    if value not in choices:
        raise InvalidInput(f"invalid_{key}", f"{key}: one of {', '.join(choices)}", key)
    return str(value)
