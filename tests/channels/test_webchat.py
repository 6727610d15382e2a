"""The web-chat channel's visitor API: sessions and tokens, idempotent messages, privacy between
visitors, refused input, CORS limited to the channel's allowed origins, live delivery."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient

from frontdesk.actions.conversations import add_note, send_message
from frontdesk.domain.model import SYSTEM, Actor, AuthorKind
from frontdesk.server import create_app
from frontdesk.settings import Settings
from tests.conftest import LiveServer
from tests.databases import Databases
from tests.factories import Api, make_token

SHOP = "https://shop.example"
_ids = itertools.count(1)


def webchat_channel(admin: Api, origins: list[str] | None = None) -> int:
    body = {"type": "webchat", "name": "Site chat", "allowed_origins": [SHOP] if origins is None else origins}
    response = admin.post("/api/v1/channels", body)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def declare_email(admin: Api) -> None:
    response = admin.post("/api/v1/contact-fields", {"key": "email", "label": "E-mail", "type": "email"})
    assert response.status_code == 201, response.text


class Visitor:
    """A widget: a session on one channel, and the calls it makes with its token."""

    def __init__(self, client: TestClient, channel_id: int, **profile: Any) -> None:  # type: ignore[type-arg]
        self.client = client
        self.path = f"/webchat/{channel_id}"
        self.profile = profile  # sent with each message, as the widget does: the first one keeps it
        response = client.post(f"{self.path}/session", json=profile)
        assert response.status_code == 200, response.text
        self.visitor_id: str = response.json()["visitor_id"]
        self.token: str = response.json()["token"]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def say(self, text: str, message_id: str | None = None) -> httpx.Response:
        body = {"id": message_id or f"m{next(_ids)}", "text": text, **self.profile}
        return self.client.post(f"{self.path}/messages", json=body, headers=self.headers)

    def read(self, after: int = 0, **params: Any) -> list[dict[str, Any]]:
        response = self.client.get(f"{self.path}/messages", params={"after": after, **params}, headers=self.headers)
        assert response.status_code == 200, response.text
        return list(response.json()["messages"])


@pytest.fixture
def channel_id(admin: Api) -> int:
    return webchat_channel(admin)


def _workspace(template_db: Databases, folder: Path) -> Iterator[Api]:
    url = template_db.new(folder)
    settings = Settings(
        database_url=url,
        delivery_backoff_seconds=0.05,
        log_format="text",
        media_dir=str(folder / "media"),
        # The limits per client address (per process; tests/channels/test_webchat_limits.py) would
        # count every test of the module: they all come from the test client's one address.
        webchat_address_requests_per_minute=100_000,
        webchat_address_sessions_per_hour=100_000,
    )
    with TestClient(create_app(settings)) as client:
        yield Api(client, make_token(client.app.state.db, "admin"))
    template_db.drop(url)


@pytest.fixture(scope="module")
def workspace(template_db: Databases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """One application and database for the module: its tests each make a web-chat channel of their
    own (`channel_id`) and check that channel's visitors and answers, so they need not pay for an
    application and a database each. No e-mail field is ever declared in it."""
    yield from _workspace(template_db, tmp_path_factory.mktemp("webchat"))


@pytest.fixture(scope="module")
def email_workspace(template_db: Databases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """Another, where the contact field `email` is declared (a workspace-wide setting)."""
    for admin in _workspace(template_db, tmp_path_factory.mktemp("webchat-email")):
        declare_email(admin)
        yield admin


@pytest.fixture
def client(workspace: Api) -> TestClient:  # type: ignore[type-arg]
    return workspace.client


@pytest.fixture
def admin(workspace: Api) -> Api:
    return workspace


@pytest.fixture
def fresh(settings: Settings) -> Iterator[Api]:
    """An application and database of the test's own, for what the whole workspace holds."""
    with TestClient(create_app(settings)) as client:
        yield Api(client, make_token(client.app.state.db, "admin"))


# -- sessions and tokens -----------------------------------------------------------------------
def test_a_new_session_gets_a_visitor_id_and_a_token_that_resumes_it(client: TestClient, channel_id: int) -> None:  # type: ignore[type-arg]
    visitor = Visitor(client, channel_id)

    resumed = client.post(f"/webchat/{channel_id}/session", json={}, headers=visitor.headers)

    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["visitor_id"] == visitor.visitor_id
    assert visitor.token.startswith(visitor.visitor_id + ".")
    assert resumed.json()["token"].startswith(visitor.visitor_id + ".")


def test_the_widget_may_choose_a_visitor_id_but_not_take_one_in_use(client: TestClient, channel_id: int) -> None:  # type: ignore[type-arg]
    chosen = "a" * 32
    first = client.post(f"/webchat/{channel_id}/session", json={"visitor_id": chosen})
    assert first.status_code == 200, first.text
    assert first.json()["visitor_id"] == chosen
    headers = {"Authorization": f"Bearer {first.json()['token']}"}
    wrote = client.post(f"/webchat/{channel_id}/messages", json={"id": "m1", "text": "hi"}, headers=headers)
    assert wrote.status_code == 200, wrote.text

    taken = client.post(f"/webchat/{channel_id}/session", json={"visitor_id": chosen})
    assert taken.status_code == 401
    assert taken.json()["error"] == "visitor_exists"

    resumed = client.post(f"/webchat/{channel_id}/session", json={"visitor_id": chosen}, headers=headers)
    assert resumed.status_code == 200, resumed.text


def test_a_visitor_message_opens_a_conversation_with_their_name_and_email(email_workspace: Api) -> None:
    admin = email_workspace  # the field `email` declared
    channel_id = webchat_channel(admin)
    visitor = Visitor(admin.client, channel_id, name="Ada", email="ada@example.org")

    response = visitor.say("Hello, is my order on its way?")

    assert response.status_code == 200, response.text
    message = response.json()
    assert (message["direction"], message["author_kind"], message["quick_replies"]) == ("in", "contact", [])
    conversation = admin.get(f"/api/v1/conversations/{message['conversation_id']}").json()
    contact = admin.get(f"/api/v1/contacts/{conversation['contact_id']}").json()
    assert contact["name"] == "Ada"
    assert contact["fields"] == {"email": "ada@example.org"}
    assert [i["external_id"] for i in contact["identities"]] == [visitor.visitor_id]


def test_a_name_or_email_given_later_is_kept(email_workspace: Api) -> None:
    admin, client = email_workspace, email_workspace.client  # the field `email` declared
    channel_id = webchat_channel(admin)
    visitor = Visitor(client, channel_id)
    conversation_id = visitor.say("Hi").json()["conversation_id"]

    later = {"name": "Grace", "email": "grace@example.org"}
    assert client.post(f"/webchat/{channel_id}/session", json=later, headers=visitor.headers).status_code == 200

    contact_id = admin.get(f"/api/v1/conversations/{conversation_id}").json()["contact_id"]
    contact = admin.get(f"/api/v1/contacts/{contact_id}").json()
    assert (contact["name"], contact["fields"]) == ("Grace", {"email": "grace@example.org"})


# -- idempotency -------------------------------------------------------------------------------
def test_a_retried_message_id_is_stored_once(client: TestClient, channel_id: int) -> None:  # type: ignore[type-arg]
    visitor = Visitor(client, channel_id)

    first = visitor.say("Where is my parcel?", message_id="retry-1")
    again = visitor.say("Where is my parcel?", message_id="retry-1")

    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert [m["text"] for m in visitor.read()] == ["Where is my parcel?"]


def test_two_visitors_may_choose_the_same_message_id(client: TestClient, channel_id: int) -> None:  # type: ignore[type-arg]
    ada, grace = Visitor(client, channel_id), Visitor(client, channel_id)

    from_ada = ada.say("I am Ada", message_id="same-id")
    from_grace = grace.say("I am Grace", message_id="same-id")

    assert from_grace.json()["id"] != from_ada.json()["id"]
    assert "Idempotent-Replayed" not in from_grace.headers
    assert [m["text"] for m in grace.read()] == ["I am Grace"]


# -- what a visitor may read -------------------------------------------------------------------
def test_a_visitor_reads_replies_and_questions_but_never_notes(client: TestClient, admin: Api, channel_id: int) -> None:  # type: ignore[type-arg]
    visitor = Visitor(client, channel_id)
    conversation_id = visitor.say("Hello").json()["conversation_id"]
    workflow = Actor(AuthorKind.WORKFLOW)
    admin.db.write_sync(lambda c: send_message(c, conversation_id, workflow, "Topic?", ["Sales", "Support"]))
    admin.db.write_sync(lambda c: add_note(c, conversation_id, SYSTEM, "VIP, be nice"))
    reply = admin.post(f"/api/v1/conversations/{conversation_id}/messages", {"text": "Hi, Alice here"})
    assert reply.status_code == 201

    messages = visitor.read()

    assert [(m["direction"], m["author_kind"], m["text"], m["quick_replies"]) for m in messages] == [
        ("in", "contact", "Hello", []),
        ("out", "workflow", "Topic?", ["Sales", "Support"]),
        ("out", "api", "Hi, Alice here", []),
    ]
    assert visitor.read(after=messages[0]["id"]) == messages[1:]


def test_one_visitor_cannot_read_another_visitors_messages(client: TestClient, channel_id: int) -> None:  # type: ignore[type-arg]
    ada, grace = Visitor(client, channel_id), Visitor(client, channel_id)
    ada.say("My card number is private")
    grace.say("Hello")

    assert [m["text"] for m in grace.read()] == ["Hello"]
    _, expires, mac = grace.token.split(".")
    forged = {"Authorization": f"Bearer {ada.visitor_id}.{expires}.{mac}"}  # Ada's id with Grace's proof
    response = client.get(f"/webchat/{channel_id}/messages", headers=forged)
    assert response.status_code == 401
    assert response.json()["error"] == "bad_visitor_token"


def test_a_token_of_one_channel_does_not_open_another(client: TestClient, admin: Api, channel_id: int) -> None:  # type: ignore[type-arg]
    other = webchat_channel(admin)
    visitor = Visitor(client, channel_id)

    response = client.get(f"/webchat/{other}/messages", headers=visitor.headers)

    assert response.status_code == 401


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer nonsense",
        "Bearer ",
        "Basic YWRtaW4=",
        "Bearer " + "a" * 32 + "." + "0" * 64,
        "Bearer " + "a" * 32 + ".ü",
    ],
)
def test_a_bad_token_is_refused_with_401(client: TestClient, channel_id: int, authorization: str) -> None:  # type: ignore[type-arg]
    for method, path in [("GET", "messages"), ("POST", "messages"), ("GET", "stream"), ("POST", "session")]:
        body = {"id": "m1", "text": "hi"} if path == "messages" else {}
        response = client.request(
            method,
            f"/webchat/{channel_id}/{path}",
            headers={"Authorization": authorization.encode()},
            content=json.dumps(body) if method == "POST" else None,
        )
        assert response.status_code == 401, (method, path, response.text)


def test_unknown_and_non_webchat_channels_are_not_found(client: TestClient, admin: Api) -> None:  # type: ignore[type-arg]
    api_channel = admin.channel()["id"]
    for channel in [999_999, api_channel, 0, 2**70]:
        response = client.post(f"/webchat/{channel}/session", json={})
        assert response.status_code == 404, (channel, response.text)
        assert response.json()["error"] == "webchat_channel_not_found"


# -- refused input ---------------------------------------------------------------------------
SESSION_PROBLEMS = [
    ({"visitor_id": "short"}, 400, "visitor_id"),
    ({"visitor_id": "x" * 65}, 400, "visitor_id"),
    ({"visitor_id": "has spaces in it, sixteen+"}, 400, "visitor_id"),
    ({"name": ""}, 400, "name"),
    ({"name": "x" * 201}, 400, "name"),
    ({"email": 5}, 400, "email"),
    ({"email": "not an e-mail"}, 422, "email"),
    ({"colour": "blue"}, 400, "colour"),
    ([], 400, "body"),
]


@pytest.mark.parametrize(("body", "status", "field"), SESSION_PROBLEMS)
def test_bad_session_input_is_refused_naming_the_field(
    email_workspace: Api, body: Any, status: int, field: str
) -> None:
    client = email_workspace.client  # the field `email` declared
    channel_id = webchat_channel(email_workspace)
    response = client.post(f"/webchat/{channel_id}/session", json=body)

    assert response.status_code == status, response.text
    assert field in response.text


def test_an_email_needs_a_declared_email_field(client: TestClient, channel_id: int) -> None:  # type: ignore[type-arg]
    response = client.post(f"/webchat/{channel_id}/session", json={"email": "ada@example.org"})

    assert response.status_code == 422
    assert (response.json()["error"], response.json()["field"]) == ("no_email_field", "email")


MESSAGE_PROBLEMS = [
    ({}, 400, "id"),
    ({"id": "m1"}, 400, "text"),
    ({"id": "with space", "text": "hi"}, 400, "id"),
    ({"id": "x" * 101, "text": "hi"}, 400, "id"),
    ({"id": "m1", "text": ""}, 400, "text"),
    ({"id": "m1", "text": "   "}, 422, "text"),
    ({"id": "m1", "text": "x" * 10_001}, 400, "text"),
    ({"id": "m1", "text": ["hi"]}, 400, "text"),
]


@pytest.mark.parametrize(("body", "status", "field"), MESSAGE_PROBLEMS)
def test_bad_message_input_is_refused_naming_the_field(
    client: TestClient,  # type: ignore[type-arg]
    channel_id: int,
    body: Any,
    status: int,
    field: str,
) -> None:
    visitor = Visitor(client, channel_id)

    response = client.post(f"/webchat/{channel_id}/messages", json=body, headers=visitor.headers)

    assert response.status_code == status, response.text
    assert field in response.text
    assert visitor.read() == []


@pytest.mark.parametrize("query", ["after=-1", "after=x", "limit=0", "limit=101", "wait=31", f"after={2**64}"])
def test_bad_read_parameters_are_refused_with_400(client: TestClient, channel_id: int, query: str) -> None:  # type: ignore[type-arg]
    visitor = Visitor(client, channel_id)

    response = client.get(f"/webchat/{channel_id}/messages?{query}", headers=visitor.headers)

    assert response.status_code == 400, response.text
    assert query.split("=")[0] in response.text


def test_malformed_json_is_a_400(client: TestClient, channel_id: int) -> None:  # type: ignore[type-arg]
    response = client.post(
        f"/webchat/{channel_id}/session", content=b"{not json", headers={"content-type": "application/json"}
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_json"


# -- channels and origins ------------------------------------------------------------------------
def test_a_webchat_channel_keeps_its_allowed_origins_normalised(admin: Api) -> None:
    body = {"type": "webchat", "name": "Chat", "allowed_origins": ["HTTPS://Shop.Example/", "http://localhost:3000"]}
    created = admin.post("/api/v1/channels", body)

    assert created.status_code == 201, created.text
    assert created.json()["type"] == "webchat"
    assert created.json()["config"] == {"allowed_origins": ["http://localhost:3000", "https://shop.example"]}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "webchat", "name": "C", "allowed_origins": ["shop.example"]}, "allowed_origins"),
        ({"type": "webchat", "name": "C", "allowed_origins": ["https://shop.example/path"]}, "allowed_origins"),
        ({"type": "webchat", "name": "C", "allowed_origins": "https://shop.example"}, "allowed_origins"),
        ({"type": "webchat", "name": "C", "callback_url": "https://shop.example/hook"}, "callback_url"),
        ({"type": "api", "name": "C", "allowed_origins": ["https://shop.example"]}, "allowed_origins"),
    ],
)
def test_channel_settings_of_the_wrong_shape_or_type_are_refused(admin: Api, body: dict[str, Any], field: str) -> None:
    response = admin.post("/api/v1/channels", body)

    assert 400 <= response.status_code < 500, response.text
    assert field in response.text


def test_cors_answers_only_the_allowed_origins(client: TestClient, channel_id: int) -> None:  # type: ignore[type-arg]
    path = f"/webchat/{channel_id}/messages"
    preflight = {
        "Origin": SHOP,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization",
    }

    allowed = client.options(path, headers=preflight)
    assert allowed.status_code == 204
    assert allowed.headers["access-control-allow-origin"] == SHOP
    assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
    assert "POST" in allowed.headers["access-control-allow-methods"]

    session = client.post(f"/webchat/{channel_id}/session", json={}, headers={"Origin": SHOP})
    assert session.status_code == 200
    assert session.headers["access-control-allow-origin"] == SHOP
    assert "Origin" in session.headers["vary"]

    refused = client.options(path, headers={**preflight, "Origin": "https://evil.example"})
    assert refused.status_code == 403
    assert "access-control-allow-origin" not in refused.headers
    posted = client.post(f"/webchat/{channel_id}/session", json={}, headers={"Origin": "https://evil.example"})
    assert (posted.status_code, posted.json()["error"]) == (403, "origin_not_allowed")
    assert "access-control-allow-origin" not in posted.headers

    no_origin = client.post(f"/webchat/{channel_id}/session", json={})  # a server, not a browser
    assert no_origin.status_code == 200
    assert "access-control-allow-origin" not in no_origin.headers


def test_error_answers_to_an_allowed_origin_carry_cors_headers(client: TestClient, channel_id: int) -> None:  # type: ignore[type-arg]
    response = client.get(f"/webchat/{channel_id}/messages", headers={"Origin": SHOP, "Authorization": "Bearer x"})

    assert response.status_code == 401
    assert response.headers["access-control-allow-origin"] == SHOP  # so the widget can read why


def test_frontdesks_own_pages_may_use_any_channel(client: TestClient, admin: Api) -> None:  # type: ignore[type-arg]
    channel = webchat_channel(admin, origins=[])

    response = client.post(f"/webchat/{channel}/session", json={}, headers={"Origin": "http://testserver.local"})

    assert response.status_code == 200, response.text


# -- live delivery -----------------------------------------------------------------------------
def test_a_long_poll_returns_with_the_agents_reply(client: TestClient, admin: Api, channel_id: int) -> None:  # type: ignore[type-arg]
    visitor = Visitor(client, channel_id)
    mine = visitor.say("Anyone there?").json()
    answers: list[list[dict[str, Any]]] = []
    poll = threading.Thread(target=lambda: answers.append(visitor.read(after=mine["id"], wait=20)))
    poll.start()

    reply = admin.post(f"/api/v1/conversations/{mine['conversation_id']}/messages", {"text": "Yes, Alice here."})
    poll.join(30)

    assert reply.status_code == 201
    assert [m["text"] for m in answers[0]] == ["Yes, Alice here."]


def test_the_event_stream_sends_the_workflow_greeting_as_it_happens(live_server: LiveServer) -> None:
    channels = httpx.get(f"{live_server.base_url}/api/v1/channels", headers=live_server.headers).json()
    channel = next(c["id"] for c in channels if c["type"] == "webchat")  # the demo has one
    base = f"{live_server.base_url}/webchat/{channel}"
    session = httpx.post(f"{base}/session", json={"name": "Ada"}).json()
    headers = {"Authorization": f"Bearer {session['token']}"}

    # The first message makes the visitor (a stream before it is 404); the stream sends what
    # came after its cursor, then each message as it is committed.
    posted = httpx.post(f"{base}/messages", json={"id": "hello-1", "text": "Hello", "name": "Ada"}, headers=headers)
    assert posted.status_code == 200, posted.text
    received: list[dict[str, Any]] = []
    with httpx.stream("GET", f"{base}/stream", params={"token": session["token"]}, timeout=30) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.iter_lines()
        assert next(lines) == "event: ready"
        event = ""
        for line in lines:
            event = line[7:] if line.startswith("event: ") else event
            if event == "message" and line.startswith("data: "):
                received.append(json.loads(line[6:]))
            if any(m["quick_replies"] for m in received):
                break

    assert received[0]["text"] == "Hello"
    assert "Hello Ada" in received[1]["text"]  # the demo workflow greets by name...
    assert received[-1]["quick_replies"] == ["Sales", "Support", "Billing"]  # ...and asks
    assert httpx.get(f"{base}/messages", headers=headers).json()["messages"] == received  # reading agrees


def test_the_demo_page_embeds_the_widget_and_the_script_is_javascript(client: TestClient, channel_id: int) -> None:  # type: ignore[type-arg]
    page = client.get(f"/widget/demo?channel={channel_id}")
    assert page.status_code == 200
    assert f'data-channel="{channel_id}"' in page.text

    script = client.get("/static/widget.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert "innerHTML" not in script.text


def test_the_demo_page_explains_when_there_is_no_webchat_channel(fresh: Api) -> None:
    admin, client = fresh, fresh.client  # a workspace with no web-chat channel at all
    api_channel = admin.channel()["id"]

    assert client.get("/widget/demo").status_code == 404
    missing = client.get(f"/widget/demo?channel={api_channel}")
    assert missing.status_code == 404
    assert "No web chat channel" in missing.text
    assert client.get("/widget/demo?channel=abc").status_code == 400
