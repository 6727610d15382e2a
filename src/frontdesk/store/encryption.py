"""Secrets at rest: channel secrets and named secrets are stored Fernet-encrypted (ADR 0005).

The key is FRONTDESK_SECRET_KEY, or a key file made once beside the SQLite database, so a copy
of the database alone (a backup, a leaked file) reveals no secret. The `Encrypted` column type
(store/tables.py) seals and opens values with the key its engine carries, so every reader
(authentication, delivery, web chat) gets the plain value without handling keys.
"""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Dialect, Engine

PREFIX = "fernet:"  # a value without it was written before encryption (migration 0010 seals those)
_ATTRIBUTE = "frontdesk_secret_box"
_OPENED_MAX = 4096


class SecretKeyProblem(RuntimeError):
    """The key is malformed, missing, or not the one the stored secrets were sealed with."""


class SecretBox:
    """Seals and opens secrets with one key (or several: the first seals, any opens).

    Opened values are remembered by their sealed text (Fernet's text differs at every seal), so a
    secret read on every request is decrypted once per process."""

    def __init__(self, keys: list[bytes]) -> None:
        self._fernet = MultiFernet([Fernet(key) for key in keys])
        self._opened: dict[str, str] = {}
        self._lock = threading.Lock()

    @classmethod
    def load(cls, configured: str | None, key_file: Path | None) -> SecretBox:
        """From the setting when given; else the key file (made now if absent); else (an
        in-memory database, which dies with its process) a key of this process only."""
        if configured:
            return cls(_parse_keys(configured))
        if key_file is None:
            return cls([Fernet.generate_key()])
        return cls([_read_or_create(key_file)])

    def seal(self, value: str) -> str:
        return PREFIX + self._fernet.encrypt(value.encode()).decode()

    def open(self, stored: str) -> str:
        if not stored.startswith(PREFIX):
            return stored
        value = self._opened.get(stored)
        if value is not None:
            return value
        try:
            value = self._fernet.decrypt(stored[len(PREFIX) :].encode()).decode()
        except InvalidToken:
            raise SecretKeyProblem(
                "a stored secret does not decrypt with this key: FRONTDESK_SECRET_KEY (or the key file"
                " beside the database) is not the key it was sealed with"
            ) from None
        with self._lock:
            if len(self._opened) >= _OPENED_MAX:
                self._opened.clear()
            self._opened[stored] = value
        return value


def attach(engine: Engine, box: SecretBox) -> None:
    """Give `engine`'s statements the key (each engine has its own dialect object)."""
    setattr(engine.dialect, _ATTRIBUTE, box)


def box_of(dialect: Dialect) -> SecretBox:
    box = getattr(dialect, _ATTRIBUTE, None)
    if box is None:
        raise SecretKeyProblem("this engine carries no secret key: open the database with frontdesk's Database")
    assert isinstance(box, SecretBox)
    return box


def _parse_keys(configured: str) -> list[bytes]:
    keys = [part.strip().encode() for part in configured.split(",") if part.strip()]
    for key in keys:
        try:
            Fernet(key)
        except ValueError:
            raise SecretKeyProblem(
                "FRONTDESK_SECRET_KEY: each key must be a Fernet key (32 bytes in url-safe base64, 44 characters);"
                " make one with: frontdesk secrets new-key"
            ) from None
    return keys


def _read_or_create(path: Path) -> bytes:
    """The key in `path`; a new one written there (0600) when absent. Two processes starting at
    once agree: the key is written to a private file first, then linked into place atomically."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "wb") as file:
            file.write(Fernet.generate_key() + b"\n")
            file.flush()
            os.fsync(file.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(draft, path)  # fails when another process won the race: its key is kept
        draft.unlink()
    key = path.read_bytes().strip()
    try:
        Fernet(key)
    except ValueError:
        raise SecretKeyProblem(f"{path}: not a Fernet key; restore the key file or set FRONTDESK_SECRET_KEY") from None
    return key
