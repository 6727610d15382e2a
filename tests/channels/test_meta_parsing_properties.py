"""The Messenger and Instagram parser never raises, whatever JSON a webhook carries: Meta retries an
error and then disables the webhook, so a payload we do not understand is skipped, never a 500."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from frontdesk.channels import meta
from frontdesk.channels.base import Ignored, InboundItem, Notice, StatusUpdate, StatusUpTo
from frontdesk.domain.attachments import MAX_ATTACHMENTS
from tests.channels.test_parsing_properties import JSON

EVENT_KEYS = ["message", "postback", "reaction", "delivery", "read"]
FIELDS = ["mid", "text", "quick_reply", "attachments", "is_echo", "reply_to", "mids", "watermark", "title", "payload"]


@st.composite
def meta_payloads(draw: st.DrawFn) -> Any:
    """Payloads shaped like Meta's down to an event's own object, with anything anywhere."""
    inner = draw(st.dictionaries(st.sampled_from(FIELDS), JSON | st.lists(JSON, max_size=3)))
    event = {"sender": {"id": draw(st.just("6745512345678901") | JSON)}, draw(st.sampled_from(EVENT_KEYS)): inner}
    event["timestamp"] = draw(JSON)
    entry = {"id": "1", "messaging": [event, draw(JSON)]}
    return {"object": draw(st.sampled_from(["page", "instagram"])), "entry": [entry, draw(JSON)]}


@settings(max_examples=300, deadline=None)
@given(meta_payloads() | JSON)
def test_the_meta_parser_never_raises(payload: Any) -> None:
    for adapter in (meta.MESSENGER_ADAPTER, meta.INSTAGRAM_ADAPTER):
        for item in adapter.parse(payload):
            assert isinstance(item, InboundItem | StatusUpdate | Ignored | Notice)
            if isinstance(item, InboundItem):
                assert item.text or item.attachments
                assert len(item.attachments) <= MAX_ATTACHMENTS
        assert all(isinstance(r, StatusUpTo) for r in adapter.receipts_up_to(payload))
