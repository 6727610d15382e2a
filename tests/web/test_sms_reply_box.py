"""An SMS conversation's reply box: how many segments the reply costs (server-rendered, and
recounted live while the agent types, in real Chromium), and the contact's STOP said plainly, a
reply sent anyway coming back with the reason and the draft kept."""

from __future__ import annotations

import html
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from frontdesk.actions.sessions import set_password
from frontdesk.settings import Settings
from tests.channels import twilio_support as tw
from tests.channels.conversations import one_conversation
from tests.conftest import LiveServer
from tests.engine.support import thread
from tests.factories import Api
from tests.web.support import PASSWORD, api, csrf_of, login

OPTED_OUT = "the contact opted out of messages from this number (they sent STOP): they must send START first"


@pytest.fixture
def twilio_api() -> Iterator[tw.FakeTwilio]:
    fake = tw.FakeTwilio()
    yield fake
    fake.close()


@pytest.fixture
def settings(db_url: str, twilio_api: tw.FakeTwilio) -> Settings:
    return Settings(database_url=db_url, log_format="text", twilio_base_url=twilio_api.url, public_url=tw.PUBLIC_URL)


@pytest.fixture
def web(admin: Api) -> Api:
    """The admin's web session on the same client (cookies)."""
    email = "agent@sms.test"
    made = admin.post("/api/v1/agents", {"name": "SMS Agent", "email": email, "role": "admin"}).json()
    admin.db.write_sync(lambda c: set_password(c, made["id"], PASSWORD))
    client = admin.client
    form = {"email": email, "password": PASSWORD, "_csrf_token": csrf_of(client.get("/login").text)}
    assert client.post("/login", data=form, follow_redirects=False).status_code == 302
    return Api(client, "")


@pytest.fixture
def conversation_id(admin: Api) -> int:
    channel = tw.create_channel(admin)
    tw.post_webhook(admin, channel["id"], tw.webhook("sms"))
    return one_conversation(admin)


def page_of(web: Api, conversation_id: int) -> str:
    response = web.client.get(f"/inbox?c={conversation_id}", headers={"accept": "text/html"})
    assert response.status_code == 200, response.text
    return html.unescape(response.text)


def test_the_reply_box_of_an_sms_conversation_shows_the_segment_count(web: Api, conversation_id: int) -> None:
    shown = page_of(web, conversation_id)

    assert '<span class="segments">0 SMS segments</span>' in shown
    assert '<span class="encoding">GSM-7</span>' in shown
    assert OPTED_OUT not in shown


def test_a_reply_to_a_contact_who_sent_stop_comes_back_with_the_reason_the_draft_and_its_cost(
    admin: Api, web: Api, conversation_id: int, twilio_api: tw.FakeTwilio
) -> None:
    channel_id = admin.get(f"/api/v1/conversations/{conversation_id}").json()["channel_id"]
    tw.post_webhook(admin, channel_id, tw.webhook("stop"))
    assert OPTED_OUT in page_of(web, conversation_id)
    draft = "Are you sure? " * 12  # 168 GSM-7 characters: two segments

    token = csrf_of(web.client.get("/inbox", headers={"accept": "text/html"}).text)
    response = web.client.post(
        f"/inbox/conversations/{conversation_id}/reply",
        data={"text": draft, "_csrf_token": token},
        headers={"accept": "text/html"},
        follow_redirects=False,
    )

    assert response.status_code == 409, response.text
    shown = html.unescape(response.text)
    assert 'role="alert" id="reply-refused">' + OPTED_OUT in shown
    assert f">{draft}</textarea>" in shown
    assert '<span class="segments">2 SMS segments</span>' in shown
    assert "lists no templates" not in shown
    assert [m["direction"] for m in thread(admin, conversation_id)] == ["in", "out"]  # the STOP's note only
    assert twilio_api.sent == []


# -- live, in Chromium -------------------------------------------------------------------------
@pytest.fixture
def server(
    db_url: str, tmp_path: Path, twilio_api: tw.FakeTwilio, monkeypatch: pytest.MonkeyPatch
) -> Iterator[LiveServer]:
    monkeypatch.setenv("FRONTDESK_TWILIO_BASE_URL", twilio_api.url)
    live = LiveServer(db_url, tmp_path / "server.log")
    live.start()
    yield live
    live.stop()


def sms_conversation(server: LiveServer) -> int:
    with api(server) as client:
        body = {"type": "twilio", "name": "SMS", "account_sid": tw.ACCOUNT_SID, "auth_token": tw.AUTH_TOKEN}
        channel = client.post("/api/v1/channels", json={**body, "from_number": tw.FROM_NUMBER}).json()
        path = f"/webhooks/twilio/{channel['id']}"
        form = tw.webhook("sms")
        headers = {"X-Twilio-Signature": tw.signature(f"{server.base_url}{path}", form)}
        headers["content-type"] = "application/x-www-form-urlencoded"
        sent = httpx.post(f"{server.base_url}{path}", content=urllib.parse.urlencode(form), headers=headers)
        assert sent.status_code == 200, sent.text
        [found] = [c for c in client.get("/api/v1/conversations").json() if c["channel_id"] == channel["id"]]
    return int(found["id"])


def test_the_segment_count_follows_what_the_agent_types(page: Page, server: LiveServer) -> None:
    conversation_id = sms_conversation(server)
    login(page, server, server.email, server.password, f"/inbox?c={conversation_id}")
    count = page.locator("#reply-segments")
    expect(count).to_contain_text("0 SMS segments")

    page.fill("#reply-text", "a" * 160)
    expect(count).to_contain_text("1 SMS segment (GSM-7, 160 of 160)")
    page.type("#reply-text", "€")
    expect(count).to_contain_text("2 SMS segments (GSM-7, 162 of 306)")
    page.fill("#reply-text", "Olá 👍")
    expect(count).to_contain_text("1 SMS segment (UCS-2, 6 of 70)")
