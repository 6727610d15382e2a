"""E-mail: mail in through Frontdesk's SMTP receiver (frontdesk.smtp_receiver), out through the
channel's own SMTP server (aiosmtplib), with STARTTLS or TLS and a login when it needs one: a
password, or an OAuth2 access token (XOAUTH2, channels/email_oauth2.py).

A channel is found by its inbound address (the receiver's RCPT TO); the contact's identity is
their lower-cased address. Inbound parsing is channels/email_inbound.py (the reply's own text:
channels/email_text.py), outbound composition channels/email_outbound.py. E-mail has no webhook
to verify and nothing to fetch: files arrive inside the mail.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import aiosmtplib
import httpx

from frontdesk.channels import email_imap, email_inbound, email_oauth2, email_outbound, email_tls, outbound_media
from frontdesk.channels.base import (
    Capabilities,
    CheckOutcome,
    CheckResult,
    Item,
    MediaFetch,
    SendResult,
    SignIn,
    Verdict,
    one_of,
)
from frontdesk.channels.email_oauth2 import SMTP_AUTH, Grant, Refused, Unavailable
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
    credential_names = frozenset({SMTP_PASSWORD, email_imap.IMAP_PASSWORD, *email_oauth2.CREDENTIALS})

    def default_config(self) -> dict[str, Any]:
        return {SMTP_PORT: 587, SMTP_SECURITY: "starttls", SMTP_USERNAME: None}

    def check_config(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        checked: dict[str, Any] = {}
        for key, value in settings.items():
            if key in email_imap.SETTINGS:
                checked[key] = email_imap.checked(key, value)
            elif key in email_oauth2.SETTINGS:
                checked[key] = email_oauth2.checked(key, value)
            elif key in SETTINGS:
                checked[key] = _checked(key, value)
            else:
                raise InvalidInput("not_for_email", f"{key}: email channels do not take it", key)
        return checked

    def check_complete(self, config: Mapping[str, Any], credentials: Mapping[str, str]) -> None:
        email_oauth2.check_together(config, credentials)

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
        signing = _Signing(client, channel)
        try:
            smtp = await signing.connected(options)
            try:
                await smtp.send_message(mail)
            finally:
                await _leave(smtp)
        except Refused as exc:  # tried again: the admin may sign in again within the attempts
            return SendResult(Verdict.RETRY, f"SMTP OAuth2: {exc}"[:500], sign_in=signing.refused(exc))
        except Unavailable as exc:
            return SendResult(Verdict.RETRY, f"SMTP OAuth2: {exc}"[:500], sign_in=signing.news())
        except (aiosmtplib.SMTPException, OSError) as exc:
            result = email_outbound.classify(exc, options["hostname"], options["port"])
            return SendResult(result.verdict, result.error, sign_in=signing.news())
        sent = email_outbound.message_id(message, from_address)
        return SendResult(Verdict.SENT, provider_message_id=sent, sign_in=signing.news())

    async def check(self, client: httpx.AsyncClient, channel: Channel, settings: Settings) -> CheckResult:
        """Connect to the SMTP server, say EHLO (STARTTLS or TLS as set) and log in when a username is
        set; then, when the channel reads a mailbox, log in to its IMAP server and open the mailbox."""
        options = await _connection(channel, settings)
        where = f"{options['hostname']}:{options['port']}"
        signing = _Signing(client, channel)
        try:
            smtp = await signing.connected(options)
            await smtp.quit()
        except Refused as exc:
            detail = f"the SMTP server at {where} was not tried: {exc}"[:500]
            return CheckResult(CheckOutcome.FAILED, detail, sign_in=signing.refused(exc))
        except Unavailable as exc:
            detail = f"the SMTP server at {where} was not tried: {exc}"[:500]
            return CheckResult(CheckOutcome.FAILED, detail, sign_in=signing.news())
        except (aiosmtplib.SMTPException, OSError) as exc:
            detail = _check_failure(options["hostname"], where, exc)
            return CheckResult(CheckOutcome.FAILED, detail, sign_in=signing.news())
        username = options.get("username") or channel.config.get(SMTP_USERNAME)
        login = f", logged in as {username}{signing.how}" if username else ""
        answered = f"the SMTP server at {where} answered{login}"
        mailbox = email_imap.mailbox_of(channel)
        if mailbox is None:
            return CheckResult(CheckOutcome.OK, answered, {"server": where}, sign_in=signing.news())
        failed = await email_imap.check(client, mailbox, settings.delivery_timeout_seconds, settings.email_ca_file)
        sign_in = _merged(signing.news(), failed.sign_in)
        if failed.problem is not None:
            return CheckResult(CheckOutcome.FAILED, f"{answered}; but {failed.problem}"[:500], sign_in=sign_in)
        how = " with OAuth2" if mailbox.grant is not None else ""
        opened = f"{answered}; the IMAP server at {mailbox.where} opened {mailbox.name} for {mailbox.username}{how}"
        return CheckResult(CheckOutcome.OK, opened, {"server": where, "imap_server": mailbox.where}, sign_in=sign_in)

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
        return one_of(key, value, SECURITY)
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
    if username and not email_oauth2.uses_oauth2(channel.config, SMTP_AUTH):
        options |= {"username": username, "password": channel.credential(SMTP_PASSWORD)}
    return options


class _Signing:
    """An SMTP connection's login with OAuth2 when the channel says so: the kept access token, and
    when the server refuses it, one fresh token and one more try. Remembers what the caller saves."""

    def __init__(self, client: httpx.AsyncClient, channel: Channel) -> None:
        self.client = client
        self.username = str(channel.config.get(SMTP_USERNAME) or "")
        uses = email_oauth2.uses_oauth2(channel.config, SMTP_AUTH)
        self.grant: Grant | None = email_oauth2.grant_of(channel) if uses else None
        self.how = " with OAuth2" if self.grant is not None else ""
        self.rotated: str | None = None
        self.granted = False

    async def connected(self, options: dict[str, Any]) -> aiosmtplib.SMTP:
        """Connected, TLS as set, and logged in (by password: aiosmtplib's login on connect)."""
        smtp = aiosmtplib.SMTP(**options)
        await smtp.connect()
        if self.grant is None:
            return smtp
        try:
            await self._login(smtp, self.grant)
        except BaseException:
            smtp.close()
            raise
        return smtp

    async def _login(self, smtp: aiosmtplib.SMTP, grant: Grant) -> None:
        token = await email_oauth2.access_token(self.client, grant)
        self.rotated, self.granted = token.rotated, True
        try:
            await smtp.auth_xoauth2(self.username, token.access_token)
            return
        except aiosmtplib.SMTPAuthenticationError:
            email_oauth2.forget(grant)  # expired or revoked early: one fresh token, one more try
        token = await email_oauth2.fresh_token(self.client, grant)
        self.rotated = token.rotated or self.rotated
        await smtp.auth_xoauth2(self.username, token.access_token)

    def news(self) -> SignIn | None:
        if self.grant is None:
            return None
        return email_oauth2.sign_in(self.grant, rotated=self.rotated, granted=self.granted)

    def refused(self, exc: Refused) -> SignIn | None:
        return None if self.grant is None else email_oauth2.refused(self.grant, exc)


def _merged(first: SignIn | None, second: SignIn | None) -> SignIn | None:
    """What the SMTP and the IMAP logins learned, together (the grant is one)."""
    if first is None or second is None:
        return first or second
    refused = second.refused or first.refused
    credentials = {**first.credentials, **second.credentials}
    return SignIn(credentials, refused, first.credential, first.used or second.used, first.granted or second.granted)


async def _leave(smtp: aiosmtplib.SMTP) -> None:
    """QUIT, as aiosmtplib.send does: a server that hangs up instead changes nothing once the mail is sent."""
    try:
        await smtp.quit()
    except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPResponseException, aiosmtplib.SMTPTimeoutError):
        pass
    finally:
        smtp.close()


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
