"""The local media store: content-addressed, written whole or not at all, keys that name nothing else."""

from __future__ import annotations

import hashlib
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from frontdesk.store.media import LocalMediaStore


def test_the_same_bytes_are_kept_once_under_their_sha256(tmp_path: Path) -> None:
    store = LocalMediaStore(tmp_path)
    first = store.put(b"\x89PNG fake image")
    again = store.put(b"\x89PNG fake image")
    assert first == again
    assert first.key == first.sha256 == hashlib.sha256(b"\x89PNG fake image").hexdigest()
    assert first.size == len(b"\x89PNG fake image")
    assert store.get(first.key) == b"\x89PNG fake image"
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == [first.key]


def test_keys_that_are_not_a_sha256_name_no_file(tmp_path: Path) -> None:
    store = LocalMediaStore(tmp_path / "media")
    (tmp_path / "secret.txt").write_text("outside the store")
    for key in ("../secret.txt", "..", "", "A" * 64, "0" * 63, "0" * 64):
        assert store.path(key) is None
        assert store.get(key) is None
        assert not store.exists(key)


@given(st.binary(max_size=2048))
def test_what_is_put_is_what_is_got(content: bytes) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as root:
        store = LocalMediaStore(root)
        stored = store.put(content)
        assert store.get(stored.key) == content
        assert not list(Path(root).rglob(".incoming-*"))


def test_content_types_come_from_the_bytes_and_a_lie_is_named() -> None:
    from frontdesk.domain.attachments import content_type, shows_inline

    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 20
    assert content_type(png, "image/png") == ("image/png", None)
    assert content_type(png, None) == ("image/png", None)
    assert content_type(b"<html><script>alert(1)</script>", "image/jpeg") == (
        "text/html",
        "declared image/jpeg but the content is text/html",
    )
    assert content_type(b'<?xml version="1.0"?><svg onload="alert(1)"/>', "image/png")[1] is not None
    assert content_type(b"<svg onload=alert(1)>", "application/octet-stream") == ("image/svg+xml", None)
    assert not shows_inline(content_type(b"<svg onload=alert(1)>", None)[0])
    assert content_type(b"plain words", "text/plain") == ("text/plain", None)
    assert content_type(b"plain words", "text/html") == ("application/octet-stream", None)
    assert content_type(b"RIFF\0\0\0\0WEBPVP8 ", "image/webp") == ("image/webp", None)
    assert content_type(b"\0\0\0\x18ftypmp42", "video/mp4") == ("video/mp4", None)
    assert content_type(b"OggS\0", "audio/ogg; codecs=opus") == ("audio/ogg", None)
