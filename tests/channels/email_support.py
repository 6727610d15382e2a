"""Shared by the e-mail channel's tests: the fixtures (real clients' formats), a channel, a sink."""

from __future__ import annotations

import base64
import binascii
import smtplib
from collections.abc import Callable, Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.conftest import free_port
from tests.factories import Api
from tests.tls import Pair

FIXTURES = Path(__file__).parent / "fixtures" / "email"
INBOUND = "support@acme.example"


def fixture(name: str, **values: str) -> bytes:
    """An .eml fixture with CRLF line ends, its `{placeholders}` filled."""
    text = (FIXTURES / f"{name}.eml").read_text()
    for key, value in values.items():
        text = text.replace(f"{{{key}}}", value)
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode()


def create_channel(admin: Api, smtp_port: int, **more: Any) -> dict[str, Any]:
    body = {
        "type": "email",
        "name": "Acme Support",
        "inbound_address": INBOUND,
        "from_address": INBOUND,
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp_port,
        "smtp_security": "none",
        **more,
    }
    response = admin.post("/api/v1/channels", body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def send(port: int, raw: bytes, to: str = INBOUND, sender: str = "someone@example.org") -> dict[str, tuple[int, bytes]]:
    """Relay `raw` to the receiver with the standard library's smtplib (refusals raise)."""
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        return client.sendmail(sender, [to], raw)


def mail(text: str, subject: str = "Hello", sender: str = "Sheena Park <sheena@example.org>", **headers: str) -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, INBOUND, subject
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(text)
    return message.as_bytes()


class _Recorder:
    def __init__(self, sink: Sink) -> None:
        self.sink = sink

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.sink.answer_data:
            return self.sink.answer_data
        raw = (envelope.original_content or b"").replace(b"\r\n", b"\n")  # as a mailbox keeps it
        parsed = message_from_bytes(raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.sink.arrived.append(parsed)
        return "250 OK"

    async def auth_XOAUTH2(self, server: SMTP, args: list[str]) -> AuthResult:
        """SASL XOAUTH2 (Google's and Microsoft's): `user=...^Aauth=Bearer <token>^A^A`, base64."""
        try:
            said = base64.b64decode(args[1], validate=True).decode() if len(args) == 2 else ""
        except (binascii.Error, UnicodeDecodeError):
            said = ""
        fields = dict(part.split("=", 1) for part in said.split("\x01") if "=" in part)
        user, token = fields.get("user", ""), fields.get("auth", "").removeprefix("Bearer ")
        over_tls = server.transport is not None and server.transport.get_extra_info("ssl_object") is not None
        self.sink.logins.append(("XOAUTH2", user, over_tls))
        accepted = self.sink.bearer is not None and self.sink.bearer(user, token)
        return AuthResult(success=accepted, handled=False)


class Sink:
    """An aiosmtpd server on loopback recording what arrives, or answering what it is told to.

    With `certificate`, it speaks TLS (`security` "starttls": required before anything else, or
    "tls": from the first byte); with `login`, it takes mail only after that login; with `bearer`,
    only after an XOAUTH2 login whose user and token it accepts.
    """

    def __init__(
        self,
        port: int,
        security: str = "none",
        certificate: Pair | None = None,
        login: tuple[str, str] = ("", ""),
        bearer: Callable[[str, str], bool] | None = None,
    ) -> None:
        self.port = port
        self.security, self.certificate, self.login, self.bearer = security, certificate, login, bearer
        self.arrived: list[EmailMessage] = []
        self.logins: list[tuple[str, str, bool]] = []  # mechanism, login, over TLS
        self.answer_data = ""
        self._controller: Controller | None = None

    def start(self) -> None:
        options: dict[str, Any] = {}
        if self.certificate is not None:
            context = self.certificate.server_context()
            tls = {"tls_context": context, "require_starttls": True} if self.security == "starttls" else {}
            options = {"ssl_context": context} if self.security == "tls" else tls
        if self.login[0] or self.bearer is not None:
            # AUTH offered before STARTTLS is refused; without TLS it is offered, so a client that
            # wrongly logs in in clear is seen doing it. (aiosmtpd offers no AUTH on TLS from the
            # first byte when it requires TLS for it: it only counts STARTTLS.)
            before_starttls = self.security == "starttls"
            options |= {"authenticator": self._authenticate, "auth_required": True, "auth_require_tls": before_starttls}
        self._controller = Controller(_Recorder(self), hostname="127.0.0.1", port=self.port, **options)
        self._controller.start()

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login, password = data.login.decode(), data.password.decode()
        over_tls = server.transport is not None and server.transport.get_extra_info("ssl_object") is not None
        self.logins.append((mechanism, login, over_tls))
        return AuthResult(success=(login, password) == self.login)

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


def running_sink(**options: Any) -> Iterator[Sink]:
    """A started Sink on a free port (Sink's options), stopped when the caller is done with it."""
    server = Sink(free_port(), **options)
    server.start()
    try:
        yield server
    finally:
        server.stop()
