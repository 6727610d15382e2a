"""Changing a channel: PATCH /api/v1/channels/{id} renames it, sets or removes an API channel's
callback, changes the sites a web chat accepts; refused input names the field and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from tests.factories import Api, make_token

SHOP = "https://shop.example"
NEW_SHOP = "https://new-shop.example"


def webchat(admin: Api, origins: list[str]) -> dict[str, Any]:
    response = admin.post("/api/v1/channels", {"type": "webchat", "name": "Chat", "allowed_origins": origins})
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_an_admin_renames_an_api_channel_and_sets_its_callback(admin: Api) -> None:
    channel = admin.channel()

    response = admin.patch(
        f"/api/v1/channels/{channel['id']}", {"name": "Shop backend", "callback_url": "https://shop.example/hook"}
    )

    assert response.status_code == 200, response.text
    shown = admin.get(f"/api/v1/channels/{channel['id']}").json()
    assert (shown["name"], shown["config"]["callback_url"]) == ("Shop backend", "https://shop.example/hook")
    assert "secret" not in response.json() and "secret" not in shown
    changed = [e for e in admin.events(type="channel.updated") if e["payload"]["channel_id"] == channel["id"]]
    assert [e["payload"]["changed"] for e in changed] == [["callback_url", "name"]]


def test_a_null_callback_stops_replies_being_pushed(admin: Api) -> None:
    channel = admin.channel(callback_url="https://shop.example/hook")

    response = admin.patch(f"/api/v1/channels/{channel['id']}", {"callback_url": None})

    assert response.status_code == 200, response.text
    assert response.json()["config"]["callback_url"] is None
    assert response.json()["name"] == "Test"  # what was not sent is kept


def test_replies_go_to_the_new_callback_from_then_on(admin: Api) -> None:
    channel = admin.channel()
    receipt = admin.inbound(channel["id"], "ada", "Hello").json()
    patched = admin.patch(f"/api/v1/channels/{channel['id']}", {"callback_url": "http://127.0.0.1:9/hook"})
    assert patched.status_code == 200, patched.text

    reply = admin.post(f"/api/v1/conversations/{receipt['conversation_id']}/messages", {"text": "Hi Ada"})

    assert reply.json()["delivery_status"] in ("pending", "failed")  # it is on its way, no longer only stored


def test_a_web_chat_accepts_the_sites_it_now_lists_and_refuses_the_ones_it_dropped(
    client: TestClient,  # type: ignore[type-arg]
    admin: Api,
) -> None:
    channel = webchat(admin, [SHOP])

    response = admin.patch(f"/api/v1/channels/{channel['id']}", {"allowed_origins": ["HTTPS://New-Shop.Example/"]})

    assert response.status_code == 200, response.text
    assert response.json()["config"] == {"allowed_origins": [NEW_SHOP]}
    path = f"/webchat/{channel['id']}/session"
    assert client.post(path, json={}, headers={"Origin": NEW_SHOP}).status_code == 200
    assert client.post(path, json={}, headers={"Origin": SHOP}).status_code == 403


def test_sending_what_a_channel_already_has_changes_nothing(admin: Api) -> None:
    channel = admin.channel()
    before = admin.events()

    response = admin.patch(f"/api/v1/channels/{channel['id']}", {"name": channel["name"]})

    assert response.status_code == 200, response.text
    assert admin.events() == before


BAD: list[tuple[str, dict[str, Any], int, str, str]] = [
    ("api", {"allowed_origins": [SHOP]}, 422, "not_for_api", "allowed_origins"),
    ("webchat", {"callback_url": "https://shop.example/hook"}, 422, "not_for_webchat", "callback_url"),
    ("webchat", {"allowed_origins": ["shop.example"]}, 422, "invalid_origin", "allowed_origins.0"),
    ("webchat", {"name": "Ok", "allowed_origins": ["https://shop.example/path"]}, 422, "invalid_origin", "path"),
    ("api", {"name": "   "}, 422, "invalid_name", "name"),
    ("api", {"name": "Ok", "callback_url": "not a url"}, 400, "invalid_request", "callback_url"),
    ("api", {"name": None}, 400, "invalid_request", "name: Value error, may be left out, but not null"),
    ("webchat", {"allowed_origins": None}, 400, "invalid_request", "allowed_origins"),
    ("api", {"secret": "mine"}, 400, "invalid_request", "secret: Extra inputs are not permitted"),
]


@pytest.mark.parametrize(("kind", "body", "status", "code", "mention"), BAD, ids=[f"{c[0]} {c[3]}" for c in BAD])
def test_a_bad_change_is_refused_naming_the_field_and_the_channel_stays_as_it_was(
    admin: Api, kind: str, body: dict[str, Any], status: int, code: str, mention: str
) -> None:
    channel = admin.channel() if kind == "api" else webchat(admin, [SHOP])
    before = admin.get(f"/api/v1/channels/{channel['id']}").json()
    events = admin.events()

    response = admin.patch(f"/api/v1/channels/{channel['id']}", body)

    assert response.status_code == status, response.text
    assert response.json()["error"] == code
    assert mention in response.json()["detail"]
    assert admin.get(f"/api/v1/channels/{channel['id']}").json() == before
    assert admin.events() == events


@pytest.mark.parametrize("role", ["agent", "manager"])
def test_only_an_admin_may_change_a_channel(admin: Api, role: str) -> None:
    channel = admin.channel()
    other = Api(admin.client, make_token(admin.db, role))

    response = other.patch(f"/api/v1/channels/{channel['id']}", {"name": "Mine now"})

    assert response.status_code == 403, response.text
    assert "admin" in response.json()["detail"]
    assert admin.get(f"/api/v1/channels/{channel['id']}").json()["name"] == "Test"
