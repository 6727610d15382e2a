"""Twilio MMS in: the webhook's `MediaUrl0` stored at once, its content fetched afterwards by the
media fetcher from the fake Twilio API (basic auth, then the redirect to the media's bytes)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from frontdesk.settings import Settings
from frontdesk.store.database import Database
from tests.channels.conversations import inbound_texts, one_conversation
from tests.channels.fake_provider import Media
from tests.channels.media_support import LIMIT, PNG, on_disk, settled
from tests.channels.twilio_support import PUBLIC_URL, FakeTwilio, create_channel, post_webhook, webhook
from tests.factories import Api

MEDIA_SID = "ME3e7a1d6c5f4b2a3c4d5e6f7a8b9c0d1e"  # the mms fixture's media


@pytest.fixture
def twilio_api() -> Iterator[FakeTwilio]:
    fake = FakeTwilio()
    yield fake
    fake.close()


@pytest.fixture
def settings(db_url: str, twilio_api: FakeTwilio, tmp_path: Path) -> Settings:
    return Settings(
        database_url=db_url,
        log_format="text",
        twilio_base_url=twilio_api.url,
        public_url=PUBLIC_URL,
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


def test_an_mms_is_stored_at_once_and_its_picture_fetched_with_the_accounts_auth(
    admin: Api, channel: dict[str, Any], twilio_api: FakeTwilio, db: Database, settings: Settings
) -> None:
    twilio_api.hold(MEDIA_SID, Media(PNG, "image/jpeg"))

    assert post_webhook(admin, channel["id"], webhook("mms", twilio_api.url)).status_code == 200

    assert inbound_texts(admin, one_conversation(admin)) == ["Here is the receipt"]
    [attachment] = settled(db)
    assert (attachment.state, attachment.kind, attachment.size) == ("ready", "image", len(PNG))
    assert attachment.mime_type == "image/png"  # the bytes decide, not the declared image/jpeg
    assert on_disk(Path(settings.media_dir), PNG).read_bytes() == PNG
    assert twilio_api.media_requests == [f"/cdn/{MEDIA_SID}"]  # reached through the authorized redirect


def test_a_media_url_on_another_host_is_never_fetched_with_the_auth_token(
    admin: Api, channel: dict[str, Any], twilio_api: FakeTwilio, db: Database
) -> None:
    elsewhere = webhook("mms", "http://127.0.0.1:9")

    post_webhook(admin, channel["id"], elsewhere)

    [attachment] = settled(db)
    assert attachment.state == "failed"
    assert attachment.error == f"not a Twilio media URL (expected one under {twilio_api.url})"


def test_a_busy_media_store_is_tried_again(
    admin: Api, channel: dict[str, Any], twilio_api: FakeTwilio, db: Database
) -> None:
    twilio_api.hold(MEDIA_SID, Media(PNG, "image/png"))
    twilio_api.script_media(503)

    post_webhook(admin, channel["id"], webhook("mms", twilio_api.url))

    [attachment] = settled(db)
    assert attachment.state == "ready"
    assert twilio_api.media_requests == [f"/cdn/{MEDIA_SID}", f"/cdn/{MEDIA_SID}"]
