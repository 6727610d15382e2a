"""Rotating a channel secret: the new one signs at once, the old one verifies inbound calls
during a grace period so the sender can switch without a gap."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import httpx
import pytest
from litestar.testing import TestClient
from sqlalchemy import update

from frontdesk.channels import signing
from frontdesk.server import create_app
from frontdesk.settings import Settings
from frontdesk.store.tables import channels
from tests.channels.test_delivery import Receiver, reply, settled
from tests.channels.test_webchat import Visitor, webchat_channel
from tests.factories import Api, dumps, eventually, make_token

BODY = dumps({"contact": {"external_id": "ada"}, "message": {"id": "m-1", "text": "Hello"}})


@pytest.fixture
def settings(db_url: str) -> Settings:
    """No token cache: what a rotation changes is seen on the next request."""
    return Settings(database_url=db_url, log_format="text", token_cache_seconds=0, delivery_backoff_seconds=0.05)


def signed_inbound(admin: Api, channel_id: int, secret: str, message_id: str = "m-1") -> httpx.Response:
    body = dumps({"contact": {"external_id": "ada"}, "message": {"id": message_id, "text": "Hello"}})
    headers = {"content-type": "application/json", **signing.signed_headers(secret, body)}
    return admin.client.post(f"/api/v1/channels/{channel_id}/inbound", content=body, headers=headers)


def rotate(admin: Api, channel_id: int) -> httpx.Response:
    return admin.post(f"/api/v1/channels/{channel_id}/secret/rotate")


def test_a_rotation_returns_a_new_secret_once_and_both_secrets_verify_inbound_during_the_grace(admin: Api) -> None:
    channel = admin.channel()
    old = channel["secret"]

    response = rotate(admin, channel["id"])

    assert response.status_code == 200, response.text
    new = response.json()["secret"]
    assert new != old
    until = dt.datetime.fromisoformat(response.json()["previous_secret_until"])
    assert dt.timedelta(hours=23) < until - dt.datetime.now(dt.UTC) <= dt.timedelta(hours=24)
    assert signed_inbound(admin, channel["id"], new, "m-new").status_code == 200
    assert signed_inbound(admin, channel["id"], old, "m-old").status_code == 200
    shown = admin.get(f"/api/v1/channels/{channel['id']}").json()
    assert new not in str(shown) and old not in str(shown)
    assert [e["payload"]["changed"] for e in admin.events(type="channel.updated")] == [["secret"]]


def test_the_old_secret_is_refused_once_its_grace_period_is_over(admin: Api) -> None:
    channel = admin.channel()
    old = channel["secret"]
    new = rotate(admin, channel["id"]).json()["secret"]
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    admin.db.write_sync(lambda c: c.execute(update(channels).values(previous_secret_until=past)))

    refused = signed_inbound(admin, channel["id"], old, "m-old")

    assert refused.status_code == 401
    assert refused.json()["error"] == "bad_signature"
    assert signed_inbound(admin, channel["id"], new, "m-new").status_code == 200


@pytest.fixture
def no_grace_admin(settings: Settings) -> Iterator[Api]:
    with TestClient(create_app(settings.model_copy(update={"secret_rotation_grace_hours": 0}))) as client:
        yield Api(client, make_token(client.app.state.db, "admin"))


def test_with_no_grace_period_the_old_secret_stops_at_once(no_grace_admin: Api) -> None:
    admin = no_grace_admin
    channel = admin.channel()

    new = rotate(admin, channel["id"]).json()["secret"]

    assert signed_inbound(admin, channel["id"], channel["secret"]).status_code == 401
    assert signed_inbound(admin, channel["id"], new).status_code == 200


def test_replies_are_signed_with_the_new_secret_as_soon_as_it_is_made(admin: Api) -> None:
    receiver = Receiver()
    try:
        channel = admin.channel(receiver.url)
        conversation_id = admin.inbound(channel["id"], "ada", "Hello").json()["conversation_id"]
        receiver.secret = rotate(admin, channel["id"]).json()["secret"]

        sent = reply(admin, conversation_id, "Signed anew")
        message = eventually(lambda: settled(admin, conversation_id, sent["id"]), "the delivery")

        assert message["delivery_status"] == "sent"
        [request] = receiver.requests
        assert request.problem is None  # verified with the new secret
    finally:
        receiver.close()


@pytest.mark.parametrize("role", ["agent", "manager"])
def test_only_an_admin_may_rotate_a_channel_secret(admin: Api, role: str) -> None:
    channel = admin.channel()
    caller = Api(admin.client, make_token(admin.db, role))

    response = rotate(caller, channel["id"])

    assert response.status_code == 403
    assert signed_inbound(admin, channel["id"], channel["secret"]).status_code == 200


def test_rotating_a_channel_that_does_not_exist_is_a_404(admin: Api) -> None:
    response = rotate(admin, 424242)

    assert response.status_code == 404
    assert response.json()["error"] == "channel_not_found"


def test_a_web_chat_visitor_keeps_their_session_through_the_grace_period_only(admin: Api) -> None:
    channel_id = webchat_channel(admin)
    visitor = Visitor(admin.client, channel_id)
    assert visitor.say("Hello").status_code in (200, 201)

    assert rotate(admin, channel_id).status_code == 200

    assert [m["text"] for m in visitor.read()] == ["Hello"]
    assert Visitor(admin.client, channel_id).read() == []  # a new session, under the new secret
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    admin.db.write_sync(lambda c: c.execute(update(channels).values(previous_secret_until=past)))
    expired = admin.client.get(f"{visitor.path}/messages", headers=visitor.headers)
    assert expired.status_code == 401
