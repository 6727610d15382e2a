"""The shapes of the API's answers, for the OpenAPI document: TypedDicts, so the JSON the
queries build is sent unchanged while the document says what each key holds (the contract test
checks every answer against them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict

from frontdesk.channels.base import CheckOutcome
from frontdesk.domain.model import AttachmentKind, AttachmentState, ConversationStatus, Role


class Conversation(TypedDict):
    id: int
    contact_id: int
    channel_id: int | None
    status: ConversationStatus
    source: str
    team_id: int | None
    assignee_id: int | None
    opened_at: datetime
    closed_at: datetime | None
    closing_note: str | None
    closing_category: str | None
    last_message_at: datetime
    assigned_at: datetime | None
    first_reply_at: datetime | None
    reply_due_at: datetime | None
    required_skills: dict[str, Any] | None
    away_sent_at: datetime | None
    subject: str | None  # an e-mail conversation's subject


class Rating(TypedDict):
    conversation_id: int
    rating: int
    comment: str | None


class OpenedConversation(Conversation):
    opened: bool  # false: the contact's conversation was already open


class Attachment(TypedDict):
    """A file, location or contact card a message carries; `url` serves its content (api/attachments.py)."""

    id: int
    kind: AttachmentKind
    state: AttachmentState  # pending: still being fetched; failed: `error` says why
    mime_type: str | None  # the type the content itself shows (sniffed), as it is served
    size: int | None  # bytes
    file_name: str | None
    data: dict[str, Any] | None  # a location's latitude, longitude, name, address; a contact card's name, phones
    error: str | None
    url: str | None  # where the content is served (None for a location or contact card: no content)


class Message(TypedDict):
    id: int
    conversation_id: int
    channel_id: int | None
    direction: str
    author_kind: str
    author_agent_id: int | None
    text: str
    provider_message_id: str | None
    opened_conversation: bool
    delivery_status: str
    delivery_attempts: int
    delivery_error: str | None
    private: bool
    quick_replies: list[Any] | None
    created_at: datetime
    template: dict[str, Any] | None  # a template message: {name, language, parameters}
    attachments: list[Attachment]


class Run(TypedDict):
    id: int
    workflow_id: int
    version_id: int
    trigger_event_id: int | None
    trigger: dict[str, Any]
    contact_id: int | None
    conversation_id: int | None
    status: str
    vars: dict[str, Any]
    step_state: dict[str, Any]
    visits: dict[str, int]
    wait_until: datetime | None
    http_request: dict[str, Any] | None
    steps_executed: int
    started_at: datetime
    updated_at: datetime
    ended_at: datetime | None
    end_reason: str | None
    current_step: str | None
    waiting_for: str | None


class RunStep(TypedDict):
    seq: int
    step_id: str
    step_type: str
    branch: str | None
    reason: str | None
    output: dict[str, Any]
    error: str | None
    waiting: str | None
    started_at: datetime
    duration_ms: int


class RunDetail(Run):
    version: int
    steps: list[RunStep]


class StartedRun(TypedDict):
    run_id: int


class QueueEntry(TypedDict):
    position: int
    conversation_id: int
    contact_id: int
    priority: int
    skills: dict[str, Any]
    enqueued_at: datetime
    relax_at: datetime | None


class AgentLoad(TypedDict):
    agent_id: int
    name: str
    availability: str
    open: int
    capacity: int


class TeamStats(TypedDict):
    team_id: int
    queue_length: int
    longest_wait_seconds: float
    agents_online: int
    agents: list[AgentLoad]


class Token(TypedDict):
    id: int
    name: str
    role: Role
    agent_id: int | None
    created_at: datetime
    revoked_at: datetime | None
    expires_at: datetime | None


class CreatedToken(TypedDict):
    token: str  # shown this once
    name: str
    role: Role
    agent_id: int | None
    expires_at: datetime | None


class Event(TypedDict):
    id: int
    type: str
    contact_id: int | None
    conversation_id: int | None
    payload: dict[str, Any]
    created_at: datetime


class EventPage(TypedDict):
    events: list[Event]
    next_cursor: int


class InboundReceipt(TypedDict):
    contact_id: int
    conversation_id: int
    message_id: int
    conversation_opened: bool


class EngineHealth(TypedDict):
    workers_alive: int  # engine workers whose lease runs (0: nothing processes the event log)
    events_behind: int  # events not processed yet
    oldest_event_age_seconds: float  # how long the oldest of them has waited (0: none)


class Health(TypedDict):
    status: str
    pid: int  # which server process answered (`serve --processes N` runs several on one port)
    engine: EngineHealth


class ChannelCheck(TypedDict):
    """What the provider's identity endpoint said of the channel's credentials (POST …/check)."""

    channel_id: int
    outcome: CheckOutcome  # ok, failed (unreachable or refused: detail says which) or nothing_to_check
    detail: str
    identity: dict[str, str]  # the provider's own fields: WhatsApp's verified_name…, Telegram's username…
