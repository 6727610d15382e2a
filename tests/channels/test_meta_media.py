"""Messenger media in: an attachment's CDN URL stored at once, its content fetched afterwards by
the media fetcher through the private-address guard (the one links given to the API go through)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from frontdesk.settings import Settings
from frontdesk.store.database import Database
from tests.channels.conversations import one_conversation
from tests.channels.fake_provider import Media
from tests.channels.media_support import LIMIT, PNG, on_disk, settled
from tests.channels.meta_support import FakeMetaGraph, create_channel, payload, post_webhook
from tests.engine.support import thread
from tests.factories import Api


@pytest.fixture
def graph() -> Iterator[FakeMetaGraph]:
    fake = FakeMetaGraph()
    yield fake
    fake.close()


@pytest.fixture
def settings(db_url: str, graph: FakeMetaGraph, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """Private addresses allowed (the fake CDN is on 127.0.0.1), unless a test asks `False`."""
    return Settings(
        database_url=db_url,
        log_format="text",
        meta_graph_base_url=graph.url,
        media_dir=str(tmp_path / "media"),
        media_max_bytes=LIMIT,
        media_fetch_backoff_seconds=0.05,
        http_allow_private=getattr(request, "param", True),
    )


def image_webhook(graph: FakeMetaGraph) -> dict[str, object]:
    found = payload("image")
    found["entry"][0]["messaging"][0]["message"]["attachments"][0]["payload"]["url"] = f"{graph.url}/cdn/photo.jpg"
    return found


@pytest.fixture
def db(admin: Api) -> Database:
    database: Database = admin.client.app.state.db
    return database


def test_a_photo_is_stored_at_once_then_fetched_from_its_cdn_url(
    admin: Api, graph: FakeMetaGraph, db: Database, settings: Settings
) -> None:
    graph.hold("photo.jpg", Media(PNG, "image/png"))

    post_webhook(admin, create_channel(admin)["id"], image_webhook(graph))

    [attachment] = settled(db)
    assert (attachment.state, attachment.mime_type, attachment.size) == ("ready", "image/png", len(PNG))
    assert on_disk(Path(settings.media_dir), PNG).read_bytes() == PNG
    assert graph.media_requests == ["/cdn/photo.jpg"]
    [message] = thread(admin, one_conversation(admin))
    assert message["attachments"][0]["state"] == "ready"


@pytest.mark.parametrize("settings", [False], indirect=True, ids=["guarded"])
def test_a_media_url_on_a_private_address_is_refused_and_never_requested(
    admin: Api, graph: FakeMetaGraph, db: Database
) -> None:
    graph.hold("photo.jpg", Media(PNG, "image/png"))

    post_webhook(admin, create_channel(admin)["id"], image_webhook(graph))

    [attachment] = settled(db)
    assert attachment.state == "failed"
    assert "127.0.0.1" in (attachment.error or "")
    assert graph.media_requests == []
