"""Every event the product writes has the payload its type declares in domain/events.py: the
keys (no more, no fewer) and the type of each value, nested shapes included."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, get_args, get_type_hints, is_typeddict

import msgspec
import pytest
from litestar.testing import TestClient

from frontdesk.actions.conversations import add_note, send_message
from frontdesk.domain.attachments import NewAttachment
from frontdesk.domain.events import PAYLOADS, EventType
from frontdesk.domain.model import SYSTEM, AttachmentKind
from frontdesk.server import create_app
from frontdesk.settings import Settings
from tests.channels import twilio_support
from tests.engine.webhook_support import failing_for_two_days
from tests.factories import Api, eventually, make_token

WORKFLOW = {
    "name": "Say bye",
    "trigger": {"event": "conversation.closed"},
    "steps": [{"id": "bye", "type": "send_message", "text": "Bye!"}],
}


@pytest.fixture
def admin(settings: Settings) -> Iterator[Api]:
    """Deliveries fail on their first attempt, so `message.delivery_updated` is written at once."""
    with TestClient(create_app(settings.model_copy(update={"delivery_max_attempts": 1}))) as client:
        yield Api(client, make_token(client.app.state.db, "admin"))


def _ok(response: Any) -> dict[str, Any]:
    assert response.status_code in (200, 201, 204), response.text
    return dict(response.json()) if response.content else {}


def _keys_match(shape: Any, value: Any, where: str) -> None:
    """The keys of `value` are those `shape` declares, recursively into nested shapes."""
    assert isinstance(value, Mapping), where
    required, optional = shape.__required_keys__, shape.__optional_keys__
    assert required <= set(value) <= required | optional, f"{where}: {sorted(value)}"
    for key, hint in get_type_hints(shape).items():
        nested = [h for h in (hint, *get_args(hint)) if is_typeddict(h)]
        found = value.get(key)
        if nested and found is not None:
            for n, item in enumerate(found if isinstance(found, list) else [found]):
                _keys_match(nested[0], item, f"{where}.{key}[{n}]")


def _office_day(admin: Api) -> None:
    """A bit of everything: contacts, conversations, people, channels, secrets, workflows."""
    _ok(admin.post("/api/v1/contact-fields", {"key": "plan", "label": "Plan", "type": "text"}))
    channel = admin.channel(callback_url="http://127.0.0.1:9/callback")  # nobody listens: delivery fails
    receipt = _ok(admin.inbound(channel["id"], "ada", "Hello", name="Ada"))
    conversation = f"/api/v1/conversations/{receipt['conversation_id']}"
    contact = f"/api/v1/contacts/{receipt['contact_id']}"
    _ok(admin.patch(contact, {"name": "Ada L.", "fields": {"plan": "pro"}, "add_tags": ["vip"]}))
    _ok(admin.patch(contact, {"remove_tags": ["vip"]}))
    agent = _ok(admin.post("/api/v1/agents", {"name": "Sam", "email": "sam@example.test"}))
    _ok(admin.patch(f"/api/v1/agents/{agent['id']}", {"availability": "online", "capacity": 3}))
    team = _ok(admin.post("/api/v1/teams", {"name": "Sales"}))
    _ok(admin.patch(f"/api/v1/teams/{team['id']}", {"away_message": "Back at nine"}))
    _ok(admin.post(f"{conversation}/assign", {"team_id": team["id"]}))  # no member yet: queued
    _ok(admin.put(f"/api/v1/teams/{team['id']}/members/{agent['id']}"))  # the queue moves to Sam
    _ok(admin.post(f"{conversation}/messages", {"text": "Hi Ada"}))
    admin.db.write_sync(lambda c: add_note(c, receipt["conversation_id"], SYSTEM, "VIP"))
    # A link to fetch on a private address: the media fetcher's guard refuses it (attachment.updated).
    link = NewAttachment(AttachmentKind.IMAGE, source_url="http://127.0.0.1:9/photo.png")
    admin.db.write_sync(lambda c: send_message(c, receipt["conversation_id"], SYSTEM, "", attachments=[link]))
    _ok(admin.post(f"{conversation}/unassign"))
    _ok(admin.delete(f"/api/v1/teams/{team['id']}/members/{agent['id']}"))
    _ok(admin.patch(f"/api/v1/channels/{channel['id']}", {"csat_survey": True}))
    _ok(admin.post(f"{conversation}/close", {"note": "done", "category": "faq"}))  # and a CSAT survey link
    _ok(admin.post(f"{conversation}/rating", {"rating": 4, "comment": "Quick"}))
    _ok(admin.post(f"{conversation}/reopen"))
    _ok(admin.patch(f"/api/v1/channels/{channel['id']}", {"name": "Website API"}))
    _ok(admin.post(f"/api/v1/channels/{channel['id']}/secret/rotate"))
    _ok(admin.put("/api/v1/secrets/CRM_KEY", {"value": "sk-1"}))
    _ok(admin.delete("/api/v1/secrets/CRM_KEY"))
    workflow = _ok(admin.post("/api/v1/workflows", {"definition": WORKFLOW}))
    _ok(admin.post(f"/api/v1/workflows/{workflow['id']}/publish"))
    _ok(admin.post(f"/api/v1/workflows/{workflow['id']}/enable"))
    _ok(admin.post(f"/api/v1/workflows/{workflow['id']}/disable"))
    _sms_stop(admin)
    _webhooks(admin)


def _webhooks(admin: Api) -> None:
    """A subscription created, paused and deleted (nothing is sent); another one's deliveries
    failing for two days, which disables it (webhook.disabled)."""
    hook = _ok(
        admin.post("/api/v1/webhooks", {"url": "https://93.184.215.14/hook", "event_types": ["webhook.deleted"]})
    )
    _ok(admin.patch(f"/api/v1/webhooks/{hook['id']}", {"enabled": False}))
    _ok(admin.delete(f"/api/v1/webhooks/{hook['id']}"))
    admin.db.write_sync(lambda c: failing_for_two_days(c, "http://127.0.0.1:9/hook", ["contact.created"]))


def _sms_stop(admin: Api) -> None:
    """A contact texts STOP to an SMS channel (contact.opt_out_changed)."""
    sms = twilio_support.create_channel(admin)
    url = f"{admin.client.base_url}/webhooks/twilio/{sms['id']}"  # no FRONTDESK_PUBLIC_URL: the request's own
    assert twilio_support.post_webhook(admin, sms["id"], twilio_support.webhook("stop"), url=url).status_code == 200


def test_every_event_written_has_the_payload_its_type_declares(admin: Api) -> None:
    _office_day(admin)
    eventually(lambda: admin.events(type="message.delivery_updated") or None, "the failed delivery")
    eventually(lambda: admin.events(type="attachment.updated") or None, "the refused fetch")

    written = admin.events()

    assert {e["type"] for e in written} == set(EventType)
    for event in written:
        shape = PAYLOADS[EventType(event["type"])]
        where = f"{event['type']} #{event['id']}"
        _keys_match(shape, event["payload"], where)
        msgspec.convert(event["payload"], shape, strict=True)  # raises naming the value of the wrong type
