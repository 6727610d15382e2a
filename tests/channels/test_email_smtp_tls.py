"""Replies through SMTP servers speaking TLS (aiosmtpd sinks with the session's test CA): STARTTLS and
TLS from the first byte, the login made over it; a server whose certificate is refused (self-signed,
another name) or that offers no STARTTLS gets neither the mail nor the password, and the delivery
and the check say why. The CA is trusted the way an operator trusts a private one:
FRONTDESK_EMAIL_CA_FILE."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from frontdesk.settings import Settings
from tests.channels.conversations import one_conversation
from tests.channels.email_support import Sink, create_channel, mail, send
from tests.channels.test_email_outbound import answer
from tests.conftest import free_port
from tests.factories import Api
from tests.tls import Certificates, Pair

USER, PASSWORD = "support@acme.example", "smtp-password-1234"
# the sinks that must take a login without STARTTLS (TLS from the first byte, or none at all) say so
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
FIRST = mail("My parcel is late", subject="Order #1042", sender="Sheena <sheena@example.org>")


@pytest.fixture
def receiver_port() -> int:
    return free_port()


@pytest.fixture
def settings(db_url: str, tmp_path: Path, receiver_port: int, certificates: Certificates) -> Settings:
    return Settings(
        database_url=db_url,
        delivery_backoff_seconds=0.05,
        delivery_max_attempts=2,
        log_format="text",
        media_dir=str(tmp_path / "media"),
        smtp_port=receiver_port,
        email_ca_file=str(certificates.ca_file),
    )


@pytest.fixture
def serving() -> Iterator[list[Sink]]:
    started: list[Sink] = []
    yield started
    for sink in started:
        sink.stop()


def started(serving: list[Sink], security: str, certificate: Pair | None) -> Sink:
    """A sink speaking `security` with `certificate`, taking mail after the login USER/PASSWORD."""
    sink = Sink(free_port(), security, certificate, login=(USER, PASSWORD))
    sink.start()
    serving.append(sink)
    return sink


def replying_through(admin: Api, sink: Sink, security: str, receiver_port: int) -> tuple[dict[str, Any], int]:
    """A channel replying through `sink` with `security` (logging in), and a conversation the
    contact opened by mail."""
    login = {"smtp_username": USER, "smtp_password": PASSWORD}
    channel = create_channel(admin, sink.port, smtp_security=security, **login)
    send(receiver_port, FIRST)
    return channel, one_conversation(admin)


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_a_reply_goes_through_starttls_or_tls_with_the_login_made_over_it(
    admin: Api, serving: list[Sink], receiver_port: int, certificates: Certificates, security: str
) -> None:
    sink = started(serving, security, certificates.loopback)
    channel, conversation = replying_through(admin, sink, security, receiver_port)

    sent = answer(admin, conversation, "It ships today.")
    checked = admin.post(f"/api/v1/channels/{channel['id']}/check").json()

    assert sent["delivery_status"] == "sent", sent["delivery_error"]
    assert [m["Message-ID"] for m in sink.arrived] == [f"<{sent['provider_message_id']}>"]
    assert [(login, over_tls) for _, login, over_tls in sink.logins] == [(USER, True), (USER, True)]
    assert {mechanism for mechanism, _, _ in sink.logins} <= {"PLAIN", "LOGIN"}
    assert checked["outcome"] == "ok" and f"logged in as {USER}" in checked["detail"]


@pytest.mark.parametrize(
    ("security", "certificate", "reason"),
    [
        ("starttls", "self_signed", "its certificate is not trusted (self-signed certificate;"),
        ("tls", "elsewhere", "its certificate is not valid for 127.0.0.1"),
        ("starttls", None, "does not offer STARTTLS"),
    ],
    ids=["self-signed", "another name", "no STARTTLS"],
)
def test_a_server_whose_tls_is_refused_gets_neither_the_mail_nor_the_password(
    admin: Api,
    serving: list[Sink],
    receiver_port: int,
    certificates: Certificates,
    caplog: pytest.LogCaptureFixture,
    security: str,
    certificate: str | None,
    reason: str,
) -> None:
    caplog.set_level(logging.INFO)
    presented = None if certificate is None else getattr(certificates, certificate)
    # without a certificate the sink offers no STARTTLS, and takes a login in clear: a client that
    # went on without TLS would be seen making it
    sink = started(serving, security if presented else "none", presented)
    channel, conversation = replying_through(admin, sink, security, receiver_port)

    failed = answer(admin, conversation, "It ships today.")
    checked = admin.post(f"/api/v1/channels/{channel['id']}/check").json()

    assert (failed["delivery_status"], failed["delivery_attempts"]) == ("failed", 2)  # retried, then given up
    assert reason in failed["delivery_error"]
    assert checked["outcome"] == "failed" and reason in checked["detail"]
    assert (sink.arrived, sink.logins) == ([], [])
    assert PASSWORD not in f"{failed} {checked} {caplog.text}"


def test_a_ca_file_that_cannot_be_read_stops_the_start_naming_it(tmp_path: Path) -> None:
    not_pem = tmp_path / "ca.pem"
    not_pem.write_text("not a certificate")

    for path in (not_pem, tmp_path / "missing.pem"):
        with pytest.raises(ValidationError, match=f"email_ca_file[\\s\\S]*not a readable PEM file .*{path.name}"):
            Settings(email_ca_file=str(path))
