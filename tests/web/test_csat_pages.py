"""CSAT in the pages, in process: the admin's channel page switches the survey on and off; the
contact's survey page escapes what it echoes; the inbox shows a conversation's rating and comment."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from litestar.testing import TestClient

from frontdesk.actions.sessions import set_password
from frontdesk.engine.reports import fold_events
from tests.factories import Api, make_agent
from tests.web.support import PASSWORD, csrf_of


def _log_in(client: TestClient, admin: Api) -> None:  # type: ignore[type-arg]
    email = "csat-admin@example.test"
    agent_id = make_agent(admin.db, "admin", email=email)
    admin.db.write_sync(lambda c: set_password(c, agent_id, PASSWORD))
    form = {"email": email, "password": PASSWORD, "_csrf_token": csrf_of(client.get("/login").text)}
    assert client.post("/login", data=form, follow_redirects=False).status_code == 302


def _save(client: TestClient, channel: int, **fields: str) -> None:  # type: ignore[type-arg]
    page = client.get(f"/admin/channels/{channel}").text
    form = {"name": "Shop", "callback_url": "", "_csrf_token": csrf_of(page), **fields}
    assert client.post(f"/admin/channels/{channel}", data=form, follow_redirects=False).status_code == 303


def test_the_channel_page_switches_the_survey_on_and_off(client: TestClient, admin: Api) -> None:  # type: ignore[type-arg]
    channel = admin.channel()["id"]
    _log_in(client, admin)
    assert 'name="csat_survey" >' in client.get(f"/admin/channels/{channel}").text  # unticked

    _save(client, channel, csat_survey="on")
    assert admin.get(f"/api/v1/channels/{channel}").json()["csat_survey"] is True
    assert 'name="csat_survey" checked>' in client.get(f"/admin/channels/{channel}").text

    _save(client, channel)  # an unticked box is not sent
    assert admin.get(f"/api/v1/channels/{channel}").json()["csat_survey"] is False


def test_the_survey_page_escapes_and_the_inbox_shows_the_rating(client: TestClient, admin: Api) -> None:  # type: ignore[type-arg]
    channel = admin.channel()["id"]
    admin.patch(f"/api/v1/channels/{channel}", {"csat_survey": True})
    conversation = admin.inbound(channel, "ada").json()["conversation_id"]
    assert admin.post(f"/api/v1/conversations/{conversation}/close", {}).status_code == 200
    texts = [m["text"] or "" for m in admin.get(f"/api/v1/conversations/{conversation}/messages").json()]
    path = re.search(r"(/csat/\S+)$", next(t for t in texts if "/csat/" in t))[1]  # type: ignore[index]

    refused = client.post(path, data={"rating": "", "comment": "<script>x()</script>"})
    assert refused.status_code == 400
    assert "&lt;script&gt;x()&lt;/script&gt;" in refused.text and "<script>x()" not in refused.text
    assert client.post(path, data={"rating": "5", "comment": "<i>Lovely</i>"}).status_code == 200

    _log_in(client, admin)
    inbox = client.get(f"/inbox?status=closed&c={conversation}").text
    ratings = re.search(r'<ul id="ratings">(.*?)</ul>', inbox, re.S)
    assert ratings and "5/5" in ratings[1]
    assert "&lt;i&gt;Lovely&lt;/i&gt;" in ratings[1] and "<i>Lovely" not in ratings[1]
    while admin.db.write_sync(lambda c: fold_events(c, ZoneInfo("UTC"))):
        pass
    report = client.get("/reports").text
    assert re.search(r'id="csat-responses">1<', report) and re.search(r'id="csat-satisfied">100%<', report)
