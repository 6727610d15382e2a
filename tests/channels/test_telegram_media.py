"""Telegram media in: updates with a photo, a voice note, a location... stored at once, their
content fetched afterwards from a fake Bot API (getFile, then the file) by the media fetcher."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from frontdesk.channels.base import Ignored, InboundItem
from frontdesk.channels.telegram import ADAPTER
from frontdesk.settings import Settings
from frontdesk.store.database import Database
from tests.channels.conversations import inbound_texts, one_conversation
from tests.channels.fake_provider import Media
from tests.channels.media_support import HTML, LIMIT, PNG, TOO_BIG, all_attachments, on_disk, settled, updates
from tests.channels.telegram_support import BOT_TOKEN, FakeBotApi, create_channel, media_update, post_update
from tests.factories import Api, eventually

PHOTO_ID = "AgAD-photo-large"  # the photo fixture's largest size


@pytest.fixture
def bot_api() -> Iterator[FakeBotApi]:
    fake = FakeBotApi()
    yield fake
    fake.close()


@pytest.fixture
def settings(db_url: str, bot_api: FakeBotApi, tmp_path: Path) -> Settings:
    return Settings(
        database_url=db_url,
        log_format="text",
        telegram_base_url=bot_api.url,
        media_dir=str(tmp_path / "media"),
        media_max_bytes=LIMIT,
        media_fetch_backoff_seconds=0.05,
    )


@pytest.fixture
def channel(admin: Api) -> dict[str, Any]:
    return create_channel(admin)


@pytest.fixture
def db(admin: Api) -> Database:
    database: Database = admin.client.app.state.db
    return database


def _only(items: object) -> InboundItem:
    assert isinstance(items, list) and len(items) == 1 and isinstance(items[0], InboundItem), items
    return items[0]


def _requests(file_id: str) -> list[str]:
    return [f"/bot{BOT_TOKEN}/getFile?file_id={file_id}", f"/file/bot{BOT_TOKEN}/documents/{file_id}.bin"]


# -- parsing -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "kind", "file_id", "mime_type", "file_name", "text"),
    [
        ("photo", "image", PHOTO_ID, "image/jpeg", None, "The box arrived like this"),
        ("document", "file", "BQAD-doc", "application/pdf", "invoice-2026-06.pdf", "My invoice"),
        ("voice", "audio", "AwAD-voice", "audio/ogg", None, ""),
        ("audio", "audio", "CQAD-audio", "audio/mpeg", "song.mp3", ""),
        ("video", "video", "BAAD-video", "video/mp4", "noise.mp4", "Here is the noise it makes"),
        ("video_note", "video", "DQAD-note", "video/mp4", None, ""),
        ("sticker", "image", "CAAD-sticker", "image/webp", None, ""),
    ],
)
def test_a_file_message_is_its_caption_with_the_file_to_fetch(
    name: str, kind: str, file_id: str, mime_type: str, file_name: str | None, text: str
) -> None:
    item = _only(ADAPTER.parse(media_update(name)))
    [attachment] = item.attachments

    assert (item.text, item.external_id, item.contact_name) == (text, "1111111", "Test Lastname")
    assert (attachment.kind, attachment.state, attachment.provider_media_id) == (kind, "pending", file_id)
    assert (attachment.mime_type, attachment.file_name) == (mime_type, file_name)
    assert attachment.size is not None


def test_a_location_a_venue_and_a_contact_are_ready_at_once() -> None:
    [place] = _only(ADAPTER.parse(media_update("location"))).attachments
    [venue] = _only(ADAPTER.parse(media_update("venue"))).attachments
    [contact] = _only(ADAPTER.parse(media_update("contact"))).attachments

    assert (place.kind, place.state, place.data) == (
        "location",
        "ready",
        {"latitude": 38.713909, "longitude": -9.133476, "name": None, "address": None},
    )
    assert venue.data is not None and (venue.data["name"], venue.data["address"]) == (
        "Rossio",
        "Praça Dom Pedro IV, Lisboa",
    )
    assert (contact.kind, contact.state, contact.data) == (
        "contact",
        "ready",
        {"name": "Ana Silva", "phones": ["+351912345678"]},
    )


def test_a_message_with_nothing_frontdesk_takes_is_skipped() -> None:
    [item] = ADAPTER.parse(media_update("dice"))

    assert isinstance(item, Ignored)


# -- through the app ---------------------------------------------------------------------------
def test_a_photo_is_stored_at_once_then_fetched_into_the_media_store(
    admin: Api, channel: dict[str, Any], bot_api: FakeBotApi, db: Database, settings: Settings
) -> None:
    bot_api.hold(PHOTO_ID, Media(PNG, "application/octet-stream"))

    assert post_update(admin, channel["id"], media_update("photo")).json() == {"messages": 1}
    assert inbound_texts(admin, one_conversation(admin)) == ["The box arrived like this"]

    [photo] = settled(db)
    assert (photo.state, photo.mime_type, photo.size, photo.error) == ("ready", "image/png", len(PNG), None)
    assert on_disk(Path(settings.media_dir), PNG).read_bytes() == PNG
    assert updates(db) == [{"attachment_id": photo.id, "message_id": photo.message_id, "state": "ready", "error": None}]
    assert bot_api.media_requests == _requests(PHOTO_ID)


def test_a_location_and_a_contact_need_no_fetch(
    admin: Api, channel: dict[str, Any], bot_api: FakeBotApi, db: Database
) -> None:
    post_update(admin, channel["id"], media_update("location"))
    post_update(admin, channel["id"], media_update("contact"))

    assert [(a.kind, a.state) for a in all_attachments(db)] == [("location", "ready"), ("contact", "ready")]
    assert bot_api.media_requests == []


def test_a_download_over_the_limit_fails_with_the_reason_and_the_message_is_kept(
    admin: Api, channel: dict[str, Any], bot_api: FakeBotApi, db: Database
) -> None:
    bot_api.hold(PHOTO_ID, Media(TOO_BIG, "application/octet-stream"))  # the update said 48 kB: streamed, cut
    post_update(admin, channel["id"], media_update("photo"))

    [photo] = settled(db)
    assert (photo.state, photo.error) == ("failed", "larger than 64 KB")
    assert inbound_texts(admin, one_conversation(admin)) == ["The box arrived like this"]


def test_a_file_over_20_mb_fails_as_bots_cannot_download_it(
    admin: Api, channel: dict[str, Any], bot_api: FakeBotApi, db: Database
) -> None:
    bot_api.hold("BQAD-doc", Media(PNG, "application/pdf", too_big_for_bots=True))
    post_update(admin, channel["id"], media_update("document"))

    [document] = settled(db)
    assert (document.state, document.error) == (
        "failed",
        "larger than 20 MB: Telegram bots cannot download files over 20 MB",
    )


def test_a_provider_error_is_retried_until_the_file_is_fetched(
    admin: Api, channel: dict[str, Any], bot_api: FakeBotApi, db: Database
) -> None:
    bot_api.hold(PHOTO_ID, Media(PNG, "application/octet-stream"))
    bot_api.script_media(500)
    post_update(admin, channel["id"], media_update("photo"))

    [photo] = settled(db)
    assert (photo.state, photo.attempts) == ("ready", 2)
    assert bot_api.media_requests == [_requests(PHOTO_ID)[0], *_requests(PHOTO_ID)]


def test_a_rate_limited_get_file_is_retried_no_sooner_than_telegram_asks(
    admin: Api, channel: dict[str, Any], bot_api: FakeBotApi, db: Database
) -> None:
    bot_api.hold(PHOTO_ID, Media(PNG, "application/octet-stream"))
    bot_api.script_media(429)
    post_update(admin, channel["id"], media_update("photo"))

    [waiting] = eventually(lambda: [a for a in all_attachments(db) if a.error], "the first attempt's outcome")
    assert waiting.error == "Telegram answered HTTP 429: Too Many Requests: retry after 2 (retry after 2 s)"
    assert waiting.next_attempt_at is not None
    assert waiting.next_attempt_at >= waiting.created_at + dt.timedelta(seconds=2)  # the backoff alone is 0.05 s
    assert settled(db)[0].state == "ready"


def test_a_file_lying_about_its_type_fails(
    admin: Api, channel: dict[str, Any], bot_api: FakeBotApi, db: Database
) -> None:
    bot_api.hold("AwAD-voice", Media(HTML, "application/octet-stream"))
    post_update(admin, channel["id"], media_update("voice"))

    [voice] = settled(db)
    assert (voice.state, voice.error) == ("failed", "declared audio/ogg but the content is text/html")


def test_a_redelivered_update_stores_and_fetches_its_photo_once(
    admin: Api, channel: dict[str, Any], bot_api: FakeBotApi, db: Database
) -> None:
    bot_api.hold(PHOTO_ID, Media(PNG, "application/octet-stream"))
    post_update(admin, channel["id"], media_update("photo"))
    assert post_update(admin, channel["id"], media_update("photo")).json() == {"messages": 0}

    settled(db)
    assert len(all_attachments(db)) == 1
    assert bot_api.media_requests == _requests(PHOTO_ID)
