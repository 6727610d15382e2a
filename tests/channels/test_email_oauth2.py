"""An e-mail channel signing in with OAuth2 (XOAUTH2) rather than a password, against a fake OAuth2
provider on loopback, Debian's dovecot asking it whether a token is active, and the aiosmtpd sink
taking its tokens: mail read and replies sent, a token the server refuses renewed once, a rotated
refresh token saved, a revoked one said on the channel (and the mailbox left alone, tried again
ever more slowly), secrets never shown or logged, and bad settings refused naming the field."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from frontdesk.channels import email_oauth2
from frontdesk.domain.records import Channel
from frontdesk.settings import Settings
from frontdesk.store.database import Database
from frontdesk.store.sql.channels import channel as channel_row
from tests.channels.conversations import conversations, one_conversation
from tests.channels.dovecot import USER, Dovecot, new_mailbox, running
from tests.channels.email_support import INBOUND, Sink, create_channel, mail, running_sink, send
from tests.channels.oauth2_provider import CLIENT_ID, CLIENT_SECRET, Provider
from tests.channels.test_email_imap import arrived, reading
from tests.channels.test_email_outbound import answer
from tests.channels.test_whatsapp_admin_page import csrf, logged_in_admin
from tests.conftest import free_port
from tests.factories import Api, eventually

_sign_ins = itertools.count(1)


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def settings(db_url: str, tmp_path: Path, smtp_port: int) -> Settings:
    """Frontdesk's SMTP receiver on: a contact's mail opens the conversation a reply answers (a
    refused reply fails after 3 attempts)."""
    media = str(tmp_path / "media")
    return Settings(
        database_url=db_url,
        delivery_backoff_seconds=0.05,
        delivery_max_attempts=3,
        log_format="text",
        media_dir=media,
        smtp_port=smtp_port,
    )


@pytest.fixture(scope="module")
def oauth2_server() -> Iterator[Provider]:
    server = Provider(user=USER)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def provider(oauth2_server: Provider) -> Provider:
    """The module's provider with a refresh token of the test's own (a new sign-in: no token kept)."""
    oauth2_server.refresh_tokens = {f"refresh-token-{next(_sign_ins)}-k2"}
    oauth2_server.rotate, oauth2_server.expires_in = False, 3600
    oauth2_server.grants.clear()
    return oauth2_server


@pytest.fixture(scope="module")
def dovecot(oauth2_server: Provider) -> Iterator[Dovecot]:
    yield from running(introspection_url=f"{oauth2_server.url}/introspect")


@pytest.fixture
def mailbox(dovecot: Dovecot) -> str:
    return new_mailbox(dovecot, "OAuth")


@pytest.fixture
def sink(provider: Provider) -> Iterator[Sink]:
    yield from running_sink(bearer=provider.accepts)


def refresh_token(provider: Provider) -> str:
    return next(iter(provider.refresh_tokens))


def oauth2(provider: Provider, **more: Any) -> dict[str, Any]:
    """The grant's settings, as an admin gives them for a custom provider (the fake's token URL)."""
    grant = {"oauth2_provider": "custom", "oauth2_token_url": f"{provider.url}/token", "oauth2_client_id": CLIENT_ID}
    secrets = {"oauth2_client_secret": CLIENT_SECRET, "oauth2_refresh_token": refresh_token(provider)}
    return {**grant, "oauth2_scope": "mail.read mail.send", **secrets, **more}


def imap(dovecot: Dovecot, mailbox: str) -> dict[str, Any]:
    server = {"imap_host": "127.0.0.1", "imap_port": dovecot.port, "imap_security": "none"}
    return {**server, "imap_username": USER, "imap_mailbox": mailbox, "imap_auth": "oauth2"}


def smtp() -> dict[str, Any]:
    return {"smtp_username": USER, "smtp_auth": "oauth2"}


def test_mail_is_read_over_imap_with_an_access_token_from_the_refresh_token_grant(
    admin: Api, db: Database, dovecot: Dovecot, mailbox: str, sink: Sink, provider: Provider
) -> None:
    channel = create_channel(admin, sink.port, **imap(dovecot, mailbox), **oauth2(provider))
    reading(db, channel["id"])

    dovecot.append(mail("My parcel is late", subject="Order #1042", sender="sheena@example.org"), mailbox)

    assert arrived(admin, "My parcel is late") == ["My parcel is late"]
    [grant] = provider.grants
    assert grant == {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token(provider),
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "scope": "mail.read mail.send",
    }
    assert provider.introspected  # dovecot asked the provider whose the token is


def test_a_reply_is_sent_over_smtp_with_xoauth2_and_an_expired_token_is_renewed_once(
    admin: Api, sink: Sink, provider: Provider, smtp_port: int
) -> None:
    create_channel(admin, sink.port, **smtp(), **oauth2(provider))
    conversation = inbound_conversation(admin, smtp_port)

    first = answer(admin, conversation, "Which address?")
    provider.expire_access_tokens()  # the kept token is refused from now on
    second = answer(admin, conversation, "Thanks, on its way")

    assert first["delivery_status"] == second["delivery_status"] == "sent"
    assert [m["Subject"] for m in sink.arrived] == ["Re: Hello", "Re: Hello"]
    assert sink.logins == [("XOAUTH2", USER, False)] * 3  # the second reply: refused, renewed, taken
    assert len(provider.grants) == 2


def test_a_reply_whose_refresh_token_is_refused_is_not_sent_and_the_channel_says_why(
    admin: Api, sink: Sink, provider: Provider, smtp_port: int
) -> None:
    channel = create_channel(admin, sink.port, **smtp(), **oauth2(provider))
    conversation = inbound_conversation(admin, smtp_port)
    provider.revoke()

    reply = answer(admin, conversation, "Which address?")  # retried (a new sign-in may come), then failed

    assert reply["delivery_status"] == "failed" and sink.arrived == [] and sink.logins == []
    assert "the refresh token was refused: sign in again" in str(reply)
    config = admin.get(f"/api/v1/channels/{channel['id']}").json()["config"]
    assert config["sign_in_refused"].startswith("the refresh token was refused: sign in again (invalid_grant")


def test_a_token_is_kept_until_a_minute_before_it_expires(
    admin: Api, sink: Sink, provider: Provider, smtp_port: int
) -> None:
    provider.expires_in = 60  # kept for no time at all: each login asks for a new one
    create_channel(admin, sink.port, **smtp(), **oauth2(provider))
    conversation = inbound_conversation(admin, smtp_port)

    answer(admin, conversation, "One")
    answer(admin, conversation, "Two")

    assert len(sink.arrived) == 2 and len(sink.logins) == 2  # no login refused
    assert len(provider.grants) == 2


def test_a_token_url_that_does_not_answer_fails_the_check_and_leaves_the_channel_as_it_was(
    admin: Api, sink: Sink, provider: Provider
) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}/token"
    channel = create_channel(admin, sink.port, **smtp(), **oauth2(provider, oauth2_token_url=nowhere))

    checked = admin.post(f"/api/v1/channels/{channel['id']}/check").json()

    assert checked["outcome"] == "failed"
    assert f"the token URL {nowhere[7:-6]} did not answer (ConnectError)" in checked["detail"]
    assert "sign_in_refused" not in admin.get(f"/api/v1/channels/{channel['id']}").json()["config"]


def test_a_rotated_refresh_token_is_saved_and_used_when_the_imap_server_refuses_the_kept_token(
    admin: Api, db: Database, dovecot: Dovecot, mailbox: str, sink: Sink, provider: Provider
) -> None:
    provider.rotate = True
    channel = create_channel(admin, sink.port, **imap(dovecot, mailbox), **oauth2(provider))
    first = refresh_token(provider)

    checked = admin.post(f"/api/v1/channels/{channel['id']}/check").json()

    assert checked["outcome"] == "ok", checked
    assert checked["detail"].endswith(f"opened {mailbox} for {USER} with OAuth2")
    saved = eventually(
        lambda: (
            (found := db.read_sync(lambda c: channel_row(c, channel["id"]))) is not None
            and found.credential("oauth2_refresh_token") != first
            and found.credential("oauth2_refresh_token")
        ),
        "the rotated refresh token saved",
    )
    assert saved.startswith("refresh-rotated-") and saved in provider.refresh_tokens
    provider.expire_access_tokens()  # dovecot refuses the kept token: a fresh one, one more login
    again = admin.post(f"/api/v1/channels/{channel['id']}/check").json()
    assert again["outcome"] == "ok", again
    # The mailbox's poller may also have renewed with the first token before the rotation was saved
    # (the old one stays good until then); after it, only the saved one is used.
    used = [grant["refresh_token"] for grant in provider.grants]
    assert used[0] == first and used[-1] == saved and set(used) == {first, saved}, used


def test_a_rotation_is_told_to_every_login_with_the_old_grant_until_the_channel_holds_the_new_token(
    provider: Provider,
) -> None:
    """A login that failed after the refresh (or another task that reused the token) must not lose
    the rotated refresh token: each kept token of the old grant carries it, so the next login with
    the old grant records it (record_sign_in saves it while the channel still holds the old one)."""
    provider.rotate = True
    first = refresh_token(provider)
    grant = email_oauth2.Grant(f"{provider.url}/token", CLIENT_ID, "", CLIENT_SECRET, first)

    async def logins() -> tuple[email_oauth2.Token, email_oauth2.Token, email_oauth2.Token]:
        async with httpx.AsyncClient() as client:
            fresh = await email_oauth2.access_token(client, grant)  # its login then failed: nothing saved
            again = await email_oauth2.access_token(client, grant)  # the next login, kept token
            assert fresh.rotated is not None
            saved = await email_oauth2.access_token(client, dataclasses.replace(grant, refresh_token=fresh.rotated))
            return fresh, again, saved

    fresh, again, saved = asyncio.run(logins())

    assert fresh.rotated in provider.refresh_tokens and fresh.rotated != first
    assert (again.access_token, again.rotated) == (fresh.access_token, fresh.rotated)
    assert (saved.access_token, saved.rotated) == (fresh.access_token, None)
    assert len(provider.grants) == 1


def test_a_revoked_refresh_token_is_said_on_the_channel_and_nothing_is_read_until_a_new_sign_in(
    admin: Api,
    db: Database,
    dovecot: Dovecot,
    mailbox: str,
    sink: Sink,
    provider: Provider,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="frontdesk.imap_poller")
    settings = {**imap(dovecot, mailbox), **oauth2(provider)}
    provider.revoke()  # the user signed out everywhere, or an admin removed the app's consent
    channel = create_channel(admin, sink.port, **settings)
    dovecot.append(mail("Lost in the mailbox", sender="a@example.org"), mailbox)

    def refused() -> str | None:
        return admin.get(f"/api/v1/channels/{channel['id']}").json()["config"].get("sign_in_refused")

    status = eventually(refused, "the refusal shown on the channel")
    pauses = eventually(
        lambda: (
            (found := [r.__dict__["pause"] for r in caplog.records if r.getMessage() == "imap mailbox not read"])
            and len(found) >= 2
            and found
        ),
        "two attempts",
    )

    assert status.startswith("the refresh token was refused: sign in again (invalid_grant")
    assert pauses[:2] == [1.0, 2.0]  # tried again ever more slowly, as after a wrong password
    assert conversations(admin) == []
    provider.refresh_tokens = {"refresh-token-signed-in-again"}
    changed = admin.patch(
        f"/api/v1/channels/{channel['id']}", {"oauth2_refresh_token": "refresh-token-signed-in-again"}
    )
    assert changed.status_code == 200 and "sign_in_refused" not in changed.json()["config"]
    reading(db, channel["id"])
    dovecot.append(mail("Read after the new sign-in", sender="b@example.org"), mailbox)
    assert arrived(admin, "Read after the new sign-in") == ["Read after the new sign-in"]


def test_the_check_signs_in_to_both_servers_and_no_secret_is_shown_or_logged(
    admin: Api, dovecot: Dovecot, mailbox: str, sink: Sink, provider: Provider, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    channel = create_channel(admin, sink.port, **imap(dovecot, mailbox), **smtp(), **oauth2(provider))
    checked = admin.post(f"/api/v1/channels/{channel['id']}/check").json()
    provider.revoke()
    provider.expire_access_tokens()
    refused = admin.post(f"/api/v1/channels/{channel['id']}/check").json()
    page = logged_in_admin(admin).get(f"/admin/channels/{channel['id']}").text

    assert checked["outcome"] == "ok", checked
    assert f"logged in as {USER} with OAuth2" in checked["detail"]
    assert refused["outcome"] == "failed"
    assert "the refresh token was refused: sign in again" in refused["detail"]
    assert "the refresh token was refused: sign in again" in page and 'name="oauth2_refresh_token"' in page
    shown = [channel, checked, refused, admin.get(f"/api/v1/channels/{channel['id']}").json(), page]
    shown += [admin.get("/api/v1/channels").json(), caplog.text]
    secrets = [CLIENT_SECRET, *(g["refresh_token"] for g in provider.grants), "access-"]
    assert [secret for secret in secrets if secret in str(shown)] == []


def test_the_page_saves_an_oauth2_sign_in(admin: Api, provider: Provider) -> None:
    channel = create_channel(admin, 2525)
    client = logged_in_admin(admin)
    html = client.get(f"/admin/channels/{channel['id']}").text
    form = {
        "_csrf_token": csrf(html),
        **{key: str(value) for key, value in channel["config"].items() if value is not None},
        "name": "Mail",
        "smtp_username": USER,
        **{key: str(value) for key, value in {**smtp(), **oauth2(provider)}.items()},
    }

    saved = client.post(f"/admin/channels/{channel['id']}", data=form)

    assert saved.status_code in (200, 303), saved.text
    config = admin.get(f"/api/v1/channels/{channel['id']}").json()["config"]
    assert config["smtp_auth"] == "oauth2" and config["oauth2_client_id"] == CLIENT_ID
    assert refresh_token(provider) not in client.get(f"/admin/channels/{channel['id']}").text


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"oauth2_token_url": "http://login.example.com/token"}, "oauth2_token_url"),
        ({"oauth2_token_url": "ftp://127.0.0.1/token"}, "oauth2_token_url"),
        ({"oauth2_client_id": None}, "oauth2_client_id"),
        ({"oauth2_refresh_token": None}, "oauth2_refresh_token"),
        ({"oauth2_provider": None}, "oauth2_provider"),
        ({"oauth2_provider": "yahoo"}, "oauth2_provider"),
        ({"smtp_auth": "token"}, "smtp_auth"),
        ({"smtp_username": None}, "smtp_username"),
        ({"oauth2_tenant": "a/b"}, "oauth2_tenant"),
    ],
    ids=["http", "ftp", "no client id", "no refresh token", "no provider", "provider", "auth", "no user", "tenant"],
)
def test_a_bad_oauth2_setting_is_refused_naming_it_and_nothing_changes(
    admin: Api, provider: Provider, change: dict[str, Any], field: str
) -> None:
    channel = create_channel(admin, 2525)
    body = {"type": "email", "name": "Mail", "inbound_address": "x@acme.example", "from_address": INBOUND}
    given = {key: value for key, value in {**smtp(), **oauth2(provider), **change}.items() if value is not None}

    created = admin.post("/api/v1/channels", {**body, "smtp_host": "h", **given})
    patched = admin.patch(f"/api/v1/channels/{channel['id']}", {**smtp(), **oauth2(provider), **change})

    for response in (created, patched):
        assert response.status_code in (400, 422), response.text  # 400: the schema, 422: the adapter
        assert field in response.json()["detail"] or field in response.text
    assert [c["id"] for c in admin.get("/api/v1/channels").json()] == [channel["id"]]
    assert admin.get(f"/api/v1/channels/{channel['id']}").json()["config"] == channel["config"]


def test_google_and_microsoft_presets_give_their_token_urls(admin: Api, db: Database, provider: Provider) -> None:
    google = create_channel(admin, 2525, **smtp(), **oauth2(provider, oauth2_provider="google", oauth2_token_url=None))
    microsoft = create_channel(
        admin,
        2525,
        inbound_address="b@acme.example",
        **smtp(),
        **oauth2(provider, oauth2_provider="microsoft", oauth2_tenant="contoso.onmicrosoft.com", oauth2_scope=None),
    )

    grants = [email_oauth2.grant_of(row(db, found["id"])) for found in (google, microsoft)]
    assert [g.token_url if g else None for g in grants] == [
        "https://oauth2.googleapis.com/token",
        "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token",
    ]
    assert grants[1] is not None and grants[1].scope == email_oauth2.SCOPES["microsoft"]


def row(db: Database, channel_id: int) -> Channel:
    found = db.read_sync(lambda c: channel_row(c, channel_id))
    assert found is not None
    return found


def inbound_conversation(admin: Api, smtp_port: int) -> int:
    send(smtp_port, mail("Hello there", sender="sheena@example.org"))
    return one_conversation(admin)
