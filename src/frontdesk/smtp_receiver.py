"""The built-in SMTP receiver: where a mail server or a forwarding rule relays e-mail channels' mail.

aiosmtpd on FRONTDESK_SMTP_HOST:FRONTDESK_SMTP_PORT (off when the port is 0), in every server
process (frontdesk.server): mail comes in where requests do, and the engine's process keeps its
core for the runs. Several server processes (`serve --processes N`) share the port with
SO_REUSEPORT; the kernel spreads the connections. RCPT TO picks the channel by its inbound
address; an unknown one is refused with 550. A mail is answered 250 only once what it holds is
committed, so a crash before that makes the sending server try again and nothing is lost; the
message is idempotent on its Message-ID, so that retry stores nothing twice. A mail over
FRONTDESK_SMTP_MAX_BYTES is refused with 552. With FRONTDESK_SMTP_TLS_CERT and _KEY it offers
STARTTLS, and with FRONTDESK_SMTP_REQUIRE_TLS it takes no mail over a connection that did not use it.
"""

from __future__ import annotations

import asyncio
import logging
import re
import socket
import time
from collections.abc import Sequence

from aiosmtpd.smtp import SMTP, Envelope, Session

from frontdesk.actions.mail import take_mail
from frontdesk.channels import email, email_inbound
from frontdesk.channels.email_files import with_files
from frontdesk.domain.errors import DomainError
from frontdesk.domain.model import ChannelType
from frontdesk.settings import Settings, smtp_server_context
from frontdesk.store.database import Database
from frontdesk.store.media import media_store
from frontdesk.store.sql.channels import configs_of_type

log = logging.getLogger(__name__)
TRY_AGAIN = "451 4.3.0 the mail could not be stored now: try again later"
# How long the inbound addresses read from the database answer RCPT and DATA without a new read. A
# recipient not among them is always read afresh, so a new channel receives at once; a channel
# whose address changed or that was deleted stops receiving within this delay.
ADDRESSES_SECONDS = 2.0
# A mail up to this size is parsed on the event loop (well under a millisecond: less than a hop to a
# thread costs); a larger one, with its attachments, in a thread so that it holds up no other session.
PARSE_INLINE_BYTES = 64 * 1024


# The path as almost every client writes it: `<dot-atom@domain>`, then ESMTP parameters (printable
# ASCII) or nothing.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_DOMAIN = r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
_PARAMETERS = r"(?:[ \t]+[!#-'*-;=?-~]+)*[ \t]*"
_PLAIN_PATH = re.compile(rf"[ \t]*<({_ATOM}(?:\.{_ATOM})*@{_DOMAIN})>({_PARAMETERS})")


class _Smtp(SMTP):
    """aiosmtpd's server, reading a plain `<local@domain>` path directly: its own reading goes
    through the e-mail header parser, a sixth of the receiver's CPU. Anything else (quoted local
    parts, source routes, address literals, comments, a bare address) is still read by aiosmtpd."""

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        plain = _PLAIN_PATH.fullmatch(arg)
        if plain is None or (self.local_part_limit and len(plain[1].rpartition("@")[0]) > self.local_part_limit):
            return super()._getaddr(arg)
        return plain[1], plain[2].lstrip()


class SmtpReceiver:
    """One per server process; started after the other background parts and stopped first."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.media = media_store(settings)
        self._server: asyncio.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self._addresses: dict[str, int] = {}
        self._addresses_read_at = -ADDRESSES_SECONDS

    def start(self) -> None:
        """Bind now, then serve on this loop. Several server processes share the port (SO_REUSEPORT:
        the kernel spreads connections); a port another program holds is logged as an error and
        leaves the rest of the process running."""
        where = {"host": self.settings.smtp_host, "port": self.settings.smtp_port}
        if not self.settings.smtp_port:
            return
        try:
            listener = socket.create_server((self.settings.smtp_host, self.settings.smtp_port), reuse_port=True)
        except OSError as exc:
            log.error("smtp receiver cannot listen", extra={**where, "error": str(exc)})
            return
        self._task = asyncio.get_running_loop().create_task(self._serve(listener))
        log.info("smtp receiver listening", extra=where)

    async def _serve(self, listener: socket.socket) -> None:
        handler, limit, hostname = _Handler(self), self.settings.smtp_max_bytes, socket.gethostname()
        tls, required = smtp_server_context(self.settings), self.settings.smtp_require_tls

        def session() -> _Smtp:
            return _Smtp(
                handler,
                data_size_limit=limit,
                enable_SMTPUTF8=True,
                hostname=hostname,
                tls_context=tls,
                require_starttls=required,
            )

        self._server = await asyncio.get_running_loop().create_server(session, sock=listener)

    async def stop(self) -> None:
        if self._task is not None:
            await self._task
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def channel_of(self, address: str) -> int | None:
        """The e-mail channel whose inbound address this is (case does not matter)."""
        wanted = address.strip().lower()
        found = self._addresses.get(wanted)
        if found is not None and time.monotonic() - self._addresses_read_at < ADDRESSES_SECONDS:
            return found
        read_at = time.monotonic()
        channels = await self.db.read(lambda c: configs_of_type(c, ChannelType.EMAIL))
        self._addresses = {str(config.get(email.INBOUND_ADDRESS)): id_ for id_, config in reversed(channels)}
        self._addresses_read_at = read_at
        return self._addresses.get(wanted)

    async def take(self, mail: email_inbound.Mail, channel_ids: Sequence[int]) -> None:
        """Store the mail on each channel it was addressed to, in one transaction (its files first)."""
        item = await with_files(self.media, mail)
        await self.db.write(lambda c: take_mail(c, channel_ids, item))


class _Handler:
    """aiosmtpd's hooks: RCPT picks the channel, DATA stores the mail and answers after the commit."""

    def __init__(self, receiver: SmtpReceiver) -> None:
        self.receiver = receiver

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        try:
            channel_id = await self.receiver.channel_of(address)
        except Exception:  # the database is away: a temporary failure, the sending server tries again
            log.exception("email recipient not checked")
            return TRY_AGAIN
        if channel_id is None:
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        try:  # parsing is pure: a mail it cannot read now it never will, so that refusal is for good
            if len(content) <= PARSE_INLINE_BYTES:
                mail = email_inbound.read(content)
            else:
                mail = await asyncio.to_thread(email_inbound.read, content)
        except Exception:
            log.exception("email not readable")
            return "554 5.6.0 the mail could not be read"
        try:
            found = [await self.receiver.channel_of(address) for address in envelope.rcpt_tos]
            channel_ids = sorted({channel_id for channel_id in found if channel_id is not None})
            await self.receiver.take(mail, channel_ids)
        except DomainError as exc:
            log.warning("email refused", extra={"reason": exc.message})
            return f"554 5.6.0 {exc.message}"[:500]
        except Exception:  # not committed: the sending server keeps the mail and tries again
            log.exception("email not stored")
            return TRY_AGAIN
        return "250 2.0.0 stored"
