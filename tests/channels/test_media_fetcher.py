"""The media fetcher's claim and its outcomes, driven directly: a fetch cut short is claimed again
once its lease ends and lands once; two claims never take one attachment; retries honour
Retry-After and give up with the last reason; a URL attachment goes through the address guard."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from email.message import Message
from pathlib import Path

import pytest

from frontdesk.actions.attachments import attachment_fetched, attachment_not_fetched, claim_due
from frontdesk.actions.channels import create_channel
from frontdesk.actions.ingest import InboundMessage, receive_inbound
from frontdesk.channels.base import MediaFetch
from frontdesk.clock import now
from frontdesk.domain.attachments import NewAttachment
from frontdesk.domain.model import AttachmentKind, ChannelType
from frontdesk.domain.records import Attachment, Channel
from frontdesk.media_fetcher import MediaFetcher
from frontdesk.settings import Settings
from frontdesk.store.database import Database
from frontdesk.store.media import Stored
from tests.channels.fake_provider import Answer, FakeProvider, Media
from tests.channels.media_support import PNG, all_attachments, on_disk, updates
from tests.channels.telegram_support import BOT_TOKEN, WEBHOOK_SECRET, FakeBotApi
from tests.channels.whatsapp_support import ACCESS_TOKEN, APP_SECRET, PHONE_NUMBER_ID, VERIFY_TOKEN, FakeGraph
from tests.factories import run_async

LEASE = 60.0
MEDIA_ID = "4490709327384033"


class FakeFiles(FakeProvider[None]):
    """A plain file server: `GET /files/<name>` serves what it holds, as any web server would."""

    def _answer_get(self, path: str, headers: Message) -> Answer:
        scripted, media = self._media_look_up(path, path.removeprefix("/files/"))
        if scripted is not None or media is None:
            return scripted or 404, {"content-type": "text/plain"}, b"not found"
        return 200, {"content-type": media.mime_type}, media.content


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    fake = FakeGraph()
    yield fake
    fake.close()


@pytest.fixture
def bot_api() -> Iterator[FakeBotApi]:
    fake = FakeBotApi()
    yield fake
    fake.close()


@pytest.fixture
def settings(db_url: str, graph: FakeGraph, bot_api: FakeBotApi, tmp_path: Path) -> Settings:
    return Settings(
        database_url=db_url,
        log_format="text",
        whatsapp_graph_base_url=graph.url,
        telegram_base_url=bot_api.url,
        media_dir=str(tmp_path / "media"),
        media_fetch_max_attempts=2,
    )


def _whatsapp_image(db: Database) -> None:
    credentials = {"access_token": ACCESS_TOKEN, "app_secret": APP_SECRET, "verify_token": VERIFY_TOKEN}
    channel_id = db.write_sync(
        lambda c: create_channel(c, ChannelType.WHATSAPP, "wa", {"phone_number_id": PHONE_NUMBER_ID}, credentials)
    )[0]
    image = NewAttachment(AttachmentKind.IMAGE, provider_media_id=MEDIA_ID, mime_type="image/png")
    inbound = InboundMessage(channel_id, "16505551234", "wamid.IMG", "", attachments=(image,))
    db.write_sync(lambda c: receive_inbound(c, inbound))


def _telegram_photo(db: Database) -> None:
    credentials = {"bot_token": BOT_TOKEN, "webhook_secret": WEBHOOK_SECRET}
    channel_id = db.write_sync(lambda c: create_channel(c, ChannelType.TELEGRAM, "tg", {}, credentials))[0]
    photo = NewAttachment(AttachmentKind.IMAGE, provider_media_id=MEDIA_ID, mime_type="image/jpeg", size=len(PNG))
    inbound = InboundMessage(channel_id, "1111111", "1111111:1401", "", attachments=(photo,))
    db.write_sync(lambda c: receive_inbound(c, inbound))


def _claim(db: Database, at: dt.datetime) -> list[tuple[Attachment, Channel]]:
    return db.write_sync(lambda c: claim_due(c, at, LEASE, 10, set(), lambda _: True))


def _fetch(db: Database, settings: Settings, attachment: Attachment, channel: Channel) -> None:
    async def fetch() -> None:
        fetcher = MediaFetcher(db, settings)
        try:
            await fetcher.fetch(attachment, channel)
        finally:
            await fetcher.stop()

    run_async(fetch())


def test_a_claimed_attachment_is_claimed_by_no_one_else_until_its_lease_ends(db: Database) -> None:
    _whatsapp_image(db)
    at = now()

    [(first, _)] = _claim(db, at)
    assert _claim(db, at) == []  # another process, at the same time
    assert _claim(db, at + dt.timedelta(seconds=LEASE - 1)) == []
    assert first.attempts == 1


@pytest.mark.parametrize("provider", ["whatsapp", "telegram"])
def test_a_fetch_killed_midway_is_claimed_again_after_its_lease_and_fetched_once(
    db: Database, settings: Settings, graph: FakeGraph, bot_api: FakeBotApi, provider: str
) -> None:
    fake: FakeGraph | FakeBotApi = graph if provider == "whatsapp" else bot_api
    fake.hold(MEDIA_ID, Media(PNG, "image/png"))
    (_whatsapp_image if provider == "whatsapp" else _telegram_photo)(db)
    _claim(db, now())  # the process that claimed it is killed before it fetched anything

    [(again, channel)] = _claim(db, now() + dt.timedelta(seconds=LEASE + 1))
    _fetch(db, settings, again, channel)

    [image] = all_attachments(db)
    assert (image.state, image.attempts) == ("ready", 2)
    assert on_disk(Path(settings.media_dir), PNG).exists()
    assert len(fake.media_requests) == 2  # the media's address, then its content: once


def test_a_late_landing_after_a_second_claim_changes_nothing_twice(db: Database) -> None:
    _whatsapp_image(db)
    [(first, _)] = _claim(db, now())
    [(second, _)] = _claim(db, now() + dt.timedelta(seconds=LEASE + 1))
    stored = Stored("ab" * 32, "ab" * 32, 10)

    db.write_sync(lambda c: attachment_fetched(c, second, stored, "image/png"))
    db.write_sync(lambda c: attachment_fetched(c, first, stored, "image/png"))
    db.write_sync(lambda c: attachment_not_fetched(c, first, MediaFetch(error="late"), now(), 5, 1.0))

    [image] = all_attachments(db)
    assert (image.state, image.error) == ("ready", None)
    assert [u["state"] for u in updates(db)] == ["ready"]


def test_a_retry_waits_at_least_what_the_provider_asked(db: Database) -> None:
    _whatsapp_image(db)
    at = now()
    [(attachment, _)] = _claim(db, at)
    busy = MediaFetch(error="WhatsApp answered HTTP 429", retry=True, retry_after=120.0)

    db.write_sync(lambda c: attachment_not_fetched(c, attachment, busy, at, 5, 1.0))

    [image] = all_attachments(db)
    assert (image.state, image.error) == ("pending", "WhatsApp answered HTTP 429")
    assert image.next_attempt_at is not None and image.next_attempt_at >= at + dt.timedelta(seconds=120)
    assert _claim(db, at + dt.timedelta(seconds=119)) == []


def test_a_provider_that_stays_down_fails_the_attachment_with_the_last_reason(
    db: Database, settings: Settings, graph: FakeGraph
) -> None:
    graph.script_media(503, 500)
    _whatsapp_image(db)

    for attempt in (1, 2):
        [(attachment, channel)] = _claim(db, now() + dt.timedelta(hours=attempt))
        _fetch(db, settings, attachment, channel)

    [image] = all_attachments(db)
    assert (image.state, image.attempts) == ("failed", 2)
    assert image.error == "WhatsApp answered HTTP 500: (#500) scripted failure (gave up after 2 attempts)"


@pytest.mark.parametrize("allow_private", [False, True], ids=["guarded", "private allowed"])
def test_an_attachment_given_by_url_is_fetched_through_the_address_guard(
    db: Database, settings: Settings, allow_private: bool
) -> None:
    files = FakeFiles()
    files.hold("photo.png", Media(PNG, "image/png"))
    try:
        channel_id = db.write_sync(lambda c: create_channel(c, ChannelType.API, "api", {}))[0]
        linked = NewAttachment(AttachmentKind.IMAGE, source_url=f"{files.url}/files/photo.png")
        inbound = InboundMessage(channel_id, "crm-42", "crm-msg-1", "see the photo", attachments=(linked,))
        db.write_sync(lambda c: receive_inbound(c, inbound))
        [(attachment, channel)] = _claim(db, now())
        _fetch(db, settings.model_copy(update={"http_allow_private": allow_private}), attachment, channel)
    finally:
        files.close()

    [image] = all_attachments(db)
    if allow_private:
        assert (image.state, image.mime_type, image.size) == ("ready", "image/png", len(PNG))
    else:
        assert image.state == "failed" and image.error is not None
        assert image.error.startswith("refused 127.0.0.1: 127.0.0.1 is a private, loopback or reserved address")
        assert files.media_requests == []
