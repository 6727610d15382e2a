"""The e-mail parser never raises, whatever a mail holds: the receiver must answer every mail
(a crash would make the sending server retry it for days), so what it cannot read is skipped."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from frontdesk.channels.base import Ignored, InboundItem, Notice, StatusUpdate
from frontdesk.channels.email_inbound import MAX_ID, read
from frontdesk.domain.attachments import MAX_ATTACHMENTS
from frontdesk.domain.conversations import MAX_MESSAGE_CHARS
from tests.channels.email_support import FIXTURES, fixture

NAMES = sorted(path.stem for path in FIXTURES.glob("*.eml"))
HEADERS = ["From", "Message-ID", "In-Reply-To", "References", "Subject", "Content-Type", "Auto-Submitted"]
HEADERS += ["Content-Transfer-Encoding", "Content-Disposition", "Precedence"]


@st.composite
def damaged_mails(draw: st.DrawFn) -> bytes:
    """A fixture with header values replaced, bytes cut out, or junk put in."""
    raw = fixture(draw(st.sampled_from(NAMES)), message_id="x@y")
    for name in draw(st.lists(st.sampled_from(HEADERS), max_size=3)):
        junk = draw(st.binary(max_size=40)).replace(b"\r", b"").replace(b"\n", b"")
        raw = raw.replace(f"\r\n{name}:".encode(), f"\r\n{name}: ".encode() + junk + b"\r\nX-Old:", 1)
    if draw(st.booleans()):
        start = draw(st.integers(0, len(raw)))
        raw = raw[:start] + draw(st.binary(max_size=200)) + raw[start + draw(st.integers(0, 300)) :]
    return raw


def _sound(raw: bytes) -> None:
    parsed = read(raw)
    item = parsed.item
    assert isinstance(item, InboundItem | Notice | StatusUpdate | Ignored)
    if isinstance(item, InboundItem):
        assert item.text or parsed.files
        assert len(item.text) <= MAX_MESSAGE_CHARS and len(parsed.files) <= MAX_ATTACHMENTS
        assert len(item.provider_message_id) <= MAX_ID and item.external_id == item.external_id.lower()


@settings(max_examples=300, deadline=None)
@given(damaged_mails())
def test_a_damaged_mail_is_read_or_skipped_never_raising(raw: bytes) -> None:
    _sound(raw)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_any_bytes_are_read_or_skipped_never_raising(raw: bytes) -> None:
    _sound(raw)
