"""The "check" of a channel's credentials (POST /api/v1/channels/{id}/check and the admin page's
button): the provider's identity endpoint, on the fake providers, answered plainly — never a 500."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from frontdesk.settings import Settings
from tests.channels import telegram_support as tg
from tests.channels import whatsapp_support as wa
from tests.channels.test_whatsapp_admin_page import csrf, logged_in_admin
from tests.conftest import free_port
from tests.factories import Api


@pytest.fixture
def graph() -> Iterator[wa.FakeGraph]:
    fake = wa.FakeGraph()
    yield fake
    fake.close()


@pytest.fixture
def bot_api() -> Iterator[tg.FakeBotApi]:
    fake = tg.FakeBotApi()
    yield fake
    fake.close()


@pytest.fixture
def reachable() -> bool:
    """Parametrize a test with `reachable=False` to point both providers at a closed port."""
    return True


@pytest.fixture
def settings(db_url: str, graph: wa.FakeGraph, bot_api: tg.FakeBotApi, reachable: bool) -> Settings:
    closed = f"http://127.0.0.1:{free_port()}"  # bound then released: nothing listens there
    return Settings(
        database_url=db_url,
        log_format="text",
        whatsapp_graph_base_url=graph.url if reachable else closed,
        telegram_base_url=bot_api.url if reachable else closed,
    )


def check(admin: Api, channel_id: int) -> dict[str, object]:
    response = admin.post(f"/api/v1/channels/{channel_id}/check")
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_a_whatsapp_channel_with_a_good_token_is_checked_ok_with_the_numbers_name(admin: Api) -> None:
    channel = wa.create_channel(admin)

    answer = check(admin, channel["id"])

    assert answer["outcome"] == "ok"
    assert answer["identity"] == {
        "id": wa.PHONE_NUMBER_ID,
        "display_phone_number": wa.DISPLAY_PHONE_NUMBER,
        "verified_name": wa.VERIFIED_NAME,
    }
    assert answer["detail"] == f"{wa.VERIFIED_NAME}, phone number {wa.DISPLAY_PHONE_NUMBER}"


def test_a_whatsapp_token_meta_refuses_fails_the_check_with_metas_reason(admin: Api) -> None:
    channel = wa.create_channel(admin)
    admin.patch(f"/api/v1/channels/{channel['id']}", {"access_token": "EAAG-revoked"})

    answer = check(admin, channel["id"])

    assert answer["outcome"] == "failed"
    assert answer["detail"] == (
        "WhatsApp refused the access token (HTTP 401: Invalid OAuth access token - Cannot parse access token)"
    )
    assert "EAAG-revoked" not in str(answer)


def test_a_telegram_channel_with_a_good_token_is_checked_ok_with_the_bots_username(admin: Api) -> None:
    channel = tg.create_channel(admin)

    answer = check(admin, channel["id"])

    assert answer["outcome"] == "ok"
    assert answer["detail"] == f"@{tg.BOT_USERNAME} ({tg.BOT_NAME}, id {tg.BOT_ID})"
    assert answer["identity"] == {"id": str(tg.BOT_ID), "username": tg.BOT_USERNAME, "first_name": tg.BOT_NAME}


def test_a_telegram_token_telegram_refuses_fails_the_check_without_showing_it(admin: Api) -> None:
    channel = tg.create_channel(admin)
    admin.patch(f"/api/v1/channels/{channel['id']}", {"bot_token": "999:revoked"})

    answer = check(admin, channel["id"])

    assert answer == {
        "channel_id": channel["id"],
        "outcome": "failed",
        "detail": "Telegram refused the bot token (HTTP 401: Unauthorized)",
        "identity": {},
    }


@pytest.mark.parametrize("reachable", [False])
def test_an_unreachable_provider_fails_the_check_naming_where_it_was_tried(admin: Api, settings: Settings) -> None:
    whatsapp, telegram = wa.create_channel(admin), tg.create_channel(admin)

    answers = [check(admin, whatsapp["id"]), check(admin, telegram["id"])]

    assert [a["outcome"] for a in answers] == ["failed", "failed"]
    assert answers[0]["detail"] == (
        f"could not reach the WhatsApp Graph API at {settings.whatsapp_graph_base_url} (ConnectError)"
    )
    telegram_url = settings.telegram_base_url
    assert answers[1]["detail"] == f"could not reach the Telegram Bot API at {telegram_url} (ConnectError)"
    assert tg.BOT_TOKEN not in str(answers)


def test_api_and_webchat_channels_have_nothing_to_check(admin: Api) -> None:
    api = admin.channel()
    webchat = admin.post("/api/v1/channels", {"type": "webchat", "name": "Chat"}).json()

    answers = [check(admin, api["id"]), check(admin, webchat["id"])]

    assert [a["outcome"] for a in answers] == ["nothing_to_check", "nothing_to_check"]
    assert answers[0]["detail"] == "nothing to check: API channels talk to no provider"


def test_checking_a_channel_that_does_not_exist_is_404(admin: Api) -> None:
    response = admin.post("/api/v1/channels/999999/check")

    assert response.status_code == 404
    assert response.json()["error"] == "channel_not_found"


def test_the_admin_pages_check_button_shows_the_providers_answer(admin: Api, graph: wa.FakeGraph) -> None:
    channel = wa.create_channel(admin)
    client = logged_in_admin(admin)
    token = csrf(client.get(f"/admin/channels/{channel['id']}").text)

    page = client.post(f"/admin/channels/{channel['id']}/check", data={"_csrf_token": token})

    assert page.status_code == 200, page.text
    assert f"Working:</strong> {wa.VERIFIED_NAME}".replace("'", "&#39;") in page.text
    assert wa.ACCESS_TOKEN not in page.text


@pytest.mark.parametrize("reachable", [False])
def test_the_admin_pages_check_button_says_plainly_that_the_provider_is_unreachable(admin: Api) -> None:
    channel = tg.create_channel(admin)
    client = logged_in_admin(admin)
    token = csrf(client.get(f"/admin/channels/{channel['id']}").text)

    page = client.post(f"/admin/channels/{channel['id']}/check", data={"_csrf_token": token})

    assert page.status_code == 200, page.text
    assert "Not working:</strong> could not reach the Telegram Bot API" in page.text
