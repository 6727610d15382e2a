"""The WhatsApp and Telegram parsers never raise, whatever JSON a webhook carries: Meta and
Telegram retry an error for days, so a payload we do not understand is skipped, never a 500."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from frontdesk.channels import telegram, whatsapp
from frontdesk.channels.base import Ignored, InboundItem, Notice, StatusUpdate
from frontdesk.domain.attachments import MAX_ATTACHMENTS, MAX_FILE_NAME

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
WHATSAPP_TYPES = ["text", "image", "audio", "video", "document", "sticker", "location", "contacts", "reaction"]
WHATSAPP_TYPES += ["interactive", "button", "unsupported"]
TELEGRAM_FIELDS = ["text", "caption", "photo", "document", "voice", "audio", "video", "video_note", "sticker"]
TELEGRAM_FIELDS += ["location", "venue", "contact"]


@st.composite
def whatsapp_payloads(draw: st.DrawFn) -> Any:
    """Payloads shaped like Meta's down to a message's own object, with anything anywhere."""
    kind = draw(st.sampled_from(WHATSAPP_TYPES) | JSON)
    message = {"from": draw(st.just("16505551234") | JSON), "id": draw(st.just("wamid.X") | JSON), "type": kind}
    if isinstance(kind, str):
        message[kind] = draw(st.dictionaries(st.sampled_from(["id", "caption", "latitude", "name", "emoji"]), JSON))
    value = {"contacts": draw(JSON), "messages": [message, draw(JSON)], "statuses": draw(JSON)}
    return {"object": "whatsapp_business_account", "entry": [{"changes": [{"value": value}, draw(JSON)]}]}


@st.composite
def telegram_updates(draw: st.DrawFn) -> Any:
    """Updates shaped like the Bot API's, a private chat's message holding anything in its fields."""
    fields = draw(st.dictionaries(st.sampled_from(TELEGRAM_FIELDS), JSON | st.lists(JSON, max_size=3)))
    message = {"message_id": 1, "chat": {"id": 7, "type": "private"}, "from": draw(JSON), **fields}
    return {"update_id": draw(st.integers()), draw(st.sampled_from(["message", "callback_query"])): message}


def _check(items: Any) -> None:
    for item in items:
        assert isinstance(item, InboundItem | StatusUpdate | Ignored | Notice)
        if isinstance(item, InboundItem):
            assert item.text or item.attachments
            assert len(item.attachments) <= MAX_ATTACHMENTS
            assert all(len(a.file_name or "") <= MAX_FILE_NAME for a in item.attachments)
            assert all(len(a.sha256 or "") <= 64 and len(a.mime_type or "") <= 200 for a in item.attachments)


@settings(max_examples=300, deadline=None)
@given(whatsapp_payloads() | JSON)
def test_the_whatsapp_parser_never_raises(payload: Any) -> None:
    _check(whatsapp.ADAPTER.parse(payload))


@settings(max_examples=300, deadline=None)
@given(telegram_updates() | JSON)
def test_the_telegram_parser_never_raises(payload: Any) -> None:
    _check(telegram.ADAPTER.parse(payload))
