"""The product's vocabulary: the enumerations every layer shares."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from frontdesk.domain.events import ActorPayload


class ConversationStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Source(StrEnum):
    """Who opened a conversation; carried by the `conversation.opened` event."""

    CONTACT = "contact"
    AGENT = "agent"
    WORKFLOW = "workflow"
    API = "api"
    BROADCAST = "broadcast"


class Direction(StrEnum):
    INBOUND = "in"
    OUTBOUND = "out"


class AuthorKind(StrEnum):
    CONTACT = "contact"
    AGENT = "agent"
    WORKFLOW = "workflow"
    SYSTEM = "system"
    API = "api"


class DeliveryStatus(StrEnum):
    """Where an outbound message is on its way to the contact (inbound ones are `received`)."""

    RECEIVED = "received"
    PENDING = "pending"
    SENT = "sent"
    DELIVERED = "delivered"  # the provider says it reached the contact's device (WhatsApp)
    READ = "read"  # the contact opened it (WhatsApp); never moves back to delivered or sent
    FAILED = "failed"
    STORED = "stored"  # the channel has nowhere to push it; clients read it from the API/events


class RunStatus(StrEnum):
    """Where a workflow run is: `running` only inside the engine's transaction."""

    RUNNING = "running"
    WAITING = "waiting"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def ended(self) -> bool:
        return self in (RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED)


class WaitKind(StrEnum):
    """What a waiting run waits for."""

    REPLY = "reply"  # the contact's answer to a question (or a timeout)
    TIMER = "timer"  # a `wait` step's delay
    HTTP = "http"  # an `http_request` call made outside the transaction
    QUEUE = "queue"  # an agent for a queued conversation
    START = "start"  # the timers' next tick, for a run queued to start (store.sql.runs.queue)


class Role(StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    AGENT = "agent"

    def includes(self, other: Role) -> bool:
        """Roles are nested: an admin may do all a manager may, a manager all an agent may."""
        return _RANK[self] >= _RANK[other]

    def at_most(self, ceiling: Role) -> Role:
        """The lower of the two: a token never acts above its agent's current role."""
        return self if ceiling.includes(self) else ceiling


_RANK = {Role.AGENT: 0, Role.MANAGER: 1, Role.ADMIN: 2}


class Availability(StrEnum):
    ONLINE = "online"
    AWAY = "away"
    OFFLINE = "offline"


class AttachmentKind(StrEnum):
    """What an attachment is, as the inbox shows it (a sticker is an image, a voice note audio)."""

    IMAGE = "image"
    AUDIO = "audio"
    VIDEO = "video"
    FILE = "file"
    LOCATION = "location"  # no content: `data` holds latitude, longitude, name, address
    CONTACT = "contact"  # a shared contact card: `data` holds its name and phones


class AttachmentState(StrEnum):
    """Whether an attachment's content is here: inbound media is fetched after the message is stored."""

    PENDING = "pending"  # to fetch (a provider media id or a URL)
    READY = "ready"  # stored (or nothing to fetch: a location, a contact card, a link sent as is)
    FAILED = "failed"  # too big, unreachable, lying about its type: `error` says which


class ChannelType(StrEnum):
    API = "api"
    WEBCHAT = "webchat"
    WHATSAPP = "whatsapp"
    TELEGRAM = "telegram"
    EMAIL = "email"
    TWILIO = "twilio"
    MESSENGER = "messenger"
    INSTAGRAM = "instagram"


class FieldType(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    EMAIL = "email"
    PHONE = "phone"
    DATE = "date"
    BOOLEAN = "boolean"
    CHOICE = "choice"


class Actor:
    """Who performs a change: an agent (through a token or the inbox), the API, a workflow, the system."""

    __slots__ = ("agent_id", "kind")

    def __init__(self, kind: AuthorKind, agent_id: int | None = None) -> None:
        self.kind = kind
        self.agent_id = agent_id

    def as_payload(self) -> ActorPayload:
        return {"kind": str(self.kind), "agent_id": self.agent_id}

    @property
    def source(self) -> Source:
        """The source a conversation gets when this actor opens it."""
        return {
            AuthorKind.CONTACT: Source.CONTACT,
            AuthorKind.AGENT: Source.AGENT,
            AuthorKind.WORKFLOW: Source.WORKFLOW,
        }.get(self.kind, Source.API)


SYSTEM = Actor(AuthorKind.SYSTEM)
