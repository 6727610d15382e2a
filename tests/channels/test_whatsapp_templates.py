"""WhatsApp template messages: configured on the channel, sent from the API (also outside the
24-hour window, which refuses free-form text), in Meta's Cloud API format to a fake Graph API."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

from frontdesk.channels.whatsapp import message_body
from frontdesk.domain.records import Outbound
from frontdesk.settings import Settings
from tests.channels import telegram_support
from tests.channels.conversations import one_conversation
from tests.channels.whatsapp_support import FakeGraph, create_channel, payload, post_webhook
from tests.engine.support import thread
from tests.factories import Api, eventually

WA_ID = "16505551234"
ORDER_UPDATE = {"name": "order_update", "language": "en_US", "parameters": 2}
HELLO = {"name": "hello_world", "language": "en_US", "parameters": 0}


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    fake = FakeGraph()
    yield fake
    fake.close()


@pytest.fixture
def settings(db_url: str, graph: FakeGraph) -> Settings:
    return Settings(
        database_url=db_url, delivery_backoff_seconds=0.05, log_format="text", whatsapp_graph_base_url=graph.url
    )


@pytest.fixture
def channel(admin: Api) -> dict[str, Any]:
    made = create_channel(admin)
    response = admin.patch(f"/api/v1/channels/{made['id']}", {"templates": [ORDER_UPDATE, HELLO]})
    assert response.status_code == 200, response.text
    return dict(response.json())


def age_inbound_messages(admin: Api, hours: float) -> None:
    when = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours)).replace(tzinfo=None).isoformat(sep=" ")
    admin.db.write_sync(
        lambda c: c.execute(text("UPDATE messages SET created_at = :at WHERE direction = 'in'"), {"at": when})
    )


def contact_wrote_long_ago(admin: Api, channel: dict[str, Any]) -> int:
    post_webhook(admin, channel["id"], payload("text"))
    age_inbound_messages(admin, 30)
    return one_conversation(admin)


def send_template(admin: Api, conversation_id: int, **body: Any) -> Any:
    return admin.post(f"/api/v1/conversations/{conversation_id}/template", body)


# -- the channel's templates -------------------------------------------------------------------
def test_a_channels_templates_are_configured_and_shown_with_it(admin: Api, channel: dict[str, Any]) -> None:
    assert channel["config"]["templates"] == [ORDER_UPDATE, HELLO]
    assert admin.get(f"/api/v1/channels/{channel['id']}").json()["config"]["templates"] == [ORDER_UPDATE, HELLO]


def test_a_channel_can_be_created_with_its_templates(admin: Api) -> None:
    body = {
        "type": "whatsapp",
        "name": "WA",
        "phone_number_id": "1",
        "access_token": "a",
        "app_secret": "s",
        "verify_token": "v",
        "templates": [HELLO],
    }
    response = admin.post("/api/v1/channels", body)

    assert response.status_code == 201, response.text
    assert response.json()["config"]["templates"] == [HELLO]


@pytest.mark.parametrize(
    ("templates", "where"),
    [
        ([{"name": "Order Update", "language": "en_US", "parameters": 1}], "name"),
        ([{"name": "order_update", "language": "english", "parameters": 1}], "language"),
        ([{"name": "order_update", "language": "en", "parameters": -1}], "parameters"),
        ([HELLO, HELLO], "listed twice"),
    ],
)
def test_a_malformed_template_list_is_refused_and_changes_nothing(
    admin: Api, channel: dict[str, Any], templates: list[dict[str, Any]], where: str
) -> None:
    response = admin.patch(f"/api/v1/channels/{channel['id']}", {"templates": templates})

    assert response.status_code in (400, 422), response.text
    assert where in response.text
    assert admin.get(f"/api/v1/channels/{channel['id']}").json()["config"]["templates"] == [ORDER_UPDATE, HELLO]


def test_other_channel_types_do_not_take_templates(admin: Api) -> None:
    response = admin.post("/api/v1/channels", {"type": "api", "name": "API", "templates": [HELLO]})

    assert response.status_code == 422, response.text
    assert response.json()["field"] == "templates"


# -- sending one -------------------------------------------------------------------------------
def test_a_template_goes_out_in_metas_format_even_outside_the_24_hour_window(
    admin: Api, channel: dict[str, Any], graph: FakeGraph
) -> None:
    conversation_id = contact_wrote_long_ago(admin, channel)
    refused = admin.post(f"/api/v1/conversations/{conversation_id}/messages", {"text": "Your order?"})
    assert (refused.status_code, refused.json()["error"]) == (409, "outside_reply_window")

    response = send_template(admin, conversation_id, name="order_update", language="en_US", parameters=["Ada", "#1042"])

    assert response.status_code == 201, response.text
    stored = response.json()
    assert stored["text"] == "[template order_update (en_US)] Ada · #1042"
    assert stored["template"] == {"name": "order_update", "language": "en_US", "parameters": ["Ada", "#1042"]}
    [request] = eventually(lambda: graph.sent, "the send")
    assert request.problem is None
    assert request.body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": WA_ID,
        "type": "template",
        "template": {
            "name": "order_update",
            "language": {"code": "en_US"},
            "components": [
                {"type": "body", "parameters": [{"type": "text", "text": "Ada"}, {"type": "text", "text": "#1042"}]}
            ],
        },
    }
    sent = eventually(
        lambda: next(m for m in thread(admin, conversation_id) if m["id"] == stored["id"])["delivery_status"] == "sent",
        "the delivery",
    )
    assert sent


def test_a_template_without_parameters_sends_no_components(admin: Api, channel: dict[str, Any]) -> None:
    conversation_id = contact_wrote_long_ago(admin, channel)

    response = send_template(admin, conversation_id, name="hello_world", language="en_US")

    assert response.status_code == 201, response.text
    assert response.json()["text"] == "[template hello_world (en_US)]"


def test_an_unknown_template_is_refused_naming_the_known_ones_and_nothing_is_stored(
    admin: Api, channel: dict[str, Any], graph: FakeGraph
) -> None:
    conversation_id = contact_wrote_long_ago(admin, channel)

    response = send_template(admin, conversation_id, name="order_update", language="fr", parameters=["a", "b"])

    assert response.status_code == 422, response.text
    assert (response.json()["error"], response.json()["field"]) == ("unknown_template", "name")
    assert "order_update (en_US), hello_world (en_US)" in response.json()["detail"]
    assert [m["direction"] for m in thread(admin, conversation_id)] == ["in"]
    assert graph.sent == []


def test_the_wrong_number_of_parameters_is_refused(admin: Api, channel: dict[str, Any]) -> None:
    conversation_id = contact_wrote_long_ago(admin, channel)

    response = send_template(admin, conversation_id, name="order_update", language="en_US", parameters=["Ada"])

    assert response.status_code == 422, response.text
    assert response.json()["error"] == "wrong_parameter_count"
    assert "takes 2 parameter(s), not 1" in response.json()["detail"]
    assert [m["direction"] for m in thread(admin, conversation_id)] == ["in"]


def test_a_template_on_a_channel_without_templates_is_a_conflict(admin: Api) -> None:
    channel = telegram_support.create_channel(admin)
    telegram_support.post_update(admin, channel["id"], telegram_support.update("text"))
    conversation_id = one_conversation(admin)

    response = send_template(admin, conversation_id, name="hello_world", language="en_US")

    assert response.status_code == 409, response.text
    assert response.json()["error"] == "templates_not_supported"
    assert "telegram" in response.json()["detail"]
    assert len(thread(admin, conversation_id)) == 1


def test_the_template_message_is_announced_with_its_template(admin: Api, channel: dict[str, Any]) -> None:
    conversation_id = contact_wrote_long_ago(admin, channel)
    send_template(admin, conversation_id, name="order_update", language="en_US", parameters=["Ada", "#7"])

    [event] = [e for e in admin.get("/api/v1/events").json()["events"] if e["type"] == "message.sent"]

    assert event["payload"]["template"] == {"name": "order_update", "language": "en_US", "parameters": ["Ada", "#7"]}


def test_the_adapter_builds_metas_template_object() -> None:
    message = Outbound(
        id=1,
        channel_id=1,
        conversation_id=1,
        contact_id=1,
        external_id=WA_ID,
        text="[template hello_world (en_US)]",
        quick_replies=[],
        author_kind="agent",
        author_agent_id=None,
        created_at=dt.datetime(2026, 12, 3, tzinfo=dt.UTC),
        attempt=1,
        template={"name": "hello_world", "language": "en_US", "parameters": []},
    )

    assert message_body(message)["template"] == {"name": "hello_world", "language": {"code": "en_US"}}
