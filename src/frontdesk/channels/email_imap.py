"""The mailbox an e-mail channel reads by IMAP (imapclient, blocking: callers run it on a thread).

The mailbox is EXAMINEd (opened read-only): Frontdesk never flags, moves or deletes mail, so the
mailbox stays as its people left it and what Frontdesk has read lives in its own cursor
(store/sql/mailboxes.py), not in \\Seen flags someone else may change.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import socket
import ssl
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import imapclient
from imapclient.exceptions import IMAPClientError, LoginError

from frontdesk.channels import email_oauth2, email_tls
from frontdesk.channels.base import SignIn, one_of
from frontdesk.channels.email_oauth2 import IMAP_AUTH, Grant, Refused, Unavailable
from frontdesk.domain.errors import InvalidInput
from frontdesk.domain.records import Channel

IMAP_HOST, IMAP_PORT, IMAP_SECURITY, IMAP_USERNAME = "imap_host", "imap_port", "imap_security", "imap_username"
IMAP_MAILBOX, IMAP_POLL_SECONDS, IMAP_PASSWORD = "imap_mailbox", "imap_poll_seconds", "imap_password"
SETTINGS = (IMAP_HOST, IMAP_PORT, IMAP_SECURITY, IMAP_USERNAME, IMAP_MAILBOX, IMAP_POLL_SECONDS)
DEFAULTS: dict[str, Any] = {IMAP_PORT: 993, IMAP_SECURITY: "tls", IMAP_MAILBOX: "INBOX", IMAP_POLL_SECONDS: 60}
# RFC 2177: a server may drop a client idle for 30 minutes; IDLE is renewed before that.
IDLE_SECONDS = 25 * 60
FAILURES = (IMAPClientError, OSError, ssl.SSLError)
SECURITY = ("tls", "starttls", "none")
_RANGES = {IMAP_PORT: (1, 65535), IMAP_POLL_SECONDS: (1, 3600)}
_HOST = re.compile(r"[A-Za-z0-9.:\[\]-]{1,253}")
_BYTES_REPR = re.compile(r"^b(['\"])(.*)\1$")  # how imapclient words a LoginError
_MAILBOX = re.compile(r"[^\x00-\x1f\x7f]{1,200}")


@dataclass(frozen=True)
class Mailbox:
    """Where and how to read a channel's mail (its password or OAuth2 grant opened from the sealed
    credentials)."""

    host: str
    port: int
    security: str  # tls, starttls or none
    username: str
    password: str = field(repr=False)  # never in a log line or a traceback
    name: str
    poll_seconds: int
    grant: Grant | None = None  # signs in with OAuth2 (XOAUTH2) rather than the password

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"


def mailbox_of(channel: Channel) -> Mailbox | None:
    """The channel's mailbox, or None when it reads none (no IMAP host set)."""
    config: Mapping[str, Any] = {**DEFAULTS, **{k: v for k, v in channel.config.items() if v is not None}}
    if not config.get(IMAP_HOST):
        return None
    return Mailbox(
        host=str(config[IMAP_HOST]),
        port=int(config[IMAP_PORT]),
        security=str(config[IMAP_SECURITY]),
        username=str(config.get(IMAP_USERNAME) or ""),
        password=channel.credential(IMAP_PASSWORD) or "",
        name=str(config[IMAP_MAILBOX]),
        poll_seconds=int(config[IMAP_POLL_SECONDS]),
        grant=email_oauth2.grant_of(channel) if email_oauth2.uses_oauth2(config, IMAP_AUTH) else None,
    )


@dataclass(frozen=True)
class Opened:
    session: Session
    sign_in: SignIn | None  # what the OAuth2 sign-in learned (a rotated refresh token), None by password


async def logged_in(
    client: httpx.AsyncClient, mailbox: Mailbox, opening: Callable[[str], Awaitable[Session]]
) -> Opened:
    """A session `opening` makes with the password, or with the kept OAuth2 access token; a token
    the server refuses is renewed once and tried once more. Raises Refused when the provider refuses
    the grant itself, Unavailable when it cannot be asked."""
    if mailbox.grant is None:
        return Opened(await opening(mailbox.password), None)
    token = await email_oauth2.access_token(client, mailbox.grant)
    try:
        return Opened(await opening(token.access_token), email_oauth2.sign_in(mailbox.grant, token.rotated, True))
    except LoginError:
        email_oauth2.forget(mailbox.grant)  # expired or revoked early: one fresh token, one more try
    fresh = await email_oauth2.fresh_token(client, mailbox.grant)
    session = await opening(fresh.access_token)
    return Opened(session, email_oauth2.sign_in(mailbox.grant, fresh.rotated or token.rotated, True))


class Session:
    """One connection, logged in (`secret`: the password, or the access token of a mailbox with an
    OAuth2 grant), with the mailbox examined; `close` (or `interrupt` from another thread, which
    makes a waiting call return) ends it. TLS trusts the system's CAs and `ca_file`'s."""

    def __init__(self, mailbox: Mailbox, timeout: float, ca_file: str | None, secret: str) -> None:
        self.mailbox = mailbox
        tls = None if mailbox.security == "none" else email_tls.context(ca_file)
        self._client = imapclient.IMAPClient(
            mailbox.host, mailbox.port, ssl=mailbox.security == "tls", ssl_context=tls, timeout=timeout
        )
        try:
            if mailbox.security == "starttls":
                self._client.starttls(tls)
            if mailbox.grant is None:
                self._client.login(mailbox.username, secret)
            else:
                self._client.oauth2_login(mailbox.username, secret)
            self.examine()
        except BaseException:
            self.close()
            raise
        self.idles = self._client.has_capability("IDLE")

    def examine(self) -> None:
        """Open the mailbox (again) read-only: its UIDVALIDITY and next UID as they are now (a
        mailbox deleted and made again under this session shows here)."""
        selected = self._client.select_folder(self.mailbox.name, readonly=True)
        self.uidvalidity = int(selected[b"UIDVALIDITY"])
        self.uidnext: int | None = int(selected[b"UIDNEXT"]) if b"UIDNEXT" in selected else None

    def highest_uid(self) -> int:
        """The UID of the newest mail now in the mailbox (0: none)."""
        if self.uidnext is not None:
            return self.uidnext - 1
        return max(self._client.search("ALL"), default=0)

    def uids_since(self, day: dt.date) -> list[int]:
        """The mails the server received on `day` or after, oldest first."""
        return sorted(int(uid) for uid in self._client.search(["SINCE", day]))

    def sizes_after(self, uid: int) -> list[tuple[int, int]]:
        """Each mail after `uid` (UID and size), oldest first. `n:*` always names the newest mail,
        even below n: it is left out."""
        found = [int(u) for u in self._client.search(["UID", f"{uid + 1}:*"]) if int(u) > uid]
        if not found:
            return []
        sizes = self._client.fetch(found, ["RFC822.SIZE"])
        return sorted((int(u), int(data[b"RFC822.SIZE"])) for u, data in sizes.items())

    def content(self, uid: int) -> bytes | None:
        """The whole mail as the server keeps it (None: expunged meanwhile). BODY.PEEK sets no flag."""
        data = self._client.fetch([uid], ["BODY.PEEK[]"]).get(uid)
        raw = None if data is None else data.get(b"BODY[]")
        return raw if isinstance(raw, bytes) else None

    def wait(self, seconds: float) -> None:
        """Until the server says the mailbox changed (IDLE), at most `seconds` (and never past
        IDLE_SECONDS); servers without IDLE are polled by the caller instead."""
        self._client.idle()
        try:
            self._client.idle_check(timeout=min(seconds, IDLE_SECONDS))
        finally:
            self._client.idle_done()

    def interrupt(self) -> None:
        """From another thread: the call waiting on the socket returns (or fails) at once."""
        try:
            self._client.socket().shutdown(socket.SHUT_RDWR)
        except OSError:  # already closed
            return

    def close(self) -> None:
        try:
            self._client.logout()
        except FAILURES:  # gone already: shut it without a word
            self._client.shutdown()


def checked(key: str, value: Any) -> Any:
    """One IMAP setting, checked (a blank host turns IMAP off)."""
    if key == IMAP_HOST:
        if value in (None, ""):
            return None
        if not isinstance(value, str) or not _HOST.fullmatch(value):
            raise InvalidInput("invalid_imap_host", f"{key}: a host name or address", key)
        return value
    if key in (IMAP_PORT, IMAP_POLL_SECONDS):
        low, high = _RANGES[key]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise InvalidInput(f"invalid_{key}", f"{key}: a whole number from {low} to {high}", key)
        return value
    if key == IMAP_SECURITY:
        return one_of(key, value, SECURITY)
    if key == IMAP_MAILBOX:
        if not isinstance(value, str) or not _MAILBOX.fullmatch(value):
            raise InvalidInput("invalid_imap_mailbox", f"{key}: a mailbox name such as INBOX", key)
        return value
    return str(value or "").strip()[:320] or None  # the username


@dataclass(frozen=True)
class Checked:
    problem: str | None  # what failed, in plain words (None: it works)
    sign_in: SignIn | None = None


async def check(client: httpx.AsyncClient, mailbox: Mailbox, timeout: float, ca_file: str | None) -> Checked:
    """Log in and examine the mailbox."""

    async def opening(secret: str) -> Session:
        return await asyncio.to_thread(Session, mailbox, timeout, ca_file, secret)

    try:
        opened = await logged_in(client, mailbox, opening)
    except Refused as exc:
        refused = None if mailbox.grant is None else email_oauth2.refused(mailbox.grant, exc)
        return Checked(f"the IMAP server at {mailbox.where} was not tried: {exc}", refused)
    except Unavailable as exc:
        return Checked(f"the IMAP server at {mailbox.where} was not tried: {exc}")
    except FAILURES as exc:
        return Checked(_failure(mailbox, exc))
    await asyncio.to_thread(opened.session.close)
    return Checked(None, opened.sign_in)


def _failure(mailbox: Mailbox, exc: Exception) -> str:
    insecure = email_tls.refusal(exc, mailbox.host)
    if insecure is not None:
        return f"no secure connection to the IMAP server at {mailbox.where}: {insecure}"
    if isinstance(exc, LoginError):
        return f"the IMAP server at {mailbox.where} refused the login ({_said(exc)})"
    if isinstance(exc, IMAPClientError):
        return f"the IMAP server at {mailbox.where} could not open the mailbox {mailbox.name!r} ({_said(exc)})"
    return f"could not reach the IMAP server at {mailbox.where} ({type(exc).__name__})"


def _said(exc: Exception) -> str:
    """The server's words (imapclient passes them on as bytes, sometimes)."""
    said = exc.args[0] if exc.args else ""
    text = said.decode("utf-8", "replace") if isinstance(said, bytes) else str(said)
    return " ".join(_BYTES_REPR.sub(r"\2", text).split())[:200]
