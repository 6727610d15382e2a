"""The 24-hour window in the inbox: the thread says plainly when a free-form reply would be
refused and offers the channel's templates; a refused reply comes back with the reason and the
draft kept; the template form sends one (through the app, against a fake Graph API)."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

from frontdesk.actions.sessions import set_password
from frontdesk.settings import Settings
from tests.channels.conversations import one_conversation
from tests.channels.whatsapp_support import FakeGraph, create_channel, payload, post_webhook
from tests.engine.support import thread
from tests.factories import Api, eventually
from tests.web.support import PASSWORD, csrf_of

WINDOW = "outside WhatsApp's 24-hour window: send a template"


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    fake = FakeGraph()
    yield fake
    fake.close()


@pytest.fixture
def settings(db_url: str, graph: FakeGraph) -> Settings:
    return Settings(
        database_url=db_url, delivery_backoff_seconds=0.05, log_format="text", whatsapp_graph_base_url=graph.url
    )


@pytest.fixture
def conversation_id(admin: Api) -> int:
    channel = create_channel(admin)
    templates = [{"name": "order_update", "language": "en_US", "parameters": 2}]
    assert admin.patch(f"/api/v1/channels/{channel['id']}", {"templates": templates}).status_code == 200
    post_webhook(admin, channel["id"], payload("text"))
    return one_conversation(admin)


@pytest.fixture
def browser_session(admin: Api) -> Api:
    """The admin's web session on the same client (cookies), and the page's CSRF token in `headers`."""
    email = "agent@window.test"
    made = admin.post("/api/v1/agents", {"name": "Window Agent", "email": email, "role": "admin"}).json()
    admin.db.write_sync(lambda c: set_password(c, made["id"], PASSWORD))
    client = admin.client
    form = {"email": email, "password": PASSWORD, "_csrf_token": csrf_of(client.get("/login").text)}
    assert client.post("/login", data=form, follow_redirects=False).status_code == 302
    return Api(client, "")


def age_inbound_messages(admin: Api, hours: float) -> None:
    when = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours)).replace(tzinfo=None).isoformat(sep=" ")
    admin.db.write_sync(
        lambda c: c.execute(text("UPDATE messages SET created_at = :at WHERE direction = 'in'"), {"at": when})
    )


def page(web: Api, conversation_id: int) -> str:
    response = web.client.get(f"/inbox?c={conversation_id}", headers={"accept": "text/html"})
    assert response.status_code == 200, response.text
    return html.unescape(response.text)


def post_form(web: Api, path: str, fields: dict[str, Any]) -> Any:
    token = csrf_of(web.client.get("/inbox", headers={"accept": "text/html"}).text)
    return web.client.post(
        path, data={**fields, "_csrf_token": token}, headers={"accept": "text/html"}, follow_redirects=False
    )


def test_within_the_window_the_thread_offers_templates_without_a_warning(
    browser_session: Api, conversation_id: int
) -> None:
    shown = page(browser_session, conversation_id)

    assert WINDOW not in shown
    assert 'action="/inbox/conversations/' in shown and "Send template" in shown
    assert "order_update (en_US) · 2 parameters" in shown


def test_outside_the_window_the_thread_says_so_before_the_agent_types(
    admin: Api, browser_session: Api, conversation_id: int
) -> None:
    age_inbound_messages(admin, 25)

    assert WINDOW in page(browser_session, conversation_id)


def test_a_refused_reply_comes_back_with_the_reason_and_the_draft(
    admin: Api, browser_session: Api, conversation_id: int, graph: FakeGraph
) -> None:
    age_inbound_messages(admin, 25)

    response = post_form(browser_session, f"/inbox/conversations/{conversation_id}/reply", {"text": "Still there?"})

    assert response.status_code == 409, response.text
    shown = html.unescape(response.text)
    assert 'role="alert" id="reply-refused">' + WINDOW in shown
    assert ">Still there?</textarea>" in shown
    assert "Send template" in shown
    assert [m["direction"] for m in thread(admin, conversation_id)] == ["in"]
    assert graph.sent == []


def test_the_template_form_sends_the_template_outside_the_window(
    admin: Api, browser_session: Api, conversation_id: int, graph: FakeGraph
) -> None:
    age_inbound_messages(admin, 25)

    response = post_form(
        browser_session,
        f"/inbox/conversations/{conversation_id}/template",
        {"template": "order_update:en_US", "parameters": "Sheena\n#1042\n"},
    )

    assert response.status_code in (302, 303), response.text
    assert thread(admin, conversation_id)[-1]["text"] == "[template order_update (en_US)] Sheena · #1042"
    [request] = eventually(lambda: graph.sent, "the send")
    assert request.body["type"] == "template" and request.problem is None
    assert "[template order_update (en_US)] Sheena · #1042" in page(browser_session, conversation_id)


def test_a_template_with_the_wrong_parameters_is_refused_on_the_thread(
    admin: Api, browser_session: Api, conversation_id: int
) -> None:
    response = post_form(
        browser_session,
        f"/inbox/conversations/{conversation_id}/template",
        {"template": "order_update:en_US", "parameters": "Sheena"},
    )

    assert response.status_code == 422, response.text
    assert "takes 2 parameter(s), not 1" in html.unescape(response.text)
    assert [m["direction"] for m in thread(admin, conversation_id)] == ["in"]


def test_outside_the_window_without_templates_the_thread_says_where_they_come_from(
    admin: Api, browser_session: Api, conversation_id: int
) -> None:
    [channel] = admin.get("/api/v1/channels").json()
    assert admin.patch(f"/api/v1/channels/{channel['id']}", {"templates": []}).status_code == 200
    age_inbound_messages(admin, 25)

    shown = page(browser_session, conversation_id)

    assert WINDOW in shown
    assert "lists no templates yet" in shown and "Send template" not in shown
