"""Event names are one enum, each with its payload shape; the old constants still name them."""

from __future__ import annotations

from typing import is_typeddict

from frontdesk.domain import events as ev
from frontdesk.domain.events import PAYLOADS, EventType


def test_every_event_type_has_a_payload_shape() -> None:
    assert set(PAYLOADS) == set(EventType)
    assert all(is_typeddict(shape) for shape in PAYLOADS.values())


def test_payloads_name_their_actor_except_those_of_contacts_deliveries_and_queues() -> None:
    anonymous = {
        EventType.MESSAGE_RECEIVED,
        EventType.MESSAGE_SENT,  # `author` instead
        EventType.NOTE_ADDED,  # `author` instead
        EventType.MESSAGE_DELIVERY_UPDATED,
        EventType.ATTACHMENT_UPDATED,  # the media fetcher, no one else
        EventType.CONVERSATION_QUEUED,
        EventType.CONTACT_CREATED,
        EventType.WEBHOOK_DISABLED,  # the webhook sender, after a day of failures
        EventType.CONVERSATION_RATED,  # the contact's rating (on the survey page, or posted for them)
    }
    named = {kind for kind, shape in PAYLOADS.items() if "actor" in shape.__required_keys__}
    assert named == set(EventType) - anonymous


def test_event_types_are_the_strings_stored_in_the_log() -> None:
    assert ev.MESSAGE_RECEIVED is EventType.MESSAGE_RECEIVED
    assert ev.MESSAGE_RECEIVED == "message.received"
    assert f"{EventType.WORKFLOW_PUBLISHED}" == "workflow.published"
    assert EventType("team.updated") is EventType.TEAM_UPDATED
