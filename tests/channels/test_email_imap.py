"""An e-mail channel reading a mailbox by IMAP, against Debian's dovecot on loopback (one server for
the module, a mailbox of its own per test): new mail opens conversations through the SMTP
receiver's path (threading, auto-replies), each mail once across restarts and a UIDVALIDITY
change, and the check and the settings say what is wrong."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from frontdesk.server import create_app
from frontdesk.settings import Settings
from frontdesk.store.database import Database
from frontdesk.store.sql.mailboxes import MailboxCursor, cursor
from tests.channels.conversations import conversations, inbound_texts
from tests.channels.dovecot import PASSWORD, USER, Dovecot, new_mailbox, running
from tests.channels.email_support import INBOUND, Sink, create_channel, mail
from tests.channels.test_email_outbound import answer
from tests.channels.test_whatsapp_admin_page import csrf, logged_in_admin
from tests.factories import Api, eventually, make_token


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    yield from running()


@pytest.fixture
def mailbox(dovecot: Dovecot) -> str:
    return new_mailbox(dovecot, "Support")


def imap_settings(dovecot: Dovecot, mailbox: str, **more: Any) -> dict[str, Any]:
    settings = {"imap_host": "127.0.0.1", "imap_port": dovecot.port, "imap_security": "none"}
    return {**settings, "imap_username": USER, "imap_password": PASSWORD, "imap_mailbox": mailbox, **more}


def reading(db: Database, channel_id: int) -> MailboxCursor:
    """The channel's cursor, once its poller has opened the mailbox."""
    return eventually(lambda: db.read_sync(lambda c: cursor(c, channel_id)), "the poller opening the mailbox")


def texts(admin: Api) -> list[str]:
    return [text for found in reversed(conversations(admin)) for text in inbound_texts(admin, found["id"])]


def arrived(admin: Api, *expected: str) -> list[str]:
    """Every inbound text once the last expected one is stored (mail is read oldest first)."""
    return eventually(lambda: (found := texts(admin)) and found[-1] == expected[-1] and found, f"{expected}")


def test_new_mail_opens_a_conversation_and_mail_already_there_is_not_imported(
    admin: Api, db: Database, dovecot: Dovecot, mailbox: str, sink: Sink, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="frontdesk.imap_poller")
    dovecot.append(mail("An old newsletter", sender="news@example.org"), mailbox)
    channel = create_channel(admin, sink.port, **imap_settings(dovecot, mailbox))
    reading(db, channel["id"])

    dovecot.append(mail("My parcel is late", subject="Order #1042", sender="Sheena <sheena@example.org>"), mailbox)

    assert arrived(admin, "My parcel is late") == ["My parcel is late"]
    [conversation] = conversations(admin)
    assert conversation["subject"] == "Order #1042"
    assert admin.get(f"/api/v1/contacts/{conversation['contact_id']}").json()["name"] == "Sheena"
    [opened] = [r for r in caplog.records if r.getMessage() == "imap mailbox open"]
    assert opened.__dict__["idle"] is True  # dovecot offers IDLE: the poller waits on it


def test_an_answer_to_our_reply_joins_its_conversation_and_an_auto_reply_opens_nothing(
    admin: Api, db: Database, dovecot: Dovecot, mailbox: str, sink: Sink
) -> None:
    channel = create_channel(admin, sink.port, **imap_settings(dovecot, mailbox))
    reading(db, channel["id"])
    dovecot.append(mail("Where is my order?", sender="sheena@example.org"), mailbox)
    arrived(admin, "Where is my order?")
    [conversation] = conversations(admin)
    ours = f"<{answer(admin, conversation['id'], 'Which address?')['provider_message_id']}>"

    dovecot.append(mail("I am away", sender="robot@example.net", Auto_Submitted="auto-replied"), mailbox)
    dovecot.append(mail("12 Main St", sender="sheena@work.example", In_Reply_To=ours), mailbox)

    assert arrived(admin, "12 Main St") == ["Where is my order?", "12 Main St"]
    assert len(conversations(admin)) == 1


def test_a_restarted_poller_reads_what_came_meanwhile_and_nothing_twice(
    db: Database, dovecot: Dovecot, mailbox: str, sink: Sink, settings: Settings
) -> None:
    token = make_token(db, "admin")
    with TestClient(create_app(settings)) as first:
        channel = create_channel(Api(first, token), sink.port, **imap_settings(dovecot, mailbox))
        reading(db, channel["id"])
        dovecot.append(mail("Before the restart", sender="a@example.org"), mailbox)
        arrived(Api(first, token), "Before the restart")
        with TestClient(create_app(settings)) as second:  # two pollers of one mailbox, as two workers
            dovecot.append(mail("While two read it", sender="b@example.org"), mailbox)
            arrived(Api(second, token), "While two read it")
    for number in range(3):  # none running: the next start finds these
        dovecot.append(mail(f"While stopped {number}", sender=f"c{number}@example.org"), mailbox)
    with TestClient(create_app(settings)) as third:
        found = arrived(Api(third, token), "While stopped 2")

    assert found == ["Before the restart", "While two read it", "While stopped 0", "While stopped 1", "While stopped 2"]


def test_a_renumbered_mailbox_is_read_on_without_storing_its_mail_again(
    admin: Api, db: Database, dovecot: Dovecot, mailbox: str, sink: Sink
) -> None:
    # an IDLE on a mailbox deleted under it may hear nothing: the poll period bounds the wait
    channel = create_channel(admin, sink.port, **imap_settings(dovecot, mailbox, imap_poll_seconds=1))
    before = reading(db, channel["id"])
    dovecot.append(mail("Read before", sender="a@example.org"), mailbox)
    arrived(admin, "Read before")

    dovecot.renumber(mailbox)  # a new UIDVALIDITY: every UID means another mail now
    dovecot.append(mail("Came after", sender="b@example.org"), mailbox)

    assert arrived(admin, "Came after") == ["Read before", "Came after"]
    now = db.read_sync(lambda c: cursor(c, channel["id"]))
    assert now is not None and now.uidvalidity == dovecot.uidvalidity(mailbox) != before.uidvalidity


def test_the_check_logs_in_and_opens_the_mailbox_or_says_what_failed(
    admin: Api, dovecot: Dovecot, mailbox: str, sink: Sink
) -> None:
    working = create_channel(admin, sink.port, **imap_settings(dovecot, mailbox))
    wrong = create_channel(
        admin, sink.port, **imap_settings(dovecot, mailbox, imap_password="not-it"), inbound_address="b@acme.example"
    )
    missing = create_channel(admin, sink.port, **imap_settings(dovecot, "Nowhere"), inbound_address="c@acme.example")

    ok, refused, absent = (admin.post(f"/api/v1/channels/{c['id']}/check").json() for c in (working, wrong, missing))

    where = f"127.0.0.1:{dovecot.port}"
    assert ok["outcome"] == "ok" and f"the IMAP server at {where} opened {mailbox} for {USER}" in ok["detail"]
    assert refused["outcome"] == "failed"
    assert f"the IMAP server at {where} refused the login ([AUTHENTICATIONFAILED]" in refused["detail"]
    assert absent["outcome"] == "failed" and "could not open the mailbox 'Nowhere'" in absent["detail"]
    shown = [
        ok,
        refused,
        absent,
        admin.get(f"/api/v1/channels/{working['id']}").json(),
        admin.get("/api/v1/channels").json(),
    ]
    assert PASSWORD not in str(shown)
    assert working["config"]["imap_mailbox"] == mailbox and "imap_password" not in working["config"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"imap_port": 0}, "imap_port"),
        ({"imap_security": "ssl"}, "imap_security"),
        ({"imap_poll_seconds": 0}, "imap_poll_seconds"),
        ({"imap_mailbox": "Bad\nname"}, "imap_mailbox"),
        ({"imap_host": "no such host!"}, "imap_host"),
        ({"imap_password": ""}, "imap_password"),
    ],
    ids=["port", "security", "poll seconds", "mailbox", "host", "empty password"],
)
def test_a_bad_imap_setting_is_refused_naming_it_and_nothing_changes(
    admin: Api, change: dict[str, Any], field: str
) -> None:
    channel = create_channel(admin, 2525)
    body = {"type": "email", "name": "Mail", "inbound_address": "x@acme.example", "from_address": INBOUND}

    created = admin.post("/api/v1/channels", {**body, "smtp_host": "h", "imap_host": "imap.example", **change})
    patched = admin.patch(f"/api/v1/channels/{channel['id']}", change)

    for response in (created, patched):
        assert response.status_code in (400, 422), response.text
        assert field in response.text
    assert [c["id"] for c in admin.get("/api/v1/channels").json()] == [channel["id"]]
    assert admin.get(f"/api/v1/channels/{channel['id']}").json()["config"] == channel["config"]


def test_the_page_shows_and_saves_the_mailbox_and_never_its_password(
    admin: Api, dovecot: Dovecot, mailbox: str
) -> None:
    channel = create_channel(admin, 2525, **imap_settings(dovecot, mailbox))
    client = logged_in_admin(admin)
    html = client.get(f"/admin/channels/{channel['id']}").text
    assert f'value="{mailbox}"' in html and f'value="{USER}"' in html and PASSWORD not in html
    form = {
        "_csrf_token": csrf(html),
        **{key: str(value) for key, value in channel["config"].items() if value is not None},
        "name": "Mail",
        "imap_host": "",  # blank: the mailbox is no longer read
        "imap_password": "",
    }

    saved = client.post(f"/admin/channels/{channel['id']}", data=form)

    assert saved.status_code in (200, 303), saved.text
    assert admin.get(f"/api/v1/channels/{channel['id']}").json()["config"]["imap_host"] is None
