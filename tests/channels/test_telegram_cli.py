"""`frontdesk channels telegram-webhook`: registering a channel's webhook with (a fake) Telegram."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from frontdesk.settings import Settings
from tests.channels.telegram_support import BOT_TOKEN, WEBHOOK_SECRET, FakeBotApi, create_channel
from tests.conftest import FRONTDESK
from tests.factories import Api


@pytest.fixture
def bot_api() -> Iterator[FakeBotApi]:
    fake = FakeBotApi()
    yield fake
    fake.close()


@pytest.fixture
def settings(db_url: str, bot_api: FakeBotApi) -> Settings:
    return Settings(database_url=db_url, log_format="text", telegram_base_url=bot_api.url)


def run(db_url: str, bot_api: FakeBotApi, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FRONTDESK_DATABASE_URL": db_url, "FRONTDESK_TELEGRAM_BASE_URL": bot_api.url}
    return subprocess.run([str(FRONTDESK), *args], env=env, capture_output=True, text=True, timeout=60)


@pytest.fixture
def channel(admin: Api) -> dict[str, Any]:
    return create_channel(admin)


def test_the_webhook_is_registered_with_its_url_and_secret(
    db_url: str, bot_api: FakeBotApi, channel: dict[str, Any]
) -> None:
    result = run(
        db_url, bot_api, "channels", "telegram-webhook", str(channel["id"]), "--public-url", "https://fd.test/"
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"webhook set: https://fd.test/webhooks/telegram/{channel['id']}"
    [request] = bot_api.sent
    assert request.problem is None
    assert request.body == {
        "url": f"https://fd.test/webhooks/telegram/{channel['id']}",
        "secret_token": WEBHOOK_SECRET,
        "allowed_updates": ["message", "callback_query"],
    }
    assert BOT_TOKEN not in result.stdout + result.stderr
    assert WEBHOOK_SECRET not in result.stdout + result.stderr


def test_a_channel_that_is_not_telegram_is_refused_naming_it(db_url: str, bot_api: FakeBotApi, admin: Api) -> None:
    api_channel = admin.channel()

    result = run(db_url, bot_api, "channels", "telegram-webhook", str(api_channel["id"]), "--public-url", "https://x")

    assert result.returncode == 2
    assert f"telegram channel {api_channel['id']} does not exist" in result.stderr
    assert bot_api.sent == []


def test_telegrams_refusal_is_reported_without_the_token(
    db_url: str, bot_api: FakeBotApi, channel: dict[str, Any], admin: Api
) -> None:
    admin.patch(f"/api/v1/channels/{channel['id']}", {"bot_token": "999:revoked"})

    result = run(db_url, bot_api, "channels", "telegram-webhook", str(channel["id"]), "--public-url", "https://fd.test")

    assert result.returncode == 1
    assert "Telegram answered HTTP 404: Not Found: unknown token" in result.stderr
    assert "999:revoked" not in result.stderr
