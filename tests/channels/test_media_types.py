"""How each provider is told what an attachment is: a type it does not take for the kind goes as
a document, which takes any file (pure functions, no network)."""

from __future__ import annotations

import datetime as dt

import pytest

from frontdesk.channels.telegram_media import method_of
from frontdesk.channels.whatsapp_media import graph_type
from frontdesk.domain.records import Attachment


def _attachment(kind: str, mime: str | None) -> Attachment:
    return Attachment(
        id=1,
        message_id=1,
        kind=kind,
        state="ready",
        mime_type=mime,
        size=10,
        file_name=None,
        sha256=None,
        storage_key=None,
        provider_media_id=None,
        source_url="https://cdn.example/a",
        data=None,
        error=None,
        attempts=0,
        next_attempt_at=None,
        created_at=dt.datetime(2026, 3, 2, tzinfo=dt.UTC),
    )


@pytest.mark.parametrize(
    ("kind", "mime", "expected"),
    [
        ("image", "image/jpeg", "image"),
        ("image", "image/webp", "document"),  # Meta takes WebP only as a sticker
        ("image", None, "image"),  # a link of unknown type keeps its kind
        ("audio", "audio/ogg; codecs=opus", "audio"),
        ("audio", "audio/wav", "document"),
        ("video", "video/webm", "document"),
        ("file", "application/pdf", "document"),
    ],
)
def test_whatsapp_sends_each_kind_as_a_type_meta_takes(kind: str, mime: str | None, expected: str) -> None:
    assert graph_type(_attachment(kind, mime)) == expected


@pytest.mark.parametrize(
    ("kind", "mime", "expected"),
    [
        ("image", "image/png", ("sendPhoto", "photo")),
        ("image", "image/gif", ("sendDocument", "document")),
        ("audio", "audio/ogg", ("sendVoice", "voice")),
        ("audio", "audio/mpeg", ("sendAudio", "audio")),
        ("audio", "audio/amr", ("sendDocument", "document")),
        ("video", "video/mp4", ("sendVideo", "video")),
        ("file", "application/pdf", ("sendDocument", "document")),
    ],
)
def test_telegram_sends_each_kind_by_the_method_for_it(kind: str, mime: str, expected: tuple[str, str]) -> None:
    assert method_of(_attachment(kind, mime)) == expected
