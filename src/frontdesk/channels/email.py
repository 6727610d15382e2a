"""E-mail: mail in through Frontdesk's SMTP receiver (frontdesk.smtp_receiver), out through the
channel's own SMTP server (aiosmtplib), with STARTTLS or TLS and a login when it needs one.

A channel is found by its inbound address (the receiver's RCPT TO); the contact's identity is
their lower-cased address. Inbound parsing is channels/email_inbound.py (the reply's own text:
channels/email_text.py), outbound composition channels/email_outbound.py. E-mail has no webhook
to verify and nothing to fetch: files arrive inside the mail.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, Sequence
from typing import Any

import aiosmtplib
import httpx

from frontdesk.channels import email_imap, email_inbound, email_outbound, email_tls, outbound_media
from frontdesk.channels.base import Capabilities, CheckOutcome, CheckResult, Item, MediaFetch, SendResult, Verdict
from frontdesk.domain.errors import InvalidInput
from frontdesk.domain.model import ChannelType
from frontdesk.domain.records import Attachment, Channel, Outbound
from frontdesk.settings import Settings

INBOUND_ADDRESS, FROM_ADDRESS = "inbound_address", "from_address"
SMTP_HOST, SMTP_PORT, SMTP_SECURITY, SMTP_USERNAME = "smtp_host", "smtp_port", "smtp_security", "smtp_username"
SMTP_PASSWORD = "smtp_password"
SECURITY = ("none", "starttls", "tls")
SETTINGS = (INBOUND_ADDRESS, FROM_ADDRESS, SMTP_HOST, SMTP_PORT, SMTP_SECURITY, SMTP_USERNAME)
MB = 1024 * 1024
# Files a mail may carry: what the usual providers take (Gmail, Outlook: 20-25 MB per message).
LIMITS = {kind: 20 * MB for kind in ("image", "audio", "video", "file")}
_ADDRESS = re.compile(r"[^@\s<>\"]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z0-9-]{2,63}")
_HOST = re.compile(r"[A-Za-z0-9.:\[\]-]{1,253}")


class EmailChannel:
    type = ChannelType.EMAIL
    capabilities = Capabilities(max_quick_replies=0, media=LIMITS)  # no buttons: options as numbered lines
    required = frozenset({INBOUND_ADDRESS, FROM_ADDRESS, SMTP_HOST})
    credential_names = frozenset({SMTP_PASSWORD, email_imap.IMAP_PASSWORD})

    def default_config(self) -> dict[str, Any]:
        return {SMTP_PORT: 587, SMTP_SECURITY: "starttls", SMTP_USERNAME: None}

    def check_config(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        checked: dict[str, Any] = {}
        for key, value in settings.items():
            if key in email_imap.SETTINGS:
                checked[key] = email_imap.checked(key, value)
            elif key in SETTINGS:
                checked[key] = _checked(key, value)
            else:
                raise InvalidInput("not_for_email", f"{key}: email channels do not take it", key)
        return checked

    def verify(self, secrets: Sequence[str], headers: Mapping[str, str], body: bytes, now: float) -> str | None:
        return "e-mail arrives through the SMTP receiver, not a webhook"

    def parse(self, payload: Any) -> Sequence[Item]:
        """A raw RFC 5322 mail (bytes): its one item (the receiver stores its files itself)."""
        return [email_inbound.read(payload).item] if isinstance(payload, bytes) else []

    def pushes(self, config: Mapping[str, Any]) -> bool:
        return True

    async def send(
        self, client: httpx.AsyncClient, channel: Channel, message: Outbound, settings: Settings
    ) -> SendResult:
        """One mail through the channel's SMTP server: sent (with our Message-ID kept), retried on a
        4xx or a connection problem, failed on a 5xx."""
        refused = outbound_media.check(message, self.capabilities, "E-mail")
        if refused is not None:
            return refused
        if not message.external_id:
            return SendResult(Verdict.FAILED, "the contact has no e-mail address on this channel")
        files: list[tuple[Attachment, bytes]] = []
        for attachment in (a for a in message.attachments if a.storage_key):
            content = await outbound_media.content(settings, attachment)
            if content is None:
                return outbound_media.missing(attachment)
            files.append((attachment, content))
        from_address = str(channel.config.get(FROM_ADDRESS) or "")
        mail = email_outbound.compose(message, channel.name, from_address, files)
        options = await _connection(channel, settings)
        try:
            await aiosmtplib.send(mail, **options)
        except (aiosmtplib.SMTPException, OSError) as exc:
            return email_outbound.classify(exc, options["hostname"], options["port"])
        return SendResult(Verdict.SENT, provider_message_id=email_outbound.message_id(message, from_address))

    async def check(self, client: httpx.AsyncClient, channel: Channel, settings: Settings) -> CheckResult:
        """Connect to the SMTP server, say EHLO (STARTTLS or TLS as set) and log in when a username is
        set; then, when the channel reads a mailbox, log in to its IMAP server and open the mailbox."""
        options = await _connection(channel, settings)
        where = f"{options['hostname']}:{options['port']}"
        smtp = aiosmtplib.SMTP(**options)
        try:
            await smtp.connect()
            await smtp.quit()
        except (aiosmtplib.SMTPException, OSError) as exc:
            return CheckResult(CheckOutcome.FAILED, _check_failure(options["hostname"], where, exc))
        login = f", logged in as {options['username']}" if options.get("username") else ""
        answered = f"the SMTP server at {where} answered{login}"
        mailbox = email_imap.mailbox_of(channel)
        if mailbox is None:
            return CheckResult(CheckOutcome.OK, answered, {"server": where})
        timeout, ca_file = settings.delivery_timeout_seconds, settings.email_ca_file
        failed = await asyncio.to_thread(email_imap.check, mailbox, timeout, ca_file)
        if failed is not None:
            return CheckResult(CheckOutcome.FAILED, f"{answered}; but {failed}"[:500])
        opened = f"{answered}; the IMAP server at {mailbox.where} opened {mailbox.name} for {mailbox.username}"
        return CheckResult(CheckOutcome.OK, opened, {"server": where, "imap_server": mailbox.where})

    async def fetch_media(
        self, client: httpx.AsyncClient, channel: Channel, attachment: Attachment, settings: Settings, limit: int
    ) -> MediaFetch:
        return MediaFetch(error="nothing to fetch: an e-mail's files are stored when the mail arrives")


def _checked(key: str, value: Any) -> Any:
    if key in (INBOUND_ADDRESS, FROM_ADDRESS):
        address = str(value or "").strip()
        if not _ADDRESS.fullmatch(address):
            raise InvalidInput("invalid_address", f"{key}: an e-mail address such as support@example.com", key)
        return address.lower() if key == INBOUND_ADDRESS else address
    if key == SMTP_HOST:
        if not isinstance(value, str) or not _HOST.fullmatch(value):
            raise InvalidInput("invalid_smtp_host", f"{key}: a host name or address", key)
        return value
    if key == SMTP_PORT:
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
            raise InvalidInput("invalid_smtp_port", f"{key}: a port from 1 to 65535", key)
        return value
    if key == SMTP_SECURITY:
        if value not in SECURITY:
            raise InvalidInput("invalid_smtp_security", f"{key}: one of {', '.join(SECURITY)}", key)
        return value
    username = str(value or "").strip()[:320]  # the login, or none (a server that takes mail without one)
    return username or None


async def _connection(channel: Channel, settings: Settings) -> dict[str, Any]:
    """aiosmtplib's connection options for the channel's server (its password opened here only).
    STARTTLS is required, not tried: a server that does not offer it never gets the login."""
    security, username = channel.config.get(SMTP_SECURITY, "starttls"), channel.config.get(SMTP_USERNAME)
    options: dict[str, Any] = {
        "hostname": channel.config.get(SMTP_HOST),
        "port": channel.config.get(SMTP_PORT, 587),
        "use_tls": security == "tls",
        "start_tls": security == "starttls",
        "timeout": settings.delivery_timeout_seconds,
    }
    if security != "none":
        options["tls_context"] = await email_tls.context_async(settings.email_ca_file)
    if username:
        options |= {"username": username, "password": channel.credential(SMTP_PASSWORD)}
    return options


def _check_failure(host: str, where: str, exc: Exception) -> str:
    insecure = email_tls.refusal(exc, host)
    if insecure is not None:
        return f"no secure connection to the SMTP server at {where}: {insecure}"[:500]
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return f"the SMTP server at {where} refused the login ({exc.code} {exc.message})"[:500]
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return f"the SMTP server at {where} answered {exc.code} {exc.message}"[:500]
    return f"could not reach the SMTP server at {where} ({type(exc).__name__})"


ADAPTER = EmailChannel()
