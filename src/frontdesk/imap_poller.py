"""The IMAP poller: every e-mail channel with an IMAP host has its mailbox read, in the worker
process beside the SMTP receiver, and each new mail stored as if the receiver had been handed it.

One reader per mailbox waits with IDLE when the server offers it, and looks again every
`imap_poll_seconds` in any case (a mailbox renumbered under an IDLE may not wake it); it
reconnects with a growing pause after a failure. Exactly once: the mailbox's cursor (UIDVALIDITY,
last UID) moves in the transaction that stores the mail, so a crash before the commit reads it
again and one after it never does. A mail that can never be stored (too large, unreadable, refused
by ingest) is logged and passed. The channels are read again after each change of one (and every
half minute), so a mailbox set, changed or removed in the admin page is followed without a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from dataclasses import replace

import httpx
from sqlalchemy import Connection

from frontdesk.actions.channels import CHANNELS, record_sign_in
from frontdesk.actions.mail import CursorMoved, move_cursor, take_polled_mail
from frontdesk.channels import email_imap, email_inbound, email_oauth2, email_tls
from frontdesk.channels.base import SignIn
from frontdesk.channels.email_files import with_files
from frontdesk.channels.email_oauth2 import Refused
from frontdesk.clock import now
from frontdesk.domain.errors import DomainError
from frontdesk.domain.model import ChannelType
from frontdesk.domain.records import Channel
from frontdesk.settings import Settings
from frontdesk.store.database import Database
from frontdesk.store.media import media_store
from frontdesk.store.sql.channels import channel, configs_of_type
from frontdesk.store.sql.mailboxes import MailboxCursor, cursor
from frontdesk.store.wakeup import WakeLoop, Wakeup

log = logging.getLogger(__name__)
CHANNELS_SECONDS = 30.0  # channels are read again on a change's commit, else this often
FIRST_PAUSE, LONGEST_PAUSE = 1.0, 300.0  # between reconnections, doubling


class ImapPoller:
    """One per worker process: a reader per e-mail channel that has a mailbox."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self._readers: dict[int, _Reader] = {}
        self._loop = WakeLoop("imap-channels", Wakeup(db, CHANNELS), self._follow_channels)
        # the OAuth2 token URLs' (a reader's first login creates nothing before it)
        self.client = httpx.AsyncClient(timeout=settings.delivery_timeout_seconds, follow_redirects=False)

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()
        for reader in self._readers.values():
            await reader.stop()
        self._readers.clear()
        await self.client.aclose()

    async def _follow_channels(self) -> float:
        await self._match(await self.db.read(_mailbox_channels))
        return CHANNELS_SECONDS

    async def _match(self, channels: list[Channel]) -> None:
        """A reader for each mailbox as now set: a new one when its settings changed."""
        wanted = {c.id: (c, email_imap.mailbox_of(c)) for c in channels}
        for channel_id, reader in list(self._readers.items()):
            if channel_id not in wanted or wanted[channel_id][1] != reader.mailbox:
                await reader.stop()
                del self._readers[channel_id]
        for channel_id, (_, mailbox) in wanted.items():
            if mailbox is not None and channel_id not in self._readers:
                self._readers[channel_id] = _Reader(self, channel_id, mailbox)


def _mailbox_channels(conn: Connection) -> list[Channel]:
    ids = [id_ for id_, config in configs_of_type(conn, ChannelType.EMAIL) if config.get(email_imap.IMAP_HOST)]
    return [found for found in (channel(conn, id_) for id_ in ids) if found is not None]


class _Reader:
    """One mailbox, read until stopped: connect, read what is new, wait, again."""

    def __init__(self, poller: ImapPoller, channel_id: int, mailbox: email_imap.Mailbox) -> None:
        self.db, self.settings, self.client = poller.db, poller.settings, poller.client
        self.media = media_store(poller.settings)
        self.channel_id = channel_id
        self.mailbox = mailbox
        self._session: email_imap.Session | None = None
        self._pause = FIRST_PAUSE
        self._where = {"channel_id": channel_id, "server": mailbox.where, "mailbox": mailbox.name}
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        session = self._session
        if session is not None:
            session.interrupt()  # a thread waiting in IDLE or a fetch returns now
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _run(self) -> None:
        while True:
            try:
                await self._connect()
                await self._read_and_wait()
            except asyncio.CancelledError:
                raise
            except Refused as exc:  # only an admin can mend it: said on the channel, tried again slowly
                if self.mailbox.grant is not None:
                    await self._record(email_oauth2.refused(self.mailbox.grant, exc))
                log.warning("imap mailbox not read", extra={**self._where, "error": str(exc), "pause": self._pause})
            except Exception as exc:
                extra = {**self._where, "error": _described(exc, self.mailbox.host), "pause": self._pause}
                log.warning("imap mailbox not read", extra=extra)
            finally:
                await self._disconnect()
            await asyncio.sleep(self._pause)
            self._pause = min(self._pause * 2, LONGEST_PAUSE)

    async def _connect(self) -> None:
        opened = await email_imap.logged_in(self.client, self.mailbox, self._open)
        self._session = opened.session
        if opened.sign_in is not None:
            await self._record(opened.sign_in)
        log.info("imap mailbox open", extra={**self._where, "idle": self._session.idles})

    async def _open(self, secret: str) -> email_imap.Session:
        timeout, ca_file = self.settings.delivery_timeout_seconds, self.settings.email_ca_file
        opening = asyncio.ensure_future(asyncio.to_thread(email_imap.Session, self.mailbox, timeout, ca_file, secret))
        try:
            return await asyncio.shield(opening)
        except asyncio.CancelledError:  # stopped while connecting: the connection is shut once made
            opening.add_done_callback(_shut)
            raise

    async def _record(self, sign_in: SignIn) -> None:
        """Save a rotated refresh token or a refused grant. The reader follows its own rotation, so
        the new token saved is no change of settings that would restart it."""
        rotated = sign_in.credentials.get(email_oauth2.REFRESH_TOKEN)
        if rotated and self.mailbox.grant is not None:
            self.mailbox = replace(self.mailbox, grant=replace(self.mailbox.grant, refresh_token=rotated))
        await self.db.write(lambda c: record_sign_in(c, self.channel_id, sign_in))

    async def _disconnect(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await asyncio.to_thread(session.close)

    async def _read_and_wait(self) -> None:
        session = self._session
        assert session is not None
        while True:
            await self._read_new(session)
            self._pause = FIRST_PAUSE  # the mailbox was read: the next failure waits the least again
            if session.idles:  # the server says when mail comes; a look every poll period all the same
                await asyncio.to_thread(session.wait, self.mailbox.poll_seconds)
            else:
                await asyncio.sleep(self.mailbox.poll_seconds)

    async def _read_new(self, session: email_imap.Session) -> None:
        """Every mail after the cursor, oldest first, each stored with the cursor moved past it.
        Another worker's poller that stored a mail first moved the cursor: read on from there."""
        while True:
            try:
                await asyncio.to_thread(session.examine)
                position = await self._position(session)
                for uid, size in await asyncio.to_thread(session.sizes_after, position.last_uid):
                    position = await self._take(session, position, uid, size)
                return
            except CursorMoved:
                log.debug("imap mail stored by another poller", extra=self._where)

    async def _position(self, session: email_imap.Session) -> MailboxCursor:
        """The cursor in this mailbox: where it stands; on first use after the newest mail (older
        mail is not imported); after a UIDVALIDITY change, before the mail of the day before the last
        one read (mail already stored is recognised by its Message-ID, mail that came meanwhile is not lost)."""
        read = await self.db.read(lambda c: cursor(c, self.channel_id))
        if read is not None and read.uidvalidity == session.uidvalidity:
            return read
        if read is None:
            start = await asyncio.to_thread(session.highest_uid)
        else:
            log.warning("imap mailbox renumbered", extra={**self._where, "uidvalidity": session.uidvalidity})
            since = await asyncio.to_thread(session.uids_since, read.read_at.date() - dt.timedelta(days=1))
            start = min(since) - 1 if since else await asyncio.to_thread(session.highest_uid)
        moved = MailboxCursor(session.uidvalidity, start, now())
        await self.db.write(lambda c: move_cursor(c, self.channel_id, read, moved))
        return moved

    async def _take(self, session: email_imap.Session, position: MailboxCursor, uid: int, size: int) -> MailboxCursor:
        moved = MailboxCursor(position.uidvalidity, uid, now())
        found = {**self._where, "uid": uid, "bytes": size}
        if size > self.settings.smtp_max_bytes:
            return await self._pass(position, moved, {**found, "limit": self.settings.smtp_max_bytes})
        raw = await asyncio.to_thread(session.content, uid)
        log.debug("imap mail fetched", extra=found)
        mail = None if raw is None else await asyncio.to_thread(_read, raw, found)
        if mail is None:  # expunged meanwhile, or unreadable
            return await self._pass(position, moved, found)
        item = await with_files(self.media, mail)
        try:
            await self.db.write(lambda c: take_polled_mail(c, self.channel_id, item, position, moved))
        except DomainError as exc:  # ingest refuses it: it always will
            return await self._pass(position, moved, {**found, "reason": exc.message})
        return moved

    async def _pass(self, position: MailboxCursor, moved: MailboxCursor, found: dict[str, object]) -> MailboxCursor:
        """Move the cursor past a mail that can never be stored, so the mail behind it is read."""
        log.warning("imap mail passed", extra=found)
        await self.db.write(lambda c: move_cursor(c, self.channel_id, position, moved))
        return moved


def _shut(opening: asyncio.Future[email_imap.Session]) -> None:
    if not opening.cancelled() and opening.exception() is None:
        opening.result().interrupt()


def _read(raw: bytes, found: dict[str, object]) -> email_inbound.Mail | None:
    """The parsed mail, or None (logged) when the parser cannot read it: it never will."""
    try:
        return email_inbound.read(raw)
    except Exception:
        log.exception("imap mail not readable", extra=found)
        return None


def _described(exc: Exception, host: str) -> str:
    insecure = email_tls.refusal(exc, host)
    if insecure is not None:
        return f"no secure connection: {insecure}"
    return f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}"
