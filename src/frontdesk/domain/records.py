"""Typed records: the rows the store hands to the rest of the code, decoded by its codec.

Frozen msgspec structs (attribute access, ~1 µs to build, checked by mypy). A record carries
every column of its table; a caller that changes one writes through `actions/`, never by
mutating the record. Read models that only serialise rows (the API's lists) may stay dicts.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import msgspec


class Record(msgspec.Struct, frozen=True, kw_only=True):
    """Base of the records: `Type.from_row(row)` builds one from a decoded row."""

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Any:
        return cls(**row)


class Contact(Record, frozen=True, kw_only=True):
    id: int
    name: str | None
    fields: dict[str, Any]
    tags: list[str]
    owner_agent_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime


class Agent(Record, frozen=True, kw_only=True):
    id: int
    name: str
    email: str
    role: str
    availability: str
    capacity: int
    skills: dict[str, str]
    availability_changed_at: dt.datetime
    open_count: int
    last_assigned_at: dt.datetime | None
    password_hash: str | None
    last_seen_at: dt.datetime | None
    active: bool
    created_at: dt.datetime


class Conversation(Record, frozen=True, kw_only=True):
    id: int
    contact_id: int
    channel_id: int | None
    status: str
    source: str
    team_id: int | None
    assignee_id: int | None
    opened_at: dt.datetime
    closed_at: dt.datetime | None
    closing_note: str | None
    closing_category: str | None
    last_message_at: dt.datetime
    assigned_at: dt.datetime | None
    first_reply_at: dt.datetime | None
    reply_due_at: dt.datetime | None
    required_skills: dict[str, str] | None
    away_sent_at: dt.datetime | None
    subject: str | None = None  # an e-mail's subject, from the mail that opened it


class Message(Record, frozen=True, kw_only=True):
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
    next_attempt_at: dt.datetime | None
    delivery_error: str | None
    private: bool
    quick_replies: list[str] | None
    created_at: dt.datetime
    template: dict[str, Any] | None = None  # a template message: {name, language, parameters}


class Attachment(Record, frozen=True, kw_only=True):
    """A file, location or contact card carried by a message (`domain.model.AttachmentKind`)."""

    id: int
    message_id: int
    kind: str
    state: str
    mime_type: str | None
    size: int | None
    file_name: str | None
    sha256: str | None
    storage_key: str | None  # where the media store keeps the content (None until fetched)
    provider_media_id: str | None  # the provider's handle to fetch it (WhatsApp media id, Telegram file_id)
    source_url: str | None  # a URL to fetch it from, or a link sent as is
    data: dict[str, Any] | None  # a location's or contact card's fields
    error: str | None
    attempts: int
    next_attempt_at: dt.datetime | None
    created_at: dt.datetime


class Run(Record, frozen=True, kw_only=True):
    """A workflow run's row (the engine's live `engine.runs.Run` adds the parsed workflow)."""

    id: int
    workflow_id: int
    version_id: int
    trigger_event_id: int | None
    trigger: dict[str, Any]
    contact_id: int | None
    conversation_id: int | None
    status: str
    step_id: str | None
    vars: dict[str, Any]
    step_state: dict[str, Any]
    visits: dict[str, Any]
    wait_kind: str | None
    wait_until: dt.datetime | None
    wait_after_event: int | None
    http_request: dict[str, Any] | None
    lease_until: dt.datetime | None
    steps_executed: int
    started_at: dt.datetime
    updated_at: dt.datetime
    ended_at: dt.datetime | None
    end_reason: str | None


class Channel(Record, frozen=True, kw_only=True):
    """A channel's row, secrets decrypted: its adapter (`frontdesk.channels`) is chosen by `type`."""

    id: int
    type: str
    name: str
    config: dict[str, Any]
    secret: str
    previous_secret: str | None
    previous_secret_until: dt.datetime | None
    credentials: str | None = None  # the provider's credentials as JSON text (opened, never shown)
    created_at: dt.datetime
    csat_survey: bool = False  # a survey link after an agent or the API closes a conversation

    def credential(self, name: str) -> str:
        """One of the provider's credentials ("" when the channel has none by that name)."""
        values = json.loads(self.credentials) if self.credentials else {}
        return str(values.get(name) or "")


class Outbound(Record, frozen=True, kw_only=True):
    """A message claimed for delivery: what its channel's adapter sends, and to whom."""

    id: int
    channel_id: int
    conversation_id: int
    contact_id: int
    external_id: str | None  # the contact's identity on the channel
    text: str
    quick_replies: list[str]
    author_kind: str
    author_agent_id: int | None
    created_at: dt.datetime
    attempt: int  # 1 for the first
    template: dict[str, Any] | None = None  # a template message: {name, language, parameters}
    attachments: list[Attachment] = msgspec.field(default_factory=list)  # what it carries, in order
    subject: str | None = None  # its conversation's subject (e-mail)
    references: list[str] = msgspec.field(default_factory=list)  # the thread's message ids, oldest first (e-mail)
    # when the contact last wrote on the channel, for channels whose sends depend on it (Messenger's tag)
    last_inbound_at: dt.datetime | None = None


class Event(Record, frozen=True, kw_only=True):
    """An entry of the event log (`domain/events.py` names its types and payloads)."""

    id: int
    type: str
    contact_id: int | None
    conversation_id: int | None
    payload: dict[str, Any]
    created_at: dt.datetime
