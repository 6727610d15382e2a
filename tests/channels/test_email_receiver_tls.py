"""The SMTP receiver over STARTTLS (FRONTDESK_SMTP_TLS_CERT/_KEY), fed by the standard library's
smtplib trusting the tests' CA: the mail arrives encrypted; with FRONTDESK_SMTP_REQUIRE_TLS a
client that did not STARTTLS is refused before anything is stored; and settings that cannot work
stop the start."""

from __future__ import annotations

import smtplib
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from frontdesk.settings import Settings
from tests.channels.conversations import conversations, one_conversation
from tests.channels.email_support import INBOUND, create_channel, mail
from tests.conftest import free_port
from tests.factories import Api
from tests.tls import Certificates


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def settings(db_url: str, tmp_path: Path, smtp_port: int, certificates: Certificates) -> Settings:
    return Settings(
        database_url=db_url,
        log_format="text",
        media_dir=str(tmp_path / "media"),
        smtp_port=smtp_port,
        smtp_tls_cert=str(certificates.loopback.cert),
        smtp_tls_key=str(certificates.loopback.key),
        smtp_require_tls=True,
    )


@pytest.fixture
def channel(admin: Api) -> dict[str, Any]:
    return create_channel(admin, smtp_port=free_port())


def test_a_mail_sent_after_starttls_opens_a_conversation(
    admin: Api, channel: dict[str, Any], smtp_port: int, certificates: Certificates
) -> None:
    with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as client:
        client.ehlo()
        assert client.has_extn("starttls")
        client.starttls(context=certificates.client_context())
        assert client.sock is not None and client.sock.version() in ("TLSv1.2", "TLSv1.3")
        refused = client.sendmail("someone@example.org", [INBOUND], mail("Sent encrypted", subject="TLS"))

    assert refused == {}
    conversation = admin.get(f"/api/v1/conversations/{one_conversation(admin)}").json()
    assert conversation["subject"] == "TLS"


def test_a_client_that_did_not_starttls_is_refused_and_nothing_is_stored(
    admin: Api, channel: dict[str, Any], smtp_port: int
) -> None:
    with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as client, pytest.raises(smtplib.SMTPException) as refused:
        client.sendmail("someone@example.org", [INBOUND], mail("Sent in clear"))
    assert isinstance(refused.value, smtplib.SMTPSenderRefused) and refused.value.smtp_code == 530
    assert b"STARTTLS" in refused.value.smtp_error
    assert conversations(admin) == []


def test_settings_that_cannot_work_stop_the_start(certificates: Certificates, tmp_path: Path) -> None:
    pair = certificates.loopback
    with pytest.raises(ValidationError, match="set both or neither"):
        Settings(smtp_tls_cert=str(pair.cert))
    with pytest.raises(ValidationError, match="needs FRONTDESK_SMTP_TLS_CERT"):
        Settings(smtp_require_tls=True)
    with pytest.raises(ValidationError, match="not a readable certificate and key"):
        Settings(smtp_tls_cert=str(pair.cert), smtp_tls_key=str(certificates.elsewhere.key))  # not its key
    missing = tmp_path / "missing.pem"
    with pytest.raises(ValidationError, match="not a readable certificate and key"):
        Settings(smtp_tls_cert=str(missing), smtp_tls_key=str(pair.key))
