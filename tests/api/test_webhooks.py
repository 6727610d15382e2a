"""Webhook subscriptions by API: the secret shown once, then write-only; bad input refused naming
the field, nothing changed; replay, re-enable, rotate and delete, each with its event."""

from __future__ import annotations

from typing import Any

import pytest

from frontdesk.domain.webhooks import SECRET_PREFIX
from tests.factories import Api

PUBLIC_URL = "https://93.184.215.14/hook"  # an address literal: nothing is resolved
QUIET = ["webhook.disabled"]  # no test here causes one, so nothing is ever sent


def create(admin: Api, **body: Any) -> dict[str, Any]:
    response = admin.post("/api/v1/webhooks", {"url": PUBLIC_URL, "event_types": QUIET, **body})
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_the_secret_is_shown_once_in_the_standard_webhooks_form_and_never_listed(admin: Api) -> None:
    hook = create(admin)

    assert hook["secret"].startswith(SECRET_PREFIX)
    assert hook["enabled"] is True and hook["event_types"] == QUIET
    assert "secret" not in admin.get(f"/api/v1/webhooks/{hook['id']}").json()
    assert all("secret" not in listed for listed in admin.get("/api/v1/webhooks").json())
    created = admin.events(type="webhook.created")[-1]["payload"]
    assert created["webhook_id"] == hook["id"] and "secret" not in created


def test_rotating_gives_a_new_secret_once(admin: Api) -> None:
    hook = create(admin)

    rotated = admin.post(f"/api/v1/webhooks/{hook['id']}/secret/rotate")

    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["secret"].startswith(SECRET_PREFIX)
    assert rotated.json()["secret"] != hook["secret"]
    assert admin.events(type="webhook.updated")[-1]["payload"]["changed"] == ["secret"]


@pytest.mark.parametrize(
    ("body", "field", "named"),
    [
        ({"url": "ftp://93.184.215.14/hook"}, "url", "only http(s) URLs"),
        ({"url": "http://127.0.0.1:8000/hook"}, "url", "127.0.0.1"),
        ({"url": "http://10.1.2.3/hook"}, "url", "10.1.2.3"),
        ({"url": "http://[::ffff:192.168.0.1]/hook"}, "url", "192.168.0.1"),
        ({"event_types": ["message.received", "message.teleported"]}, "event_types", "message.teleported"),
    ],
)
def test_bad_input_is_refused_naming_it_and_nothing_changes(
    admin: Api, body: dict[str, Any], field: str, named: str
) -> None:
    before = admin.events()

    response = admin.post("/api/v1/webhooks", {"url": PUBLIC_URL, "event_types": QUIET, **body})

    assert response.status_code == 422, response.text
    assert response.json()["field"] == field
    assert named in response.json()["detail"]
    assert admin.get("/api/v1/webhooks").json() == []
    assert admin.events() == before


def test_a_change_to_a_bad_url_or_an_unknown_event_type_changes_nothing(admin: Api) -> None:
    hook = create(admin)
    path = f"/api/v1/webhooks/{hook['id']}"

    private = admin.patch(path, {"url": "http://192.168.1.10/hook"})
    unknown = admin.patch(path, {"event_types": ["contact.teleported"]})
    null = admin.patch(path, {"url": None})

    assert (private.status_code, private.json()["field"]) == (422, "url")
    assert (unknown.status_code, unknown.json()["field"]) == (422, "event_types")
    assert null.status_code == 400, null.text
    shown = admin.get(path).json()
    assert (shown["url"], shown["event_types"]) == (PUBLIC_URL, QUIET)


def test_replay_moves_the_cursor_back_to_just_before_the_chosen_event(admin: Api) -> None:
    hook = create(admin)
    first = admin.events()[0]["id"]

    replayed = admin.post(f"/api/v1/webhooks/{hook['id']}/replay", {"from_event_id": first})
    too_far = admin.post(f"/api/v1/webhooks/{hook['id']}/replay", {"from_event_id": 10**9})

    assert replayed.status_code == 200, replayed.text
    assert replayed.json()["position"] == first - 1
    assert (too_far.status_code, too_far.json()["field"]) == (422, "from_event_id")


def test_pausing_and_re_enabling_a_subscription(admin: Api) -> None:
    hook = create(admin)
    path = f"/api/v1/webhooks/{hook['id']}"

    paused = admin.patch(path, {"enabled": False}).json()
    enabled = admin.patch(path, {"enabled": True}).json()

    assert paused["enabled"] is False
    assert enabled["enabled"] is True and enabled["disabled_at"] is None
    assert [e["payload"]["changed"] for e in admin.events(type="webhook.updated")] == [["enabled"], ["enabled"]]


def test_a_deleted_subscription_is_gone_and_its_id_is_404(admin: Api) -> None:
    hook = create(admin)

    assert admin.delete(f"/api/v1/webhooks/{hook['id']}").status_code == 204
    missing = admin.get(f"/api/v1/webhooks/{hook['id']}")
    assert (missing.status_code, missing.json()["error"]) == (404, "webhook_not_found")
    assert admin.get(f"/api/v1/webhooks/{hook['id']}/deliveries").status_code == 404
    assert admin.delete(f"/api/v1/webhooks/{hook['id']}").status_code == 404
