"""Replies with attachments on Telegram: each file uploaded with its own method (`sendPhoto`,
`sendVoice`, …) to the fake Bot API, or its link passed for Telegram to fetch."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from frontdesk.domain.model import AttachmentKind
from frontdesk.settings import Settings
from tests.channels.conversations import one_conversation
from tests.channels.media_support import MB, OGG, PNG, link, reply, stored
from tests.channels.telegram_support import BOT_TOKEN, CHAT_ID, FakeBotApi, create_channel, post_update, update
from tests.engine.support import thread
from tests.factories import Api, eventually


@pytest.fixture
def bot_api() -> Iterator[FakeBotApi]:
    fake = FakeBotApi()
    yield fake
    fake.close()


@pytest.fixture
def settings(db_url: str, bot_api: FakeBotApi, tmp_path: Path) -> Settings:
    return Settings(
        database_url=db_url,
        delivery_backoff_seconds=0.05,
        log_format="text",
        telegram_base_url=bot_api.url,
        media_dir=str(tmp_path / "media"),
    )


@pytest.fixture
def conversation(admin: Api) -> int:
    post_update(admin, create_channel(admin)["id"], update("text"))
    return one_conversation(admin)


def settled(admin: Api, conversation_id: int, message_id: int) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        found = next(m for m in thread(admin, conversation_id) if m["id"] == message_id)
        return None if found["delivery_status"] == "pending" else found

    return eventually(probe, "the delivery")


def test_an_image_reply_is_uploaded_with_send_photo_and_the_text_as_caption(
    client: TestClient[Any], admin: Api, conversation: int, bot_api: FakeBotApi
) -> None:
    image = stored(client.app, AttachmentKind.IMAGE, "image/png", "receipt.png", PNG)

    sent = settled(admin, conversation, reply(client.app, conversation, "Your receipt", [image]))

    [call] = bot_api.sent
    assert (call.path, call.problem) == (f"/bot{BOT_TOKEN}/sendPhoto", None)
    assert call.body == {"chat_id": str(CHAT_ID), "caption": "Your receipt"}
    photo = call.files["photo"]
    assert (photo.file_name, photo.content_type, photo.content) == ("receipt.png", "image/png", PNG)
    assert (sent["delivery_status"], sent["provider_message_id"]) == ("sent", "2001")


def test_a_voice_note_and_a_photo_with_options_caption_the_first_and_keyboard_the_last(
    client: TestClient[Any], admin: Api, conversation: int, bot_api: FakeBotApi
) -> None:
    voice = stored(client.app, AttachmentKind.AUDIO, "audio/ogg", "note.ogg", OGG)
    image = stored(client.app, AttachmentKind.IMAGE, "image/png", "map.png", PNG)

    sent = settled(admin, conversation, reply(client.app, conversation, "Which one?", [voice, image], ["A", "B"]))

    first, last = bot_api.sent
    assert [first.path.rsplit("/", 1)[1], last.path.rsplit("/", 1)[1]] == ["sendVoice", "sendPhoto"]
    assert (first.problem, last.problem) == (None, None)
    assert first.body == {"chat_id": str(CHAT_ID), "caption": "Which one?"} and "voice" in first.files
    keyboard = json.loads(last.body["reply_markup"])["inline_keyboard"]
    assert [row[0]["callback_data"] for row in keyboard] == ["A", "B"]
    assert sent["provider_message_id"] == "2002"


def test_a_photo_too_big_for_a_bot_fails_with_the_reason_and_is_not_retried(
    client: TestClient[Any], admin: Api, conversation: int, bot_api: FakeBotApi
) -> None:
    image = stored(client.app, AttachmentKind.IMAGE, "image/png", "huge.png", PNG + b"\x00" * (11 * MB))

    sent = settled(admin, conversation, reply(client.app, conversation, "", [image]))

    assert (sent["delivery_status"], sent["delivery_attempts"]) == ("failed", 1)
    assert sent["delivery_error"] == "huge.png is 11.0 MB: Telegram takes image attachments up to 10.0 MB"
    assert bot_api.sent == []


def test_an_upload_refused_with_500_is_retried_and_sent_once(
    client: TestClient[Any], admin: Api, conversation: int, bot_api: FakeBotApi
) -> None:
    bot_api.script(500)
    image = stored(client.app, AttachmentKind.IMAGE, "image/png", "receipt.png", PNG)

    sent = settled(admin, conversation, reply(client.app, conversation, "Receipt", [image]))

    assert [c.status for c in bot_api.sent] == [500, 200]
    assert (sent["delivery_status"], sent["delivery_attempts"]) == ("sent", 2)


def test_a_link_is_passed_for_telegram_to_fetch(
    client: TestClient[Any], admin: Api, conversation: int, bot_api: FakeBotApi
) -> None:
    brochure = link(AttachmentKind.FILE, "https://cdn.example/brochure.pdf", "brochure.pdf")

    settled(admin, conversation, reply(client.app, conversation, "Our brochure", [brochure]))

    [call] = bot_api.sent
    assert (call.path, call.problem, call.files) == (f"/bot{BOT_TOKEN}/sendDocument", None, {})
    assert call.body == {"chat_id": CHAT_ID, "caption": "Our brochure", "document": "https://cdn.example/brochure.pdf"}


def test_a_text_too_long_for_a_caption_goes_first_on_its_own(
    client: TestClient[Any], admin: Api, conversation: int, bot_api: FakeBotApi
) -> None:
    image = stored(client.app, AttachmentKind.IMAGE, "image/png", "receipt.png", PNG)

    settled(admin, conversation, reply(client.app, conversation, "x" * 1100, [image]))

    text, photo = bot_api.sent
    assert (text.path.rsplit("/", 1)[1], len(text.body["text"])) == ("sendMessage", 1100)
    assert (photo.path.rsplit("/", 1)[1], photo.body) == ("sendPhoto", {"chat_id": str(CHAT_ID)})
