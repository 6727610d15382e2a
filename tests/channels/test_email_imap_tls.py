"""A mailbox read over TLS, against dovecot requiring it (one server for the module, certificates of
the session's test CA): TLS from the first byte and STARTTLS both read new mail and pass the check;
without the CA trusted (FRONTDESK_EMAIL_CA_FILE unset) the check and the poller's log say the
certificate is not trusted, and the password never crosses."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient

from frontdesk.server import create_app
from frontdesk.settings import Settings
from frontdesk.store.database import Database
from tests.channels.dovecot import PASSWORD, USER, Dovecot, new_mailbox, running
from tests.channels.email_support import Sink, create_channel, mail
from tests.channels.test_email_imap import arrived, imap_settings, reading
from tests.factories import Api, eventually, make_token
from tests.tls import Certificates


@pytest.fixture(scope="module")
def dovecot(certificates: Certificates) -> Iterator[Dovecot]:
    yield from running(certificates)


@pytest.fixture
def mailbox(dovecot: Dovecot) -> str:
    return new_mailbox(dovecot, "Secure")


@pytest.fixture
def settings(db_url: str, tmp_path: Path, certificates: Certificates) -> Settings:
    return Settings(
        database_url=db_url,
        log_format="text",
        media_dir=str(tmp_path / "media"),
        email_ca_file=str(certificates.ca_file),
    )


@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_a_mailbox_is_read_over_tls_or_starttls_and_passes_the_check(
    admin: Api, db: Database, dovecot: Dovecot, mailbox: str, sink: Sink, security: str
) -> None:
    port = dovecot.tls_port if security == "tls" else dovecot.port
    secure = imap_settings(dovecot, mailbox, imap_security=security, imap_port=port)
    channel = create_channel(admin, sink.port, **secure)
    reading(db, channel["id"])

    dovecot.append(mail("My parcel is late", sender="sheena@example.org"), mailbox)

    assert arrived(admin, "My parcel is late") == ["My parcel is late"]
    checked = admin.post(f"/api/v1/channels/{channel['id']}/check").json()
    assert checked["outcome"] == "ok", checked["detail"]
    assert f"the IMAP server at 127.0.0.1:{port} opened {mailbox} for {USER}" in checked["detail"]


def test_a_server_whose_ca_is_not_trusted_is_refused_and_the_check_says_so(
    db: Database,
    db_url: str,
    tmp_path: Path,
    dovecot: Dovecot,
    mailbox: str,
    sink: Sink,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    logins = dovecot.log().count("Login: user=")
    untrusting = Settings(database_url=db_url, log_format="text", media_dir=str(tmp_path / "media"))
    with TestClient(create_app(untrusting)) as client:
        admin = Api(client, make_token(db, "admin"))
        plain = imap_settings(dovecot, mailbox, imap_security="tls", imap_port=dovecot.tls_port)
        channel = create_channel(admin, sink.port, **plain)

        checked = admin.post(f"/api/v1/channels/{channel['id']}/check").json()
        not_read = eventually(
            lambda: [r for r in caplog.records if r.getMessage() == "imap mailbox not read"], "the poller's failure"
        )

    assert checked["outcome"] == "failed"
    where = f"127.0.0.1:{dovecot.tls_port}"
    reason = "its certificate is not trusted (unable to get local issuer certificate"
    assert f"no secure connection to the IMAP server at {where}: {reason}" in checked["detail"]
    assert reason in not_read[0].__dict__["error"]
    assert dovecot.log().count("Login: user=") == logins  # no login reached the server
    assert PASSWORD not in f"{checked} {caplog.text}"
