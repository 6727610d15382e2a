"""WhatsApp media in: Meta's webhooks with an image, a voice note, a location... stored at once,
their content fetched afterwards from a fake Graph API by the media fetcher (through the real app)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from frontdesk.channels.base import InboundItem, Notice
from frontdesk.channels.whatsapp import ADAPTER
from frontdesk.domain.attachments import NewAttachment
from frontdesk.domain.model import AttachmentKind, AttachmentState
from frontdesk.settings import Settings
from frontdesk.store.database import Database
from tests.channels.conversations import conversations, inbound_texts, one_conversation
from tests.channels.fake_provider import Media
from tests.channels.media_support import HTML, LIMIT, PNG, TOO_BIG, all_attachments, on_disk, settled, updates
from tests.channels.whatsapp_support import FakeGraph, create_channel, payload, post_webhook
from tests.engine.support import thread
from tests.factories import Api

IMAGE_ID = "1003383421387256"  # the image fixture's media id


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    fake = FakeGraph()
    yield fake
    fake.close()


@pytest.fixture
def settings(db_url: str, graph: FakeGraph, tmp_path: Path) -> Settings:
    return Settings(
        database_url=db_url,
        log_format="text",
        whatsapp_graph_base_url=graph.url,
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


# -- parsing -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "kind", "media_id", "mime_type", "file_name", "text"),
    [
        ("image", "image", IMAGE_ID, "image/jpeg", None, "The box arrived like this"),
        ("audio", "audio", "1003383421387257", "audio/ogg; codecs=opus", None, ""),
        ("video", "video", "1003383421387258", "video/mp4", None, "Here is the noise it makes"),
        ("document", "file", "1003383421387259", "application/pdf", "invoice-2026-06.pdf", "My invoice"),
        ("sticker", "image", "1003383421387260", "image/webp", None, ""),
    ],
)
def test_a_media_message_is_its_caption_with_an_attachment_to_fetch(
    name: str, kind: str, media_id: str, mime_type: str, file_name: str | None, text: str
) -> None:
    item = _only(ADAPTER.parse(payload(name)))
    [attachment] = item.attachments

    assert (item.text, item.external_id, item.contact_name) == (text, "16505551234", "Sheena Nelson")
    assert (attachment.kind, attachment.state, attachment.provider_media_id) == (kind, "pending", media_id)
    assert (attachment.mime_type, attachment.file_name) == (mime_type, file_name)
    assert attachment.sha256  # as Meta gives it (base64 here), checked against the download


def test_a_location_and_contact_cards_are_ready_at_once() -> None:
    [place] = _only(ADAPTER.parse(payload("location"))).attachments
    [card] = _only(ADAPTER.parse(payload("contacts"))).attachments

    assert place == NewAttachment(
        AttachmentKind.LOCATION,
        AttachmentState.READY,
        data={
            "latitude": 37.44221496582,
            "longitude": -122.16138458252,
            "name": "Philz Coffee",
            "address": "101 Forest Ave, Palo Alto, CA 94301",
        },
    )
    assert card == NewAttachment(
        AttachmentKind.CONTACT,
        AttachmentState.READY,
        data={"name": "Barbara J. Johnson", "phones": ["+1 (940) 555-1234"]},
    )


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("reaction", "The contact reacted 👍 to a message"),
        ("reaction_removed", "The contact removed a reaction"),
        ("unsupported", "The contact sent a message type Frontdesk cannot show (unsupported)"),
    ],
)
def test_a_reaction_or_an_unsupported_type_is_a_notice(name: str, text: str) -> None:
    [item] = ADAPTER.parse(payload(name))

    assert isinstance(item, Notice)
    assert (item.external_id, item.text) == ("16505551234", text)


# -- through the app ---------------------------------------------------------------------------
def test_an_image_is_stored_at_once_then_fetched_into_the_media_store(
    admin: Api, channel: dict[str, Any], graph: FakeGraph, db: Database, settings: Settings
) -> None:
    graph.hold(IMAGE_ID, Media(PNG, "image/png"))

    assert post_webhook(admin, channel["id"], payload("image")).json() == {"messages": 1, "statuses": 0}
    assert inbound_texts(admin, one_conversation(admin)) == ["The box arrived like this"]
    assert len(all_attachments(db)) == 1  # with its message, before anything was fetched

    [image] = settled(db)
    assert (image.state, image.mime_type, image.size, image.error) == ("ready", "image/png", len(PNG), None)
    assert on_disk(Path(settings.media_dir), PNG).read_bytes() == PNG
    assert image.storage_key == image.sha256 == on_disk(Path(settings.media_dir), PNG).name
    assert updates(db) == [{"attachment_id": image.id, "message_id": image.message_id, "state": "ready", "error": None}]
    assert graph.media_requests == [f"/v21.0/{IMAGE_ID}", f"/media-download/{IMAGE_ID}"]


def test_a_location_and_a_contact_card_need_no_fetch(
    admin: Api, channel: dict[str, Any], graph: FakeGraph, db: Database
) -> None:
    post_webhook(admin, channel["id"], payload("location"))
    post_webhook(admin, channel["id"], payload("contacts"))

    place, card = all_attachments(db)
    assert (place.kind, place.state, place.data and place.data["name"]) == ("location", "ready", "Philz Coffee")
    assert (card.kind, card.state, card.data) == (
        "contact",
        "ready",
        {"name": "Barbara J. Johnson", "phones": ["+1 (940) 555-1234"]},
    )
    assert graph.media_requests == []


def test_media_over_the_limit_fails_with_the_reason_and_the_message_is_kept(
    admin: Api, channel: dict[str, Any], graph: FakeGraph, db: Database
) -> None:
    graph.hold(IMAGE_ID, Media(TOO_BIG, "image/png"))
    post_webhook(admin, channel["id"], payload("image"))

    [image] = settled(db)
    assert (image.state, image.error, image.storage_key) == ("failed", "larger than 64 KB", None)
    assert inbound_texts(admin, one_conversation(admin)) == ["The box arrived like this"]
    assert updates(db)[-1]["error"] == "larger than 64 KB"


def test_a_provider_error_is_retried_until_the_media_is_fetched(
    admin: Api, channel: dict[str, Any], graph: FakeGraph, db: Database
) -> None:
    graph.hold(IMAGE_ID, Media(PNG, "image/png"))
    graph.script_media(500)
    post_webhook(admin, channel["id"], payload("image"))

    [image] = settled(db)
    assert (image.state, image.attempts, image.error) == ("ready", 2, None)
    assert graph.media_requests == [f"/v21.0/{IMAGE_ID}"] * 2 + [f"/media-download/{IMAGE_ID}"]


def test_media_lying_about_its_type_fails_and_is_never_stored(
    admin: Api, channel: dict[str, Any], graph: FakeGraph, db: Database, settings: Settings
) -> None:
    graph.hold(IMAGE_ID, Media(HTML, "image/jpeg"))
    post_webhook(admin, channel["id"], payload("image"))

    [image] = settled(db)
    assert (image.state, image.error) == ("failed", "declared image/jpeg but the content is text/html")
    assert not on_disk(Path(settings.media_dir), HTML).exists()


def test_media_the_provider_does_not_have_fails_for_good(admin: Api, channel: dict[str, Any], db: Database) -> None:
    post_webhook(admin, channel["id"], payload("image"))

    [image] = settled(db)
    assert image.state == "failed" and image.attempts == 1
    assert image.error is not None and image.error.startswith(
        "WhatsApp answered HTTP 404: (#100) Unsupported get request"
    )


def test_a_redelivered_webhook_stores_and_fetches_its_image_once(
    admin: Api, channel: dict[str, Any], graph: FakeGraph, db: Database
) -> None:
    graph.hold(IMAGE_ID, Media(PNG, "image/png"))
    post_webhook(admin, channel["id"], payload("image"))
    assert post_webhook(admin, channel["id"], payload("image")).json() == {"messages": 0, "statuses": 0}

    settled(db)
    assert len(all_attachments(db)) == 1
    assert graph.media_requests == [f"/v21.0/{IMAGE_ID}", f"/media-download/{IMAGE_ID}"]


def test_a_reaction_is_a_system_note_in_the_open_conversation(admin: Api, channel: dict[str, Any]) -> None:
    post_webhook(admin, channel["id"], payload("text"))
    post_webhook(admin, channel["id"], payload("reaction"))
    post_webhook(admin, channel["id"], payload("reaction"))  # Meta retries: noted once

    notes = [m for m in thread(admin, one_conversation(admin)) if m["author_kind"] == "system"]
    assert [(n["text"], n["private"], n["delivery_status"]) for n in notes] == [
        ("The contact reacted 👍 to a message", True, "stored")
    ]


def test_a_reaction_without_an_open_conversation_opens_none(admin: Api, channel: dict[str, Any]) -> None:
    response = post_webhook(admin, channel["id"], payload("reaction"))

    assert (response.status_code, response.json()) == (200, {"messages": 0, "statuses": 0})
    assert conversations(admin) == []
