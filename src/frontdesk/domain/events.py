"""The events written to the event log (the transactional outbox): every type's name and the
shape of its payload, in one place, so what `emit` writes and what the engine, the live feeds
and API clients read cannot drift apart.

No `from __future__ import annotations` here: on Python 3.11 a TypedDict only sees `NotRequired`
in an evaluated annotation, and `__required_keys__` must be right for the readers that check."""

from collections.abc import Mapping
from enum import StrEnum
from typing import NotRequired, TypedDict

from frontdesk.domain.contacts import FieldValue


class EventType(StrEnum):
    MESSAGE_RECEIVED = "message.received"
    MESSAGE_SENT = "message.sent"
    MESSAGE_DELIVERY_UPDATED = "message.delivery_updated"
    ATTACHMENT_UPDATED = "attachment.updated"
    NOTE_ADDED = "note.added"
    CONVERSATION_OPENED = "conversation.opened"
    CONVERSATION_CLOSED = "conversation.closed"
    CONVERSATION_REOPENED = "conversation.reopened"
    CONVERSATION_ASSIGNED = "conversation.assigned"
    CONVERSATION_UNASSIGNED = "conversation.unassigned"
    CONVERSATION_QUEUED = "conversation.queued"
    CONVERSATION_RATED = "conversation.rated"
    CONTACT_CREATED = "contact.created"
    CONTACT_UPDATED = "contact.updated"
    CONTACT_FIELD_UPDATED = "contact.field_updated"
    CONTACT_TAG_ADDED = "contact.tag_added"
    CONTACT_TAG_REMOVED = "contact.tag_removed"
    AGENT_CREATED = "agent.created"
    AGENT_UPDATED = "agent.updated"
    AGENT_AVAILABILITY_CHANGED = "agent.availability_changed"
    TEAM_CREATED = "team.created"
    TEAM_UPDATED = "team.updated"
    TEAM_MEMBER_ADDED = "team.member_added"
    TEAM_MEMBER_REMOVED = "team.member_removed"
    CHANNEL_UPDATED = "channel.updated"
    SECRET_SET = "secret.set"
    SECRET_DELETED = "secret.deleted"
    WORKFLOW_PUBLISHED = "workflow.published"
    WORKFLOW_ENABLED = "workflow.enabled"
    WORKFLOW_DISABLED = "workflow.disabled"
    CONTACT_OPT_OUT_CHANGED = "contact.opt_out_changed"
    WEBHOOK_CREATED = "webhook.created"
    WEBHOOK_UPDATED = "webhook.updated"
    WEBHOOK_DELETED = "webhook.deleted"
    WEBHOOK_DISABLED = "webhook.disabled"


# The names callers import (`ev.MESSAGE_RECEIVED`): the enum's members, so they compare and
# serialise as the plain strings stored in `events.type`.
MESSAGE_RECEIVED = EventType.MESSAGE_RECEIVED
MESSAGE_SENT = EventType.MESSAGE_SENT
MESSAGE_DELIVERY_UPDATED = EventType.MESSAGE_DELIVERY_UPDATED
ATTACHMENT_UPDATED = EventType.ATTACHMENT_UPDATED
NOTE_ADDED = EventType.NOTE_ADDED
CONVERSATION_OPENED = EventType.CONVERSATION_OPENED
CONVERSATION_CLOSED = EventType.CONVERSATION_CLOSED
CONVERSATION_REOPENED = EventType.CONVERSATION_REOPENED
CONVERSATION_ASSIGNED = EventType.CONVERSATION_ASSIGNED
CONVERSATION_UNASSIGNED = EventType.CONVERSATION_UNASSIGNED
CONVERSATION_QUEUED = EventType.CONVERSATION_QUEUED
CONVERSATION_RATED = EventType.CONVERSATION_RATED
CONTACT_CREATED = EventType.CONTACT_CREATED
CONTACT_UPDATED = EventType.CONTACT_UPDATED
CONTACT_FIELD_UPDATED = EventType.CONTACT_FIELD_UPDATED
CONTACT_TAG_ADDED = EventType.CONTACT_TAG_ADDED
CONTACT_TAG_REMOVED = EventType.CONTACT_TAG_REMOVED
AGENT_CREATED = EventType.AGENT_CREATED
AGENT_UPDATED = EventType.AGENT_UPDATED
AGENT_AVAILABILITY_CHANGED = EventType.AGENT_AVAILABILITY_CHANGED
TEAM_CREATED = EventType.TEAM_CREATED
TEAM_UPDATED = EventType.TEAM_UPDATED
TEAM_MEMBER_ADDED = EventType.TEAM_MEMBER_ADDED
TEAM_MEMBER_REMOVED = EventType.TEAM_MEMBER_REMOVED
CHANNEL_UPDATED = EventType.CHANNEL_UPDATED
SECRET_SET = EventType.SECRET_SET
SECRET_DELETED = EventType.SECRET_DELETED
WORKFLOW_PUBLISHED = EventType.WORKFLOW_PUBLISHED
WORKFLOW_ENABLED = EventType.WORKFLOW_ENABLED
WORKFLOW_DISABLED = EventType.WORKFLOW_DISABLED
CONTACT_OPT_OUT_CHANGED = EventType.CONTACT_OPT_OUT_CHANGED
WEBHOOK_CREATED = EventType.WEBHOOK_CREATED
WEBHOOK_UPDATED = EventType.WEBHOOK_UPDATED
WEBHOOK_DELETED = EventType.WEBHOOK_DELETED
WEBHOOK_DISABLED = EventType.WEBHOOK_DISABLED


class ActorPayload(TypedDict):
    """Who caused the event (`Actor.as_payload()`): kind contact/agent/api/workflow/system."""

    kind: str
    agent_id: int | None


# -- messages --------------------------------------------------------------------------------
class AttachmentRef(TypedDict):
    id: int
    kind: str  # an AttachmentKind


class MessageReceivedPayload(TypedDict):
    message_id: int
    channel_id: int
    text: str
    attachments: NotRequired[list[AttachmentRef]]  # present when the message carries any


class TemplatePayload(TypedDict):
    """A template message: the channel's template, and the texts of its body parameters."""

    name: str
    language: str
    parameters: list[str]


class MessageSentPayload(TypedDict):
    message_id: int
    author: ActorPayload
    text: str
    quick_replies: list[str]
    attachments: NotRequired[list[AttachmentRef]]  # present when the message carries any
    template: NotRequired[TemplatePayload]  # a template message (`text` is its readable form)


class AttachmentUpdatedPayload(TypedDict):
    attachment_id: int
    message_id: int
    state: str  # an AttachmentState: ready, or failed with `error`
    error: str | None


class MessageDeliveryUpdatedPayload(TypedDict):
    message_id: int
    status: str  # a DeliveryStatus: sent or failed; then delivered, read (or failed) as a provider reports them
    attempts: int
    error: str | None


class NoteAddedPayload(TypedDict):
    message_id: int
    author: ActorPayload
    text: str
    attachments: NotRequired[list[AttachmentRef]]  # present when the note carries any


# -- conversations ---------------------------------------------------------------------------
class ConversationOpenedPayload(TypedDict):
    source: str  # Source: contact/agent/workflow/api
    channel_id: int | None
    actor: ActorPayload


class ConversationClosedPayload(TypedDict):
    actor: ActorPayload
    note: str | None
    category: str | None
    assignee_id: int | None


class ConversationReopenedPayload(TypedDict):
    actor: ActorPayload
    assignee_id: int | None


class ConversationAssignedPayload(TypedDict):
    agent_id: int | None  # None: the team's queue keeps it
    team_id: int | None
    previous_agent_id: int | None
    strategy: str | None  # manual, direct, or the team's strategy
    reason: str
    actor: ActorPayload


class ConversationUnassignedPayload(TypedDict):
    previous_agent_id: int | None
    actor: ActorPayload
    reason: NotRequired[str]  # when the system took it back (agent away, no first reply)


class ConversationQueuedPayload(TypedDict):
    team_id: int
    priority: int
    skills: dict[str, str]


class ConversationRatedPayload(TypedDict):
    """The contact's CSAT rating of one close (1-5), with the conversation's agent, team and channel
    when it was rated: the reports count it for them."""

    conversation_id: int
    rating: int
    comment: NotRequired[str]  # present when the contact wrote one
    agent_id: int | None
    team_id: int | None
    channel_id: int | None


# -- contacts --------------------------------------------------------------------------------
class ContactCreatedPayload(TypedDict):
    channel_id: int
    external_id: str
    name: str | None


class ContactChanges(TypedDict):
    name: NotRequired[str | None]
    owner_agent_id: NotRequired[int | None]
    fields: list[str]  # the keys whose value changed
    tags_added: list[str]
    tags_removed: list[str]


class ContactUpdatedPayload(TypedDict):
    changes: ContactChanges
    actor: ActorPayload


class ContactFieldUpdatedPayload(TypedDict):
    field: str
    old: FieldValue  # None: it was unset
    new: FieldValue  # None: it is cleared
    actor: ActorPayload


class ContactTagPayload(TypedDict):
    tag: str
    actor: ActorPayload


class ContactOptOutChangedPayload(TypedDict):
    channel_id: int
    opted_out: bool  # True: the contact sent STOP, and messages to them on the channel are refused
    keyword: str  # what they sent (STOP, UNSUBSCRIBE, START, …)
    actor: ActorPayload  # the contact


# -- people ----------------------------------------------------------------------------------
class AgentCreatedPayload(TypedDict):
    agent_id: int
    role: str
    availability: str  # since 0023 (an older event lacks it: the agent started offline)
    actor: ActorPayload


class AgentUpdatedPayload(TypedDict):
    agent_id: int
    changed: list[str]  # the names of the changed settings, never their values
    actor: ActorPayload


class AgentAvailabilityChangedPayload(TypedDict):
    agent_id: int
    old: str
    new: str
    actor: ActorPayload


class TeamCreatedPayload(TypedDict):
    team_id: int
    name: str
    actor: ActorPayload


class TeamUpdatedPayload(TypedDict):
    team_id: int
    changed: list[str]
    actor: ActorPayload


class TeamMemberPayload(TypedDict):
    team_id: int
    agent_id: int
    actor: ActorPayload


# -- configuration ---------------------------------------------------------------------------
class ChannelUpdatedPayload(TypedDict):
    channel_id: int
    changed: list[str]  # e.g. name, callback_url, allowed_origins, secret
    actor: ActorPayload


class SecretPayload(TypedDict):
    """The name and who set or deleted it, never the value."""

    name: str
    actor: ActorPayload


class WorkflowPublishedPayload(TypedDict):
    workflow_id: int
    version: int
    actor: ActorPayload


class WorkflowPayload(TypedDict):
    workflow_id: int
    actor: ActorPayload


# -- outgoing webhooks ----------------------------------------------------------------------
class WebhookCreatedPayload(TypedDict):
    webhook_id: int
    url: str
    event_types: list[str]
    actor: ActorPayload


class WebhookUpdatedPayload(TypedDict):
    webhook_id: int
    changed: list[str]  # url, event_types, enabled, secret, position (a replay); never the secret
    actor: ActorPayload


class WebhookDeletedPayload(TypedDict):
    webhook_id: int
    actor: ActorPayload


class WebhookDisabledPayload(TypedDict):
    """A subscription whose deliveries kept failing was switched off; admins re-enable it."""

    webhook_id: int
    url: str
    failing_since: str  # ISO 8601, UTC: the first failure of the run that disabled it
    error: str  # the last attempt's


PAYLOADS: dict[EventType, type[Mapping[str, object]]] = {
    EventType.MESSAGE_RECEIVED: MessageReceivedPayload,
    EventType.MESSAGE_SENT: MessageSentPayload,
    EventType.MESSAGE_DELIVERY_UPDATED: MessageDeliveryUpdatedPayload,
    EventType.ATTACHMENT_UPDATED: AttachmentUpdatedPayload,
    EventType.NOTE_ADDED: NoteAddedPayload,
    EventType.CONVERSATION_OPENED: ConversationOpenedPayload,
    EventType.CONVERSATION_CLOSED: ConversationClosedPayload,
    EventType.CONVERSATION_REOPENED: ConversationReopenedPayload,
    EventType.CONVERSATION_ASSIGNED: ConversationAssignedPayload,
    EventType.CONVERSATION_UNASSIGNED: ConversationUnassignedPayload,
    EventType.CONVERSATION_QUEUED: ConversationQueuedPayload,
    EventType.CONVERSATION_RATED: ConversationRatedPayload,
    EventType.CONTACT_CREATED: ContactCreatedPayload,
    EventType.CONTACT_UPDATED: ContactUpdatedPayload,
    EventType.CONTACT_FIELD_UPDATED: ContactFieldUpdatedPayload,
    EventType.CONTACT_TAG_ADDED: ContactTagPayload,
    EventType.CONTACT_TAG_REMOVED: ContactTagPayload,
    EventType.AGENT_CREATED: AgentCreatedPayload,
    EventType.AGENT_UPDATED: AgentUpdatedPayload,
    EventType.AGENT_AVAILABILITY_CHANGED: AgentAvailabilityChangedPayload,
    EventType.TEAM_CREATED: TeamCreatedPayload,
    EventType.TEAM_UPDATED: TeamUpdatedPayload,
    EventType.TEAM_MEMBER_ADDED: TeamMemberPayload,
    EventType.TEAM_MEMBER_REMOVED: TeamMemberPayload,
    EventType.CHANNEL_UPDATED: ChannelUpdatedPayload,
    EventType.SECRET_SET: SecretPayload,
    EventType.SECRET_DELETED: SecretPayload,
    EventType.WORKFLOW_PUBLISHED: WorkflowPublishedPayload,
    EventType.WORKFLOW_ENABLED: WorkflowPayload,
    EventType.WORKFLOW_DISABLED: WorkflowPayload,
    EventType.CONTACT_OPT_OUT_CHANGED: ContactOptOutChangedPayload,
    EventType.WEBHOOK_CREATED: WebhookCreatedPayload,
    EventType.WEBHOOK_UPDATED: WebhookUpdatedPayload,
    EventType.WEBHOOK_DELETED: WebhookDeletedPayload,
    EventType.WEBHOOK_DISABLED: WebhookDisabledPayload,
}
"""Each event type's payload shape (a TypedDict class), for readers and the test that holds
every emitted payload to it."""

# What `emit` takes: a payload of one of the shapes above (actions/events.py types its
# parameter with it once every emitter passes a declared shape).
Payload = (
    MessageReceivedPayload
    | MessageSentPayload
    | MessageDeliveryUpdatedPayload
    | AttachmentUpdatedPayload
    | NoteAddedPayload
    | ConversationOpenedPayload
    | ConversationClosedPayload
    | ConversationReopenedPayload
    | ConversationAssignedPayload
    | ConversationUnassignedPayload
    | ConversationQueuedPayload
    | ConversationRatedPayload
    | ContactCreatedPayload
    | ContactUpdatedPayload
    | ContactFieldUpdatedPayload
    | ContactTagPayload
    | AgentCreatedPayload
    | AgentUpdatedPayload
    | AgentAvailabilityChangedPayload
    | TeamCreatedPayload
    | TeamUpdatedPayload
    | TeamMemberPayload
    | ChannelUpdatedPayload
    | SecretPayload
    | WorkflowPublishedPayload
    | WorkflowPayload
    | ContactOptOutChangedPayload
    | WebhookCreatedPayload
    | WebhookUpdatedPayload
    | WebhookDeletedPayload
    | WebhookDisabledPayload
)
