"""Where attachments' bytes live: content-addressed, behind a small interface.

A file is stored under its SHA-256, so the same bytes are kept once, a retried fetch or upload
writes nothing new, and a key can never name another file's content. `LocalMediaStore` keeps
them on the local disk (`var/media` by default: FRONTDESK_MEDIA_DIR); an S3-compatible store
implements the same four methods. Writes go to a temporary file renamed into place, so a crash
never leaves a half-written file under a key.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from frontdesk.domain.attachments import NewAttachment, kind_of
from frontdesk.domain.model import AttachmentState
from frontdesk.settings import Settings

_KEY = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Stored:
    key: str
    sha256: str
    size: int


class MediaStore(Protocol):
    def put(self, content: bytes) -> Stored: ...

    def get(self, key: str) -> bytes | None: ...

    def path(self, key: str) -> Path | None:
        """A local file to stream from (None when the store has none, or the key is unknown)."""
        ...

    def exists(self, key: str) -> bool: ...


class LocalMediaStore:
    """Files under `root/ab/cd/<sha256>`."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def put(self, content: bytes) -> Stored:
        digest = hashlib.sha256(content).hexdigest()
        target = self._file(digest)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(content)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(temporary, target)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        return Stored(digest, digest, len(content))

    def get(self, key: str) -> bytes | None:
        found = self.path(key)
        return None if found is None else found.read_bytes()

    def path(self, key: str) -> Path | None:
        if not _KEY.fullmatch(key):
            return None
        target = self._file(key)
        return target if target.is_file() else None

    def exists(self, key: str) -> bool:
        return self.path(key) is not None

    def _file(self, digest: str) -> Path:
        return self.root / digest[:2] / digest[2:4] / digest


def media_store(settings: Settings) -> MediaStore:
    """The store the settings name: every process (server, worker) opens it here."""
    return LocalMediaStore(settings.media_dir)


def stored_attachment(stored: Stored, mime_type: str, file_name: str | None) -> NewAttachment:
    """A file now in the media store, as the ready attachment to write with its message."""
    return NewAttachment(
        kind=kind_of(mime_type),
        state=AttachmentState.READY,
        mime_type=mime_type,
        size=stored.size,
        file_name=file_name,
        sha256=stored.sha256,
        storage_key=stored.key,
    )
