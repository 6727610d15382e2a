"""A mailbox on a server without IDLE is looked at every `imap_poll_seconds`; a mail too large to
take is passed (logged) without holding up the mail behind it. Dovecot here advertises no IDLE."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from frontdesk.settings import Settings
from frontdesk.store.database import Database
from frontdesk.store.sql.mailboxes import cursor
from tests.channels.dovecot import Dovecot
from tests.channels.email_support import create_channel, mail
from tests.channels.test_email_imap import arrived, imap_settings, reading
from tests.factories import Api

WITHOUT_IDLE = "imap_capability = IMAP4rev1 LITERAL+ SASL-IR LOGIN-REFERRALS ID ENABLE UIDPLUS\n"
LIMIT = 20_000


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    if not Dovecot.installed():
        pytest.skip("dovecot is not installed (apt-get install dovecot-imapd; make test does it as root)")
    server = Dovecot(WITHOUT_IDLE)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=db_url, log_format="text", media_dir=str(tmp_path / "media"), smtp_max_bytes=LIMIT)


def test_a_server_without_idle_is_polled_and_an_oversized_mail_is_passed(
    admin: Api, db: Database, dovecot: Dovecot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="frontdesk.imap_poller")
    channel = create_channel(admin, 2525, **imap_settings(dovecot, "INBOX", imap_poll_seconds=1))
    reading(db, channel["id"])

    dovecot.append(mail("A huge scan " + "x" * LIMIT, sender="big@example.org"))
    dovecot.append(mail("A small question", sender="small@example.org"))

    assert arrived(admin, "A small question") == ["A small question"]
    after = db.read_sync(lambda c: cursor(c, channel["id"]))
    assert after is not None and after.last_uid == 2
    opened = [r for r in caplog.records if r.getMessage() == "imap mailbox open"]
    assert opened and all(r.__dict__["idle"] is False for r in opened)
    [passed] = [r for r in caplog.records if r.getMessage() == "imap mail passed"]
    assert (passed.__dict__["uid"], passed.__dict__["limit"]) == (1, LIMIT)
